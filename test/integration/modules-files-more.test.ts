/**
 * The remaining modules of src/modules/files on real sshd test hosts (and locally where it is safe):
 * get_url (a real HTTP server on 127.0.0.1, reached from the loopback-mode hosts), unarchive (tar.gz and zip
 * built with the real tar/zip), user, authorized_key, sysctl (a netns-mode host, so live values stay in its
 * own network namespace), modprobe (this kernel has no loadable modules: persistence files, built-in
 * detection and the honest failure), openssh_keypair, openssl_privatekey and the certificate trio — the
 * keys and certificates are checked with the real `openssl` / `ssh-keygen`.
 * Each change goes through `cycle` (check mode untouched → change → ok → check ok).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_MODULES } from '../../src/modules/files/index.js';
import type { Module } from '../../src/modules/types.js';
import { sha512Crypt } from '../../src/template/crypt.js';
import { Connections } from '../../src/transport/index.js';
import { cycle, localTarget, readAs, run, sshTarget, statOf, type Target, write } from '../support/modules-files-kit.js';
import { startHosts, type TestCluster, type TestHost } from '../support/testhosts.js';

const M = new Map(FILE_MODULES.map((m) => [m.name, m]));
const mod = (n: string): Module => M.get(n)!;
const sha = (algo: string, b: string | Buffer): string => createHash(algo).update(b).digest('hex');

let cluster: TestCluster;
let netns: TestCluster;
let h: TestHost;
let hn: TestHost;
let conns: Connections;
let nconns: Connections;
let base: string;
let server: Server;
let url = '';
const PAYLOAD = Buffer.concat([Buffer.from('payload-'), Buffer.alloc(5000, 7)]);
const T: Record<string, Target> = {};

beforeAll(async () => {
  [cluster, netns] = await Promise.all([startHosts({ count: 1, namePrefix: 'mfm' }), startHosts({ count: 1, namePrefix: 'mfn', mode: 'netns' })]);
  h = cluster.hosts[0]!;
  hn = netns.hosts[0]!;
  conns = new Connections({ knownHostsFile: cluster.knownHostsFile, hostKeyChecking: 'strict', agent: false, connectTimeout: 10 });
  nconns = new Connections({ knownHostsFile: netns.knownHostsFile, hostKeyChecking: 'strict', agent: false, connectTimeout: 10 });
  T.root = await sshTarget(cluster, conns, h, 'root', false);
  T.become = await sshTarget(cluster, conns, h, 'tester', true);
  T.tester = await sshTarget(cluster, conns, h, 'tester', false);
  T.local = localTarget();
  T.nroot = await sshTarget(netns, nconns, hn, 'root', false);
  T.nbecome = await sshTarget(netns, nconns, hn, 'tester', true);

  // HTTP server: Last-Modified / If-Modified-Since, basic auth, a checksum file
  const modified = new Date(Date.now() - 3600_000).toUTCString();
  server = createServer((req, res) => {
    const u = req.url ?? '/';
    if (u === '/pkg.bin' || u === '/dir/pkg.bin') {
      const ims = req.headers['if-modified-since'];
      if (ims && Date.parse(ims) >= Date.parse(modified)) {
        res.writeHead(304).end();
        return;
      }
      res.writeHead(200, { 'Last-Modified': modified, 'Content-Length': PAYLOAD.length }).end(PAYLOAD);
    } else if (u === '/SHA256SUMS') {
      res.writeHead(200).end(`${sha('sha256', 'other')}  other.bin\n${sha('sha256', PAYLOAD)}  pkg.bin\n`);
    } else if (u === '/auth.txt') {
      const ok = req.headers.authorization === `Basic ${Buffer.from('deploy:s3cr3t-pw').toString('base64')}`;
      if (!ok) res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' }).end('no');
      else res.writeHead(200).end('authorized\n');
    } else res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  base = mkdtempSync(join(tmpdir(), 'mfm-ctl-'));
  const src = join(base, 'src');
  mkdirSync(join(src, 'bundle', 'bin'), { recursive: true });
  writeFileSync(join(src, 'bundle', 'bin', 'tool'), '#!/bin/sh\necho tool\n', { mode: 0o755 });
  writeFileSync(join(src, 'bundle', 'README'), 'readme\n');
  mkdirSync(join(base, 'files'));
  execFileSync('tar', ['-C', src, '-czf', join(base, 'files', 'bundle.tar.gz'), 'bundle']);
  execFileSync('zip', ['-qr', join(base, 'files', 'bundle.zip'), 'bundle'], { cwd: src });
}, 240_000);

afterAll(async () => {
  server?.close();
  await conns?.closeAll();
  await nconns?.closeAll();
  await Promise.all([cluster?.stop(), netns?.stop()]);
  rmSync(T.local?.dir ?? '/nonexistent', { recursive: true, force: true });
  if (base) rmSync(base, { recursive: true, force: true });
}, 60_000);

// ───────────────────────────── get_url ─────────────────────────────
describe.each(['root', 'become', 'local'])('get_url (%s)', (k) => {
  it('downloads with a checksum, mode; a second run is ok; a bad checksum leaves dest alone', async () => {
    const t = T[k]!;
    const dest = `${t.dir}/dl/pkg.bin`;
    await t.root(`mkdir -p ${t.dir}/dl`);
    const c = await cycle(mod('get_url'), { url: `${url}/pkg.bin`, dest, mode: '0640', checksum: `sha256:${sha('sha256', PAYLOAD)}` }, t);
    expect(c.run1).toMatchObject({ changed: true, dest, checksum_src: sha('sha1', PAYLOAD), mode: '0640', status_code: 200 });
    expect(await statOf(t, dest)).toMatch(new RegExp(`^regular file 640 root root ${PAYLOAD.length}$`));
    expect(c.run2.msg).toBe('file already exists');
    const bad = await run(mod('get_url'), { url: `${url}/pkg.bin`, dest: `${t.dir}/dl/bad.bin`, checksum: 'sha256:' + '0'.repeat(64) }, t);
    expect(bad.failed).toBe(true);
    expect(String(bad.msg)).toContain('did not match');
    expect(await statOf(t, `${t.dir}/dl/bad.bin`)).toBe('absent');
    expect((await t.root(`ls -A ${t.dir}/dl | grep -c burrow || true`)).stdout.trim()).toBe('0');
  });

  it('without checksum: If-Modified-Since keeps an up-to-date file (ok); checksum from a URL; dest directory', async () => {
    const t = T[k]!;
    await t.root(`mkdir -p ${t.dir}/dl2`);
    await cycle(mod('get_url'), { url: `${url}/pkg.bin`, dest: `${t.dir}/dl2/a.bin` }, t);
    const c = await cycle(mod('get_url'), { url: `${url}/dir/pkg.bin`, dest: `${t.dir}/dl2/`, checksum: `sha256:${url}/SHA256SUMS` }, t);
    expect(c.run1.dest).toBe(`${t.dir}/dl2/pkg.bin`);
    const forced = await run(mod('get_url'), { url: `${url}/pkg.bin`, dest: `${t.dir}/dl2/a.bin`, force: true }, t);
    expect(forced.changed).toBe(false);
  });

  it('basic auth through curl stdin (the password is in no command line); file:// URLs; refused schemes; 404', async () => {
    const t = T[k]!;
    await t.root(`mkdir -p ${t.dir}/dl3`);
    const c = await cycle(mod('get_url'), { url: `${url}/auth.txt`, dest: `${t.dir}/dl3/auth.txt`, url_username: 'deploy', url_password: 's3cr3t-pw', force_basic_auth: true }, t);
    expect(await readAs(t, `${t.dir}/dl3/auth.txt`)).toBe('authorized\n');
    expect(c.run1.commands.join('\n')).not.toContain('s3cr3t-pw');
    expect(JSON.stringify(c.run1)).not.toContain('s3cr3t-pw');
    const inUrl = await run(mod('get_url'), { url: url.replace('http://', 'http://deploy:s3cr3t-pw@') + '/auth.txt', dest: `${t.dir}/dl3/auth2.txt`, force_basic_auth: true }, t, { diff: true });
    expect(inUrl).toMatchObject({ changed: true, url: url.replace('http://', 'http://deploy:********@') + '/auth.txt' });
    expect(JSON.stringify(inUrl)).not.toContain('s3cr3t-pw');
    const denied = await run(mod('get_url'), { url: `${url}/auth.txt`, dest: `${t.dir}/dl3/x.txt`, url_username: 'deploy', url_password: 'wrong' }, t);
    expect(denied.failed).toBe(true);
    expect(JSON.stringify(denied)).not.toContain('wrong"');
    await write(t, `${t.dir}/dl3/local-src.txt`, 'from file url\n');
    await cycle(mod('get_url'), { url: `file://${t.dir}/dl3/local-src.txt`, dest: `${t.dir}/dl3/copied.txt` }, t);
    expect(await readAs(t, `${t.dir}/dl3/copied.txt`)).toBe('from file url\n');
    const ftp = await run(mod('get_url'), { url: 'ftp://example.com/x', dest: `${t.dir}/dl3/f` }, t);
    expect(ftp).toMatchObject({ failed: true });
    expect(String(ftp.msg)).toContain('only http://, https:// and file://');
    const nf = await run(mod('get_url'), { url: `${url}/missing`, dest: `${t.dir}/dl3/m` }, t);
    expect(nf.failed).toBe(true);
    expect(String(nf.msg)).toMatch(/Request failed.*404/);
  });
});

// ───────────────────────────── unarchive ─────────────────────────────
describe.each(['root', 'become', 'tester', 'local'])('unarchive (%s)', (k) => {
  it('tar.gz and zip from the controller; re-run ok; owner/mode; creates skips; missing dest fails', async () => {
    const t = T[k]!;
    await t.root(`mkdir -p ${t.dir}/ua/t ${t.dir}/ua/z && chown -R ${t.runsAs}: ${t.dir}/ua`);
    const c = await cycle(mod('unarchive'), { src: 'bundle.tar.gz', dest: `${t.dir}/ua/t`, list_files: true }, t, { baseDir: base });
    expect(c.run1).toMatchObject({ handler: 'TgzArchive', dest: `${t.dir}/ua/t` });
    expect(c.run1.files).toEqual(expect.arrayContaining(['bundle', 'bundle/README', 'bundle/bin/tool']));
    expect(await readAs(t, `${t.dir}/ua/t/bundle/bin/tool`)).toBe('#!/bin/sh\necho tool\n');
    expect(await statOf(t, `${t.dir}/ua/t/bundle/bin/tool`)).toMatch(/^regular file 755 /);
    await cycle(mod('unarchive'), { src: 'bundle.zip', dest: `${t.dir}/ua/z`, mode: 'go-rwx' }, t, { baseDir: base });
    expect(await statOf(t, `${t.dir}/ua/z/bundle/README`)).toMatch(/^regular file 600 /);
    // a file changed after unpacking is restored on the next run
    await t.root(`echo changed > ${t.dir}/ua/t/bundle/README`);
    expect((await run(mod('unarchive'), { src: 'bundle.tar.gz', dest: `${t.dir}/ua/t` }, t, { baseDir: base })).changed).toBe(true);
    expect(await readAs(t, `${t.dir}/ua/t/bundle/README`)).toBe('readme\n');
    const sk = await run(mod('unarchive'), { src: 'bundle.tar.gz', dest: `${t.dir}/ua/t`, creates: `${t.dir}/ua/t/bundle` }, t, { baseDir: base });
    expect(sk).toMatchObject({ changed: false, skipped: true });
    const nodest = await run(mod('unarchive'), { src: 'bundle.tar.gz', dest: `${t.dir}/ua/none` }, t, { baseDir: base });
    expect(nodest).toMatchObject({ failed: true });
    expect(String(nodest.msg)).toContain('must be an existing dir');
  });

  it('remote_src with extra_opts (--strip-components) and include', async () => {
    const t = T[k]!;
    await t.root(`mkdir -p ${t.dir}/ub/out ${t.dir}/ub/inc && chown -R ${t.runsAs}: ${t.dir}/ub`);
    await run(mod('copy'), { src: 'bundle.tar.gz', dest: `${t.dir}/ub/b.tgz` }, t, { baseDir: base });
    await cycle(mod('unarchive'), { src: `${t.dir}/ub/b.tgz`, dest: `${t.dir}/ub/out`, remote_src: true, extra_opts: ['--strip-components=1'] }, t, { watch: `${t.dir}/ub/out` });
    expect(await readAs(t, `${t.dir}/ub/out/README`)).toBe('readme\n');
    await cycle(mod('unarchive'), { src: `${t.dir}/ub/b.tgz`, dest: `${t.dir}/ub/inc`, remote_src: true, include: ['bundle/README'] }, t, { watch: `${t.dir}/ub/inc` });
    expect((await t.root(`find ${t.dir}/ub/inc -type f`)).stdout.trim()).toBe(`${t.dir}/ub/inc/bundle/README`);
  });
});

// ───────────────────────────── user / authorized_key ─────────────────────────────
describe.each(['root', 'become'])('user and authorized_key (%s)', (k) => {
  it('user: create with uid, groups, shell, home, password hash (via chpasswd stdin); modify; remove', async () => {
    const t = T[k]!;
    const name = `mfu${k}`;
    const hash = sha512Crypt('pw-for-test', 'saltsaltsalt');
    const args = { name, uid: k === 'root' ? 3101 : 3102, groups: ['tester', 'nopass'], shell: '/bin/sh', home: `/home/${name}`, password: hash, comment: 'Burrow test' };
    const c = await cycle(mod('user'), args, t, { watch: '/etc/passwd' });
    expect(c.run1).toMatchObject({ name, uid: args.uid, shell: '/bin/sh', home: `/home/${name}`, password: 'NOT_LOGGING_PASSWORD' });
    expect(c.run1.commands.join('\n')).not.toContain(hash);
    expect((await t.root(`getent shadow ${name} | cut -d: -f2`)).stdout.trim()).toBe(hash);
    expect((await t.root(`id -Gn ${name}`)).stdout.trim().split(' ').sort()).toEqual([name, 'nopass', 'tester'].sort());
    expect(await statOf(t, `/home/${name}`)).toMatch(new RegExp(`^directory \\d+ ${name} `));
    // groups exact vs append
    await cycle(mod('user'), { name, groups: 'tester' }, t, { watch: '/etc/group' });
    expect((await t.root(`id -Gn ${name}`)).stdout.trim().split(' ').sort()).toEqual([name, 'tester'].sort());
    await cycle(mod('user'), { name, groups: ['nopass'], append: true }, t, { watch: '/etc/group' });
    expect((await t.root(`id -Gn ${name}`)).stdout.trim().split(' ').sort()).toEqual([name, 'nopass', 'tester'].sort());
    const noGroup = await run(mod('user'), { name, group: 'no-such-group' }, t);
    expect(noGroup).toMatchObject({ failed: true });
    expect(String(noGroup.msg)).toContain('Group no-such-group does not exist');
  });

  it('authorized_key: add with ~/.ssh created 0700 and the file 0600 owned by the user; options; exclusive; absent', async () => {
    const t = T[k]!;
    const name = `mfu${k}`;
    const home = `/home/${name}`;
    const k1 = cluster.keys.ed25519.publicKey.split(' ').slice(0, 2).join(' ');
    const k2 = cluster.keys.rsa.publicKey.split(' ').slice(0, 2).join(' ');
    await t.root(`rm -rf ${home}/.ssh`);
    const c = await cycle(mod('authorized_key'), { user: name, key: `${k1} first@key` }, t, { watch: home });
    expect(c.run1).toMatchObject({ keyfile: `${home}/.ssh/authorized_keys`, changed: true });
    expect(await statOf(t, `${home}/.ssh`)).toMatch(new RegExp(`^directory 700 ${name} `));
    expect(await statOf(t, `${home}/.ssh/authorized_keys`)).toMatch(new RegExp(`^regular file 600 ${name} `));
    await cycle(mod('authorized_key'), { user: name, key: k2, key_options: 'no-pty,from="10.0.0.1"', comment: 'second' }, t, { watch: home });
    expect(await readAs(t, `${home}/.ssh/authorized_keys`)).toBe(`${k1} first@key\nno-pty,from="10.0.0.1" ${k2} second\n`);
    await cycle(mod('authorized_key'), { user: name, key: k2, key_options: 'no-pty,from="10.0.0.1"', comment: 'second', exclusive: true }, t, { watch: home });
    expect(await readAs(t, `${home}/.ssh/authorized_keys`)).toBe(`no-pty,from="10.0.0.1" ${k2} second\n`);
    await cycle(mod('authorized_key'), { user: name, key: k2, state: 'absent' }, t, { watch: home });
    expect(await readAs(t, `${home}/.ssh/authorized_keys`)).toBe('');
    const nouser = await run(mod('authorized_key'), { user: 'no-such-user', key: k1 }, t);
    expect(nouser).toMatchObject({ failed: true });
    expect(String(nouser.msg)).toContain('Failed to lookup user no-such-user');
    // clean up the account (remove) — a real change, then ok
    await cycle(mod('user'), { name, state: 'absent', remove: true }, t, { watch: '/etc/passwd' });
    expect(await statOf(t, home)).toBe('absent');
  });
});

describe('authorized_key without become', () => {
  it('a user manages its own keys in a custom path', async () => {
    const t = T.tester!;
    const k1 = cluster.keys.ecdsa.publicKey.split(' ').slice(0, 2).join(' ');
    await cycle(mod('authorized_key'), { user: 'tester', key: k1, path: `${t.dir}/keys/ak`, manage_dir: false }, t);
    expect(await statOf(t, `${t.dir}/keys/ak`)).toMatch(/^regular file 600 tester /);
  });
});

// ───────────────────────────── sysctl (netns host) ─────────────────────────────
describe.each(['nroot', 'nbecome'])('sysctl (%s, own network namespace)', (k) => {
  it('writes the file, reloads it (live value changes), second run ok; state=absent; an unknown key fails', async () => {
    const t = T[k]!;
    const f = `${t.dir}/99-burrow.conf`;
    await t.root(`sysctl -w net.ipv4.ip_forward=0 >/dev/null`);
    await write(t, f, '# managed\nnet.ipv4.conf.all.rp_filter = 1\n');
    const c = await cycle(mod('sysctl'), { name: 'net.ipv4.ip_forward', value: '1', sysctl_file: f }, t);
    expect(c.run1).toMatchObject({ changed: true, name: 'net.ipv4.ip_forward', value: '1' });
    expect(await readAs(t, f)).toBe('# managed\nnet.ipv4.conf.all.rp_filter=1\nnet.ipv4.ip_forward=1\n');
    expect((await t.root('sysctl -n net.ipv4.ip_forward')).stdout.trim()).toBe('1');
    // live value drifted: reload brings it back (changed), then ok
    await t.root('sysctl -w net.ipv4.ip_forward=0 >/dev/null');
    expect((await run(mod('sysctl'), { name: 'net.ipv4.ip_forward', value: 'yes', sysctl_file: f }, t)).changed).toBe(true);
    expect((await t.root('sysctl -n net.ipv4.ip_forward')).stdout.trim()).toBe('1');
    await cycle(mod('sysctl'), { name: 'net.ipv4.ip_forward', state: 'absent', sysctl_file: f, reload: false }, t);
    expect(await readAs(t, f)).toBe('# managed\nnet.ipv4.conf.all.rp_filter=1\n');
    await cycle(mod('sysctl'), { name: 'net.ipv4.tcp_syncookies', value: '0', sysctl_set: true, reload: false, sysctl_file: f }, t);
    expect((await t.root('sysctl -n net.ipv4.tcp_syncookies')).stdout.trim()).toBe('0');
    const bad = await run(mod('sysctl'), { name: 'net.ipv4.no_such_key', value: '1', sysctl_file: `${t.dir}/bad.conf` }, t);
    expect(bad.failed).toBe(true);
    expect(String(bad.msg)).toContain('Failed to reload sysctl');
  });
});

// ───────────────────────────── modprobe ─────────────────────────────
describe.each(['root', 'become'])('modprobe (%s)', (k) => {
  it('persistence files (present → absent), built-in modules count as loaded, a missing module fails clearly', async () => {
    const t = T[k]!;
    const m = `burrowtest${k}`;
    await t.root(`rm -rf /etc/modprobe.d/${m}.conf /etc/modules-load.d/${m}.conf`);
    const c = await cycle(mod('modprobe'), { name: m, state: 'absent', params: 'a=1 b=2', persistent: 'present' }, t, { watch: '/etc/modules-load.d' });
    expect(c.run1.changed).toBe(true);
    expect(await readAs(t, `/etc/modules-load.d/${m}.conf`)).toBe(`${m}\n`);
    expect(await readAs(t, `/etc/modprobe.d/${m}.conf`)).toBe(`options ${m} a=1\noptions ${m} b=2\n`);
    await cycle(mod('modprobe'), { name: m, state: 'absent', persistent: 'absent' }, t, { watch: '/etc/modprobe.d' });
    expect(await readAs(t, `/etc/modules-load.d/${m}.conf`)).toBe(`#${m}\n`);
    expect(await readAs(t, `/etc/modprobe.d/${m}.conf`)).toBe(`#options ${m} a=1\n#options ${m} b=2\n`);
    const rel = (await t.root('uname -r')).stdout.trim();
    await t.root(`mkdir -p /lib/modules/${rel} && echo kernel/drivers/misc/burrowbuiltin.ko > /lib/modules/${rel}/modules.builtin`);
    const builtin = await run(mod('modprobe'), { name: 'burrowbuiltin' }, t);
    expect(builtin).toMatchObject({ changed: false, name: 'burrowbuiltin' });
    expect(builtin.failed).toBeFalsy();
    const missing = await run(mod('modprobe'), { name: 'burrow_no_such_module' }, t);
    expect(missing).toMatchObject({ failed: true });
    expect(String(missing.msg)).toContain('modprobe burrow_no_such_module failed');
  });
});

// ───────────────────────────── keys and certificates ─────────────────────────────
describe.each(['root', 'become', 'tester', 'local'])('openssh_keypair / openssl_privatekey (%s)', (k) => {
  it('openssh_keypair: ed25519 with comment, comment fixed in place, type change regenerates; files verify with ssh-keygen', async () => {
    const t = T[k]!;
    const p = `${t.dir}/ssh/id_test`;
    await t.root(`mkdir -p ${t.dir}/ssh && chown ${t.runsAs}: ${t.dir}/ssh`);
    const c = await cycle(mod('openssh_keypair'), { path: p, type: 'ed25519', comment: 'deploy@burrow' }, t);
    expect(c.run1).toMatchObject({ type: 'ed25519', comment: 'deploy@burrow', fingerprint: expect.stringMatching(/^SHA256:/), public_key: expect.stringMatching(/^ssh-ed25519 /) });
    expect(await statOf(t, p)).toMatch(new RegExp(`^regular file 600 ${t.runsAs} `));
    expect(await statOf(t, `${p}.pub`)).toMatch(/^regular file 644 /);
    const fp = (await t.root(`ssh-keygen -l -f ${p}.pub`)).stdout;
    expect(fp).toContain(String(c.run1.fingerprint));
    expect(fp).toContain('deploy@burrow');
    const priv1 = await readAs(t, p);
    await cycle(mod('openssh_keypair'), { path: p, type: 'ed25519', comment: 'other@burrow' }, t);
    expect(await readAs(t, p)).not.toBe(priv1); // comment stored in the key
    expect((await t.root(`ssh-keygen -y -f ${p}`)).stdout.split(' ').slice(0, 2).join(' ')).toBe(String(c.run1.public_key));
    expect(await readAs(t, `${p}.pub`)).toMatch(/ other@burrow\n$/);
    await cycle(mod('openssh_keypair'), { path: p, type: 'rsa', size: 2048 }, t);
    expect((await t.root(`ssh-keygen -l -f ${p}`)).stdout).toMatch(/^2048 SHA256:\S+ .*\(RSA\)/);
  });

  it('openssl_privatekey: RSA (PKCS#1) 0600 verified by openssl; ECC and Ed25519; size change regenerates; content never in the result', async () => {
    const t = T[k]!;
    const p = `${t.dir}/pki/rsa.key`;
    await t.root(`mkdir -p ${t.dir}/pki && chown ${t.runsAs}: ${t.dir}/pki`);
    const c = await cycle(mod('openssl_privatekey'), { path: p, size: 2048 }, t);
    expect(c.run1).toMatchObject({ changed: true, filename: p, type: 'RSA', size: 2048 });
    expect((c.run1.fingerprint as Record<string, string>).sha256).toMatch(/^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
    expect(await statOf(t, p)).toMatch(/^regular file 600 /);
    const pem = await readAs(t, p);
    expect(pem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(JSON.stringify(c.run1)).not.toContain(pem.split('\n')[1]!);
    expect((await t.root(`openssl rsa -check -noout -in ${p}`)).stdout).toContain('RSA key ok');
    await cycle(mod('openssl_privatekey'), { path: p, size: 3072 }, t);
    expect((await t.root(`openssl rsa -noout -text -in ${p} | head -1`)).stdout).toContain('3072 bit');
    await cycle(mod('openssl_privatekey'), { path: `${t.dir}/pki/ec.key`, type: 'ECC', curve: 'secp384r1', mode: '0400' }, t);
    expect((await t.root(`openssl ec -noout -text -in ${t.dir}/pki/ec.key 2>/dev/null | grep -c 'NIST CURVE: P-384'`)).stdout.trim()).toBe('1');
    expect(await statOf(t, `${t.dir}/pki/ec.key`)).toMatch(/^regular file 400 /);
    await cycle(mod('openssl_privatekey'), { path: `${t.dir}/pki/ed.key`, type: 'Ed25519' }, t);
    expect((await t.root(`openssl pkey -noout -text -in ${t.dir}/pki/ed.key | head -1`)).stdout).toMatch(/ED25519 Private-Key/);
  });
});

describe.each(['root', 'become', 'local'])('certificate trio: openssl_privatekey → openssl_csr_pipe → x509_certificate_pipe (%s)', (k) => {
  it('own CA (selfsigned), a leaf with SANs signed by it; verifies with openssl; re-issues only on change', async () => {
    const t = T[k]!;
    const d = `${t.dir}/ca`;
    await t.root(`mkdir -p ${d}`);
    await run(mod('openssl_privatekey'), { path: `${d}/ca.key`, size: 2048 }, t);
    const caCsr = await run(mod('openssl_csr_pipe'), { privatekey_path: `${d}/ca.key`, common_name: 'Burrow Test CA', use_common_name_for_san: false, basic_constraints: ['CA:TRUE'], basic_constraints_critical: true, key_usage: ['keyCertSign', 'cRLSign'], key_usage_critical: true }, t);
    expect(caCsr).toMatchObject({ changed: true });
    expect((await run(mod('openssl_csr_pipe'), { privatekey_path: `${d}/ca.key`, common_name: 'Burrow Test CA', use_common_name_for_san: false, basic_constraints: ['CA:TRUE'], basic_constraints_critical: true, key_usage: ['keyCertSign', 'cRLSign'], key_usage_critical: true, content: caCsr.csr }, t)).changed).toBe(false);
    const caCert = await run(mod('x509_certificate_pipe'), { provider: 'selfsigned', csr_content: caCsr.csr, privatekey_path: `${d}/ca.key` }, t);
    expect(caCert.changed).toBe(true);
    await cycle(mod('copy'), { content: caCert.certificate, dest: `${d}/ca.crt` }, t, { watch: d });

    await run(mod('openssl_privatekey'), { path: `${d}/leaf.key`, size: 2048 }, t);
    const csrArgs = {
      privatekey_path: `${d}/leaf.key`,
      common_name: 'registry.burrow.local',
      organization_name: 'Burrow',
      subject_alt_name: ['DNS:registry.burrow.local', 'IP:127.0.0.1', 'IP:198.18.0.10'],
      key_usage: ['digitalSignature', 'keyEncipherment'],
      extended_key_usage: ['serverAuth', 'clientAuth'],
    };
    const csr = await run(mod('openssl_csr_pipe'), csrArgs, t);
    expect(csr.changed).toBe(true);
    await write(t, `${d}/leaf.csr`, String(csr.csr));
    expect((await t.root(`openssl req -in ${d}/leaf.csr -noout -verify 2>&1`)).stdout).toMatch(/verify OK|Certificate request self-signature verify OK/);
    const certArgs = { provider: 'ownca', csr_content: csr.csr, ownca_path: `${d}/ca.crt`, ownca_privatekey_path: `${d}/ca.key`, ownca_not_after: '+365d' };
    const cert = await run(mod('x509_certificate_pipe'), certArgs, t);
    expect(cert.changed).toBe(true);
    await write(t, `${d}/leaf.crt`, String(cert.certificate));
    expect((await t.root(`openssl verify -CAfile ${d}/ca.crt ${d}/leaf.crt`)).stdout.trim()).toBe(`${d}/leaf.crt: OK`);
    const text = (await t.root(`openssl x509 -in ${d}/leaf.crt -noout -text`)).stdout;
    expect(text).toContain('DNS:registry.burrow.local, IP Address:127.0.0.1, IP Address:198.18.0.10');
    expect(text).toContain('TLS Web Server Authentication, TLS Web Client Authentication');
    expect(text).toMatch(/Subject: O ?= ?Burrow, CN ?= ?registry\.burrow\.local/);
    expect(text).toContain('X509v3 Authority Key Identifier');
    // the key and the certificate belong together
    const m1 = (await t.root(`openssl x509 -noout -pubkey -in ${d}/leaf.crt | sha1sum`)).stdout;
    const m2 = (await t.root(`openssl pkey -pubout -in ${d}/leaf.key | sha1sum`)).stdout;
    expect(m1).toBe(m2);

    // second run with what the first produced: nothing re-issued
    const csr2 = await run(mod('openssl_csr_pipe'), { ...csrArgs, content: csr.csr }, t);
    expect(csr2).toMatchObject({ changed: false, csr: csr.csr });
    const cert2 = await run(mod('x509_certificate_pipe'), { ...certArgs, csr_content: csr2.csr, content: cert.certificate }, t);
    expect(cert2).toMatchObject({ changed: false, certificate: cert.certificate });
    const chk = await run(mod('x509_certificate_pipe'), { ...certArgs, csr_content: csr2.csr, content: cert.certificate }, t, { check: true });
    expect(chk.changed).toBe(false);
    // a new SAN → new CSR → new certificate; check mode says so and produces nothing
    const csr3 = await run(mod('openssl_csr_pipe'), { ...csrArgs, subject_alt_name: [...csrArgs.subject_alt_name, 'DNS:extra.burrow.local'], content: csr.csr }, t);
    expect(csr3.changed).toBe(true);
    const chk3 = await run(mod('x509_certificate_pipe'), { ...certArgs, csr_content: csr3.csr, content: cert.certificate }, t, { check: true });
    expect(chk3).toMatchObject({ changed: true, certificate: null });
    const cert3 = await run(mod('x509_certificate_pipe'), { ...certArgs, csr_content: csr3.csr, content: cert.certificate }, t);
    expect(cert3.changed).toBe(true);
    expect(cert3.reasons).toEqual(['extensions differ from the CSR']);
    // a certificate signed by another CA is re-issued
    const other = await run(mod('x509_certificate_pipe'), { provider: 'selfsigned', csr_content: csr.csr, privatekey_path: `${d}/leaf.key` }, t);
    const cert4 = await run(mod('x509_certificate_pipe'), { ...certArgs, csr_content: csr2.csr, content: other.certificate }, t);
    expect(cert4.changed).toBe(true);
    expect(cert4.reasons).toContain('not signed by the CA');
    const wrongKey = await run(mod('x509_certificate_pipe'), { ...certArgs, ownca_privatekey_path: `${d}/leaf.key` }, t);
    expect(wrongKey).toMatchObject({ failed: true });
    expect(String(wrongKey.msg)).toContain('does not belong to the CA certificate');
  });
});
