/**
 * The file modules (src/modules/files) on real sshd test hosts and over the local transport, through a real
 * ModuleContext. Every scenario runs on five targets — ssh as root, as `tester` with a sudo password
 * (become), as `nopass` with NOPASSWD sudo (become), as `tester` without become, and locally — and goes
 * through `cycle` (test/support/modules-files-kit.ts): check mode reports the change and leaves the target
 * untouched (verified as root, not through the transport), the real run with --diff changes it, the second
 * run is ok, and check mode afterwards is ok.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_MODULES } from '../../src/modules/files/index.js';
import type { FileDiff, Module } from '../../src/modules/types.js';
import { Connections } from '../../src/transport/index.js';
import { cycle, localTarget, readAs, run, snapshot, sshTarget, statOf, type Target, write } from '../support/modules-files-kit.js';
import { startHosts, type TestCluster, type TestHost } from '../support/testhosts.js';

const M = new Map(FILE_MODULES.map((m) => [m.name, m]));
const mod = (n: string): Module => {
  const m = M.get(n);
  if (!m) throw new Error(`no module ${n}`);
  return m;
};

let cluster: TestCluster;
let h: TestHost;
let conns: Connections;
let base: string;
const targets = new Map<string, Target>();
const LABELS = ['ssh root', 'ssh tester+become', 'ssh nopass+become', 'ssh tester', 'local'] as const;

beforeAll(async () => {
  cluster = await startHosts({ count: 1, namePrefix: 'mfile' });
  h = cluster.hosts[0]!;
  conns = new Connections({ knownHostsFile: cluster.knownHostsFile, hostKeyChecking: 'strict', agent: false, connectTimeout: 10 });
  targets.set('ssh root', await sshTarget(cluster, conns, h, 'root', false));
  targets.set('ssh tester+become', await sshTarget(cluster, conns, h, 'tester', true));
  targets.set('ssh nopass+become', await sshTarget(cluster, conns, h, 'nopass', true));
  targets.set('ssh tester', await sshTarget(cluster, conns, h, 'tester', false));
  targets.set('local', localTarget());
  // the controller side: a role-like dir with files/ and templates/
  base = mkdtempSync(join(tmpdir(), 'mf-ctl-'));
  mkdirSync(join(base, 'files', 'tree', 'sub', 'deep'), { recursive: true });
  mkdirSync(join(base, 'files', 'tree', 'empty'), { recursive: true });
  mkdirSync(join(base, 'templates'));
  writeFileSync(join(base, 'files', 'app.conf'), 'listen 8080\nworkers 4\n');
  writeFileSync(join(base, 'files', 'tree', 'a.txt'), 'A\n');
  writeFileSync(join(base, 'files', 'tree', 'sub', 'b.txt'), 'B\n');
  writeFileSync(join(base, 'files', 'tree', 'sub', 'deep', 'c.bin'), Buffer.from([0, 1, 2, 255, 0, 10]));
  writeFileSync(join(base, 'templates', 'site.conf.j2'), '# {{ ansible_managed | default("managed") }}\nserver {{ name }}:{{ port }}\n{% for u in upstreams %}\nupstream {{ u }}\n{% endfor %}\n');
  writeFileSync(join(base, 'templates', 'ls.j2'), 'x:\n  {% if on %}\n  y\n  {% endif %}\n');
}, 180_000);

afterAll(async () => {
  await conns?.closeAll();
  await cluster?.stop();
  for (const t of targets.values()) if (t.label === 'local') rmSync(t.dir, { recursive: true, force: true });
  if (base) rmSync(base, { recursive: true, force: true });
}, 60_000);

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
const T = (label: string): Target => targets.get(label)!;
const isRoot = (t: Target): boolean => t.runsAs === 'root';
const diffOf = (d: unknown): FileDiff[] => (Array.isArray(d) ? (d as FileDiff[]) : d ? [d as FileDiff] : []);

describe.each(LABELS)('%s', (label) => {
  // ───────────────────────────── file ─────────────────────────────
  it('file: state=directory creates every missing level with the mode (symbolic), then ok', async () => {
    const t = T(label);
    const p = `${t.dir}/d1/a/b`;
    const c = await cycle(mod('file'), { path: p, state: 'directory', mode: 'u=rwx,g=rx,o=' }, t);
    expect(await statOf(t, `${t.dir}/d1`)).toMatch(/^directory 750 /);
    expect(await statOf(t, p)).toMatch(new RegExp(`^directory 750 ${t.runsAs} `));
    expect(c.run1).toMatchObject({ path: p, state: 'directory', mode: '0750', owner: t.runsAs });
    expect(diffOf(c.run1.diff)[0]).toMatchObject({ before: expect.stringContaining('state: absent'), after: expect.stringContaining('state: directory') });
  });

  it('file: attributes of an existing file (octal string, int); state=file on a missing path fails with a hint', async () => {
    const t = T(label);
    await write(t, `${t.dir}/f1`, 'x', '600');
    const c = await cycle(mod('file'), { path: `${t.dir}/f1`, mode: '0644' }, t);
    expect(diffOf(c.run1.diff)[0]).toMatchObject({ before: expect.stringContaining('mode: 0600'), after: expect.stringContaining('mode: 0644') });
    await cycle(mod('file'), { path: `${t.dir}/f1`, state: 'file', mode: 0o640 }, t);
    expect(await statOf(t, `${t.dir}/f1`)).toMatch(/^regular file 640 /);
    const bad = await run(mod('file'), { path: `${t.dir}/nope`, state: 'file' }, t);
    expect(bad).toMatchObject({ failed: true, changed: false });
    expect(String(bad.msg)).toContain(`file (${t.dir}/nope) is absent, cannot continue`);
    expect(String(bad.msg)).toContain('state=touch');
  });

  it('file: owner/group (root targets) and recurse', async () => {
    const t = T(label);
    await write(t, `${t.dir}/r1/x/y.txt`, 'y');
    await write(t, `${t.dir}/r1/z.txt`, 'z', '600');
    const args: Record<string, unknown> = { path: `${t.dir}/r1`, state: 'directory', recurse: true, mode: 'u+rwX,g+rX,o-rwx' };
    if (isRoot(t)) Object.assign(args, { owner: 'nobody', group: 'nogroup' });
    await cycle(mod('file'), args, t);
    expect(await statOf(t, `${t.dir}/r1/x/y.txt`)).toMatch(isRoot(t) ? /^regular file 640 nobody nogroup/ : /^regular file 640 tester/);
    expect(await statOf(t, `${t.dir}/r1/z.txt`)).toMatch(/^regular file 640 /);
    expect(await statOf(t, `${t.dir}/r1/x`)).toMatch(/^directory 750 /);
  });

  it('file: touch creates (Ansible: touch always reports changed); access/modification_time preserve makes it idempotent', async () => {
    const t = T(label);
    const p = `${t.dir}/touched`;
    const r1 = await run(mod('file'), { path: p, state: 'touch', mode: '0600' }, t);
    expect(r1).toMatchObject({ changed: true, dest: p, mode: '0600', state: 'file' });
    expect((await run(mod('file'), { path: p, state: 'touch' }, t)).changed).toBe(true);
    await cycle(mod('file'), { path: `${t.dir}/touched2`, state: 'touch', modification_time: 'preserve', access_time: 'preserve' }, t);
    await cycle(mod('file'), { path: p, state: 'touch', modification_time: '202001021530.45', access_time: 'preserve' }, t);
    const st = await t.root(`stat -c %y ${p}`);
    expect(st.stdout).toContain('2020-01-02 15:30:45');
  });

  it('file: state=link / hard, replacing links atomically, force rules', async () => {
    const t = T(label);
    await write(t, `${t.dir}/ln/target1`, 'one');
    await write(t, `${t.dir}/ln/target2`, 'two');
    const l = `${t.dir}/ln/link`;
    const c = await cycle(mod('file'), { path: l, src: `${t.dir}/ln/target1`, state: 'link' }, t);
    expect(c.run1).toMatchObject({ dest: l, src: `${t.dir}/ln/target1`, state: 'link' });
    await cycle(mod('file'), { path: l, src: 'target2', state: 'link' }, t);
    expect((await t.root(`readlink ${l}`)).stdout.trim()).toBe('target2');
    const refuse = await run(mod('file'), { path: `${t.dir}/ln/target1`, src: 'target2', state: 'link' }, t);
    expect(refuse).toMatchObject({ failed: true });
    expect(String(refuse.msg)).toContain('refusing to convert from file to symlink');
    const dangling = await run(mod('file'), { path: `${t.dir}/ln/dl`, src: '/no/such', state: 'link' }, t);
    expect(String(dangling.msg)).toContain('src file does not exist');
    await cycle(mod('file'), { path: `${t.dir}/ln/dl`, src: '/no/such', state: 'link', force: true }, t);
    await cycle(mod('file'), { path: `${t.dir}/ln/hard`, src: `${t.dir}/ln/target1`, state: 'hard' }, t);
    expect((await t.root(`stat -c %h ${t.dir}/ln/target1`)).stdout.trim()).toBe('2');
  });

  it('file: state=absent removes trees (diff lists the content)', async () => {
    const t = T(label);
    await write(t, `${t.dir}/gone/a/b.txt`, 'b');
    const c = await cycle(mod('file'), { path: `${t.dir}/gone`, state: 'absent' }, t);
    expect(await statOf(t, `${t.dir}/gone`)).toBe('absent');
    expect(diffOf(c.check1.diff)[0]!.before).toContain(`${t.dir}/gone/a/b.txt`);
  });

  // ───────────────────────────── copy ─────────────────────────────
  it('copy: content with mode (+ owner/group as root); diff shows before/after; unchanged content is ok', async () => {
    const t = T(label);
    const args: Record<string, unknown> = { content: 'secret=1\n', dest: `${t.dir}/c1.conf`, mode: '0640' };
    if (isRoot(t)) Object.assign(args, { owner: 'nobody', group: 'nogroup' });
    const c = await cycle(mod('copy'), args, t);
    expect(await readAs(t, `${t.dir}/c1.conf`)).toBe('secret=1\n');
    expect(await statOf(t, `${t.dir}/c1.conf`)).toMatch(isRoot(t) ? /^regular file 640 nobody nogroup 9$/ : /^regular file 640 tester/);
    expect(c.run1).toMatchObject({ dest: `${t.dir}/c1.conf`, checksum: sha1('secret=1\n'), mode: '0640' });
    expect(diffOf(c.run1.diff)[0]).toMatchObject({ before: '', after: 'secret=1\n', before_header: `${t.dir}/c1.conf` });
    // changing content of an existing file keeps its mode/owner; backup keeps the old one
    const r = await run(mod('copy'), { content: 'secret=2\n', dest: `${t.dir}/c1.conf`, backup: true }, t, { diff: true });
    expect(r).toMatchObject({ changed: true });
    expect(r.backup_file).toMatch(new RegExp(`^${t.dir}/c1\\.conf\\.\\d+\\.\\d{4}-\\d\\d-\\d\\d@\\d\\d:\\d\\d:\\d\\d~$`));
    expect(await readAs(t, String(r.backup_file))).toBe('secret=1\n');
    expect(await statOf(t, `${t.dir}/c1.conf`)).toMatch(isRoot(t) ? /^regular file 640 nobody nogroup/ : /^regular file 640 tester/);
    expect(diffOf(r.diff)[0]).toMatchObject({ before: 'secret=1\n', after: 'secret=2\n' });
    // the content never appears in messages
    const bad = await run(mod('copy'), { content: 'top-secret-value', dest: `${t.dir}/no/such/dir/x` }, t);
    expect(bad.failed).toBe(true);
    expect(String(bad.msg)).toContain(`Destination directory ${t.dir}/no/such/dir does not exist`);
    expect(JSON.stringify(bad)).not.toContain('top-secret-value');
  });

  it('copy: a controller file into a directory dest with a trailing slash (created), then attributes only', async () => {
    const t = T(label);
    const c = await cycle(mod('copy'), { src: 'app.conf', dest: `${t.dir}/etc/app/`, mode: 'u=rw,g=r,o=' }, t, { baseDir: base });
    expect(c.run1).toMatchObject({ dest: `${t.dir}/etc/app/app.conf`, checksum: sha1('listen 8080\nworkers 4\n') });
    expect(await readAs(t, `${t.dir}/etc/app/app.conf`)).toBe('listen 8080\nworkers 4\n');
    expect(await statOf(t, `${t.dir}/etc/app/app.conf`)).toMatch(/^regular file 640 /);
    // into an existing directory without the slash: the file name is appended
    await cycle(mod('copy'), { src: 'app.conf', dest: `${t.dir}/etc/app`, mode: '0600' }, t, { baseDir: base });
    expect(await statOf(t, `${t.dir}/etc/app/app.conf`)).toMatch(/^regular file 600 /);
    const missing = await run(mod('copy'), { src: 'nope.conf', dest: `${t.dir}/x` }, t, { baseDir: base });
    expect(missing).toMatchObject({ failed: true });
    expect(String(missing.msg)).toContain('could not find src=nope.conf');
  });

  it('copy: a controller directory (with and without trailing slash), directory_mode; binary content', async () => {
    const t = T(label);
    const c = await cycle(mod('copy'), { src: 'tree', dest: `${t.dir}/t1`, directory_mode: '0750' }, t, { baseDir: base });
    expect(c.run1.changed).toBe(true);
    expect(await readAs(t, `${t.dir}/t1/tree/sub/b.txt`)).toBe('B\n');
    expect((await t.root(`od -An -tx1 ${t.dir}/t1/tree/sub/deep/c.bin`)).stdout.replace(/\s+/g, '')).toBe('000102ff000a');
    expect(await statOf(t, `${t.dir}/t1/tree/empty`)).toMatch(/^directory 750 /);
    await cycle(mod('copy'), { src: 'tree/', dest: `${t.dir}/t2/` }, t, { baseDir: base });
    expect(await readAs(t, `${t.dir}/t2/a.txt`)).toBe('A\n');
  });

  it('copy: validate (%s) gates the write; remote_src; force=no keeps an existing file; follow writes through a link', async () => {
    const t = T(label);
    const bad = await run(mod('copy'), { content: 'bad\n', dest: `${t.dir}/v.conf`, validate: 'grep -q good %s' }, t);
    expect(bad).toMatchObject({ failed: true });
    expect(String(bad.msg)).toContain('failed to validate');
    expect(await statOf(t, `${t.dir}/v.conf`)).toBe('absent');
    expect((await t.root(`ls -A ${t.dir} | grep -c burrow || true`)).stdout.trim()).toBe('0');
    await cycle(mod('copy'), { content: 'good\n', dest: `${t.dir}/v.conf`, validate: 'grep -q good %s' }, t);
    await write(t, `${t.dir}/rs/src.txt`, 'remote\n', '755');
    const c = await cycle(mod('copy'), { src: `${t.dir}/rs/src.txt`, dest: `${t.dir}/rs/dst.txt`, remote_src: true, mode: 'preserve' }, t);
    expect(c.run1).toMatchObject({ mode: '0755' });
    expect(await readAs(t, `${t.dir}/rs/dst.txt`)).toBe('remote\n');
    await write(t, `${t.dir}/rs/tree/x/y.txt`, 'y\n');
    await write(t, `${t.dir}/rs/tree/z.txt`, 'z\n');
    await cycle(mod('copy'), { src: `${t.dir}/rs/tree`, dest: `${t.dir}/rs/copy`, remote_src: true }, t, { watch: `${t.dir}/rs/copy` });
    expect(await readAs(t, `${t.dir}/rs/copy/tree/x/y.txt`)).toBe('y\n');
    await write(t, `${t.dir}/rs/tree/z.txt`, 'z2\n');
    expect((await run(mod('copy'), { src: `${t.dir}/rs/tree/`, dest: `${t.dir}/rs/copy/tree`, remote_src: true }, t)).changed).toBe(true);
    expect(await readAs(t, `${t.dir}/rs/copy/tree/z.txt`)).toBe('z2\n');
    const keep = await run(mod('copy'), { content: 'other\n', dest: `${t.dir}/rs/dst.txt`, force: false }, t);
    expect(keep).toMatchObject({ changed: false });
    expect(await readAs(t, `${t.dir}/rs/dst.txt`)).toBe('remote\n');
    await t.root(`ln -s dst.txt ${t.dir}/rs/lnk`);
    await cycle(mod('copy'), { content: 'via link\n', dest: `${t.dir}/rs/lnk`, follow: true }, t);
    expect(await readAs(t, `${t.dir}/rs/dst.txt`)).toBe('via link\n');
    expect((await t.root(`readlink ${t.dir}/rs/lnk`)).stdout.trim()).toBe('dst.txt');
  });

  // ───────────────────────────── template ─────────────────────────────
  it('template: renders with the task variables, mode, diff header; lstrip_blocks option', async () => {
    const t = T(label);
    const vars = { name: 'web', port: 8443, upstreams: ['a', 'b'] };
    const c = await cycle(mod('template'), { src: 'site.conf.j2', dest: `${t.dir}/site.conf`, mode: '0600' }, t, { baseDir: base, vars });
    expect(await readAs(t, `${t.dir}/site.conf`)).toBe('# managed\nserver web:8443\nupstream a\nupstream b\n');
    expect(diffOf(c.run1.diff)[0]).toMatchObject({ after_header: join(base, 'templates', 'site.conf.j2') });
    const r = await run(mod('template'), { src: 'site.conf.j2', dest: `${t.dir}/site.conf`, mode: '0600' }, t, { baseDir: base, vars: { ...vars, port: 9000 } });
    expect(r.changed).toBe(true);
    await cycle(mod('template'), { src: 'ls.j2', dest: `${t.dir}/ls.txt`, lstrip_blocks: true }, t, { baseDir: base, vars: { on: true } });
    expect(await readAs(t, `${t.dir}/ls.txt`)).toBe('x:\n  y\n');
    const err = await run(mod('template'), { src: 'site.conf.j2', dest: `${t.dir}/e.conf` }, t, { baseDir: base, vars: {} });
    expect(err.failed).toBe(true);
    expect(String(err.msg)).toMatch(/name|undefined/);
  });

  // ───────────────────────────── lineinfile / blockinfile / replace ─────────────────────────────
  it('lineinfile: replace by regexp, insert after/before, BOF, backrefs, absent, create', async () => {
    const t = T(label);
    const p = `${t.dir}/sshd_config`;
    await write(t, p, '#Port 22\nPermitRootLogin yes\nUsePAM yes\n');
    const c = await cycle(mod('lineinfile'), { path: p, regexp: '^#?Port ', line: 'Port 2222' }, t);
    expect(c.run1).toMatchObject({ msg: 'line replaced' });
    expect(diffOf(c.run1.diff)[0]).toMatchObject({ before: '#Port 22\nPermitRootLogin yes\nUsePAM yes\n', after: 'Port 2222\nPermitRootLogin yes\nUsePAM yes\n' });
    await cycle(mod('lineinfile'), { path: p, line: 'ListenAddress 0.0.0.0', insertafter: '^Port' }, t);
    await cycle(mod('lineinfile'), { path: p, line: '# managed', insertbefore: 'BOF' }, t);
    await cycle(mod('lineinfile'), { path: p, regexp: '^(PermitRootLogin) yes$', line: '\\1 no', backrefs: true }, t);
    await cycle(mod('lineinfile'), { path: p, regexp: '^UsePAM', state: 'absent' }, t);
    expect(await readAs(t, p)).toBe('# managed\nPort 2222\nListenAddress 0.0.0.0\nPermitRootLogin no\n');
    const nofile = await run(mod('lineinfile'), { path: `${t.dir}/none`, line: 'x' }, t);
    expect(nofile).toMatchObject({ failed: true, rc: 257 });
    expect(String(nofile.msg)).toContain(`Destination ${t.dir}/none does not exist`);
    await cycle(mod('lineinfile'), { path: `${t.dir}/new/dir/file`, line: 'x=1', create: true, mode: '0600' }, t);
    expect(await statOf(t, `${t.dir}/new/dir/file`)).toMatch(/^regular file 600 /);
  });

  it('blockinfile: insert, update in place, custom marker, insertbefore, remove', async () => {
    const t = T(label);
    const p = `${t.dir}/hosts`;
    await write(t, p, '127.0.0.1 localhost\n::1 localhost\n');
    const c = await cycle(mod('blockinfile'), { path: p, block: '10.0.0.1 a\n10.0.0.2 b' }, t);
    expect(c.run1).toMatchObject({ msg: 'Block inserted' });
    expect(await readAs(t, p)).toBe('127.0.0.1 localhost\n::1 localhost\n# BEGIN ANSIBLE MANAGED BLOCK\n10.0.0.1 a\n10.0.0.2 b\n# END ANSIBLE MANAGED BLOCK\n');
    await cycle(mod('blockinfile'), { path: p, block: '10.0.0.3 c' }, t);
    await cycle(mod('blockinfile'), { path: p, block: 'x', marker: '## {mark} extra', insertbefore: '^::1' }, t);
    expect(await readAs(t, p)).toBe('127.0.0.1 localhost\n## BEGIN extra\nx\n## END extra\n::1 localhost\n# BEGIN ANSIBLE MANAGED BLOCK\n10.0.0.3 c\n# END ANSIBLE MANAGED BLOCK\n');
    await cycle(mod('blockinfile'), { path: p, state: 'absent' }, t);
    await cycle(mod('blockinfile'), { path: `${t.dir}/nb.txt`, block: 'new', create: true }, t);
  });

  it('replace: Python-regex replace with groups, after/before section, backup', async () => {
    const t = T(label);
    const p = `${t.dir}/app.ini`;
    await write(t, p, '[a]\nport = 80\nhost = x\n[b]\nport = 81\n');
    const c = await cycle(mod('replace'), { path: p, regexp: '^(port) = 8(\\d)$', replace: '\\1 = 9\\2', after: '\\[b\\]' }, t);
    expect(c.run1).toMatchObject({ msg: '1 replacements made' });
    expect(await readAs(t, p)).toBe('[a]\nport = 80\nhost = x\n[b]\nport = 91\n');
    const b = await run(mod('replace'), { path: p, regexp: '^host = (?P<h>\\w+)$', replace: 'host = \\g<h>\\g<h>', backup: true }, t);
    expect(b.changed).toBe(true);
    expect(await readAs(t, String(b.backup_file))).toContain('host = x\n');
    expect(await readAs(t, p)).toContain('host = xx\n');
    const missing = await run(mod('replace'), { path: `${t.dir}/none.ini`, regexp: 'a' }, t);
    expect(missing).toMatchObject({ failed: true, rc: 257 });
  });

  // ───────────────────────────── stat / slurp / fetch ─────────────────────────────
  it('stat / slurp: values match the target; read-only, also in check mode', async () => {
    const t = T(label);
    await write(t, `${t.dir}/s.txt`, 'hello\n', '640');
    await t.root(`ln -sf s.txt ${t.dir}/s.lnk`);
    const before = await snapshot(t, t.dir);
    for (const check of [false, true]) {
      const s = await run(mod('stat'), { path: `${t.dir}/s.txt` }, t, { check });
      expect(s.changed).toBe(false);
      expect(s.stat).toMatchObject({ exists: true, isreg: true, isdir: false, mode: '0640', pw_name: t.runsAs, size: 6, checksum: 'f572d396fae9206628714fb2ce00f72e94f2258f', readable: true });
      const l = await run(mod('stat'), { path: `${t.dir}/s.lnk` }, t, { check });
      expect(l.stat).toMatchObject({ exists: true, islnk: true, lnk_target: 's.txt', lnk_source: `${t.dir}/s.txt` });
      const lf = await run(mod('stat'), { path: `${t.dir}/s.lnk`, follow: true, checksum_algorithm: 'sha256' }, t, { check });
      expect(lf.stat).toMatchObject({ isreg: true, checksum: '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03' });
      expect((await run(mod('stat'), { path: `${t.dir}/nothing` }, t, { check })).stat).toEqual({ exists: false });
      const sl = await run(mod('slurp'), { src: `${t.dir}/s.txt` }, t, { check });
      expect(sl).toMatchObject({ changed: false, content: Buffer.from('hello\n').toString('base64'), encoding: 'base64' });
    }
    expect(await snapshot(t, t.dir)).toBe(before);
    const none = await run(mod('slurp'), { src: `${t.dir}/nothing` }, t);
    expect(none).toMatchObject({ failed: true, msg: `file not found: ${t.dir}/nothing` });
  });

  it('fetch: to dest/<host>/<path> on the controller (or flat), checksum-idempotent; check mode writes nothing', async () => {
    const t = T(label);
    await write(t, `${t.dir}/fe.txt`, 'fetch me\n');
    const out = mkdtempSync(join(tmpdir(), 'mf-fetch-'));
    try {
      const chk = await run(mod('fetch'), { src: `${t.dir}/fe.txt`, dest: out }, t, { check: true });
      expect(chk.changed).toBe(true);
      const r1 = await run(mod('fetch'), { src: `${t.dir}/fe.txt`, dest: out }, t);
      const host = t.transport.host;
      expect(r1).toMatchObject({ changed: true, dest: join(out, host, t.dir, 'fe.txt') });
      expect(readFileSync(join(out, host, t.dir, 'fe.txt'), 'utf8')).toBe('fetch me\n');
      expect((await run(mod('fetch'), { src: `${t.dir}/fe.txt`, dest: out }, t)).changed).toBe(false);
      const flat = await run(mod('fetch'), { src: `${t.dir}/fe.txt`, dest: `${out}/flat/`, flat: true }, t);
      expect(flat).toMatchObject({ changed: true, dest: join(out, 'flat', 'fe.txt') });
      const miss = await run(mod('fetch'), { src: `${t.dir}/nope`, dest: out, fail_on_missing: false }, t);
      expect(miss).toMatchObject({ changed: false });
      expect(miss.failed).toBeFalsy();
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('become specifics', () => {
  it('a non-root user without become cannot write root-owned places: a clear failure naming the path', async () => {
    const t = T('ssh tester');
    const r = await run(mod('copy'), { content: 'x', dest: '/etc/burrow-denied.conf' }, t);
    expect(r.failed).toBe(true);
    expect(String(r.msg)).toContain('/etc/burrow-denied.conf');
    expect(String(r.msg)).toMatch(/Permission denied|not writable/);
    expect(await statOf(t, '/etc/burrow-denied.conf')).toBe('absent');
  });

  it('with become, files land owned by root even though the login user is tester / nopass', async () => {
    for (const l of ['ssh tester+become', 'ssh nopass+become'] as const) {
      const t = T(l);
      await cycle(mod('copy'), { content: 'root owned\n', dest: `/etc/burrow-${l.includes('tester') ? 't' : 'n'}.conf` }, t, { watch: '/etc' });
      expect(await statOf(t, `/etc/burrow-${l.includes('tester') ? 't' : 'n'}.conf`)).toMatch(/^regular file 644 root root/);
    }
  });

  it('unknown arguments fail at load time (validate) and at run time, with a suggestion', async () => {
    const t = T('ssh root');
    const r = await run(mod('copy'), { content: 'x', dest: `${t.dir}/u`, mdoe: '0644' }, t);
    expect(r.failed).toBe(true);
    expect(String(r.msg)).toContain("unsupported parameter for (copy) module: mdoe (did you mean 'mode'?)");
    const problems = mod('copy').validate!({ module: 'copy', written: 'copy', args: { dest: '/x', mdoe: 1 }, argsPos: { file: 'p.yml' }, argPos: {} });
    expect(problems.map((p) => p.message)).toContain('missing required argument: src or content');
    expect(problems.find((p) => p.arg === 'mdoe')?.hint).toBe("did you mean 'mode'?");
  });
});
