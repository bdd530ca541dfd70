/**
 * Parity of the file modules with real Ansible (Debian ansible-core 2.14, /usr/bin/ansible-playbook, json
 * callback). Two fresh sshd test hosts get the same setup; host A is driven by ansible-playbook, host B by our
 * modules, with the same arguments, in the same order, in three passes: check mode, a real run with --diff,
 * and a second real run. Compared per step: changed / failed, the result fields that describe the file
 * (mode, owner, group, uid, gid, state, size, checksum, msg, stat values, slurped content), the --diff
 * before/after texts; and per case the resulting tree (names, types, modes, owners, sizes, SHA-1, link
 * targets — backup files by count, their names hold a pid and a time).
 * Every difference must be listed in KNOWN with its reason; the agreement is printed.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { FILE_MODULES } from '../../src/modules/files/index.js';
import type { FileDiff, ModuleResult } from '../../src/modules/types.js';
import { renderText } from '../../src/template/templar.js';
import { Connections } from '../../src/transport/index.js';
import type { Transport } from '../../src/transport/types.js';
import { moduleContext } from '../support/modctx.js';
import { startHosts, type TestCluster, type TestHost } from '../support/testhosts.js';

interface Step {
  module: string;
  args: Record<string, unknown>;
}
interface Case {
  id: string;
  /** shell run as root on both hosts before anything ($D = the case directory) */
  setup?: string;
  steps: Step[];
  /** run as `tester` with become (sudo password) instead of root */
  become?: boolean;
}

const D = '/srv/parity';
const VARS = { name: 'web', port: 8443, upstreams: ['a', 'b'], enabled: true, motd: 'Welcome "here"\n' };

const C = (id: string, steps: Step[] | Step, setup?: string, become?: boolean): Case => ({ id, steps: Array.isArray(steps) ? steps : [steps], ...(setup ? { setup } : {}), ...(become ? { become } : {}) });
const S = (module: string, args: Record<string, unknown>): Step => ({ module, args });
const P = (id: string): string => `${D}/${id}`;
const mk = (id: string, file: string, content: string, mode = '644'): string => `mkdir -p "$(dirname ${P(id)}/${file})" && printf '%s' '${content.replace(/'/g, `'\\''`)}' > ${P(id)}/${file} && chmod ${mode} ${P(id)}/${file}`;

const CASES: Case[] = [
  // ── copy
  C('copy-content', S('copy', { content: 'a=1\n', dest: `${P('copy-content')}/a.conf`, mode: '0640' }), `mkdir -p ${P('copy-content')}`),
  C('copy-existing', S('copy', { content: 'new\n', dest: `${P('copy-existing')}/e.conf`, backup: true }), mk('copy-existing', 'e.conf', 'old\n', '600')),
  C('copy-slash', S('copy', { src: 'app.conf', dest: `${P('copy-slash')}/etc/app/` }), `mkdir -p ${P('copy-slash')}`),
  C('copy-into-dir', S('copy', { src: 'app.conf', dest: `${P('copy-into-dir')}`, mode: 'u=rw,g=r,o=' }), `mkdir -p ${P('copy-into-dir')}`),
  C('copy-tree', S('copy', { src: 'tree', dest: `${P('copy-tree')}/`, directory_mode: '0750' }), `mkdir -p ${P('copy-tree')}`),
  C('copy-tree-contents', S('copy', { src: 'tree/', dest: `${P('copy-tree-contents')}/out` }), `mkdir -p ${P('copy-tree-contents')}`),
  C('copy-owner', S('copy', { content: 'o\n', dest: `${P('copy-owner')}/o.txt`, owner: 'nobody', group: 'nogroup', mode: '0604' }), `mkdir -p ${P('copy-owner')}`),
  C('copy-noforce', S('copy', { content: 'x\n', dest: `${P('copy-noforce')}/k.txt`, force: false }), mk('copy-noforce', 'k.txt', 'keep\n')),
  C('copy-remote', S('copy', { src: `${P('copy-remote')}/s.sh`, dest: `${P('copy-remote')}/d.sh`, remote_src: true, mode: 'preserve' }), mk('copy-remote', 's.sh', '#!/bin/sh\n', '750')),
  C('copy-validate', S('copy', { content: 'good\n', dest: `${P('copy-validate')}/v.txt`, validate: 'grep -q good %s' }), `mkdir -p ${P('copy-validate')}`),
  C('copy-validate-bad', S('copy', { content: 'bad\n', dest: `${P('copy-validate-bad')}/v.txt`, validate: 'grep -q good %s' }), `mkdir -p ${P('copy-validate-bad')}`),
  C('copy-follow', S('copy', { content: 'through\n', dest: `${P('copy-follow')}/l`, follow: true }), `${mk('copy-follow', 't', 'target\n')} && ln -s t ${P('copy-follow')}/l`),
  C('copy-nofollow', S('copy', { content: 'replaced\n', dest: `${P('copy-nofollow')}/l` }), `${mk('copy-nofollow', 't', 'target\n')} && ln -s t ${P('copy-nofollow')}/l`),
  C('copy-dict', S('copy', { content: { b: [1, 'x'], a: { c: true } }, dest: `${P('copy-dict')}/j.json` }), `mkdir -p ${P('copy-dict')}`),
  C('copy-noparent', S('copy', { content: 'x', dest: `${P('copy-noparent')}/no/such/f` }), `mkdir -p ${P('copy-noparent')}`),
  C('copy-become', S('copy', { content: 'b\n', dest: `${P('copy-become')}/b.txt`, mode: '0600' }), `mkdir -p ${P('copy-become')}`, true),
  // ── template
  C('tpl-basic', S('template', { src: 'site.conf.j2', dest: `${P('tpl-basic')}/site.conf`, mode: '0600' }), `mkdir -p ${P('tpl-basic')}`),
  C('tpl-lstrip', S('template', { src: 'ls.j2', dest: `${P('tpl-lstrip')}/ls.txt`, lstrip_blocks: true }), `mkdir -p ${P('tpl-lstrip')}`),
  C('tpl-notrim', S('template', { src: 'ls.j2', dest: `${P('tpl-notrim')}/ls.txt`, trim_blocks: false }), `mkdir -p ${P('tpl-notrim')}`),
  C('tpl-header', S('template', { src: 'hdr.j2', dest: `${P('tpl-header')}/hdr.txt` }), `mkdir -p ${P('tpl-header')}`),
  C('tpl-crlf', S('template', { src: 'site.conf.j2', dest: `${P('tpl-crlf')}/crlf.conf`, newline_sequence: '\r\n' }), `mkdir -p ${P('tpl-crlf')}`),
  C('tpl-backup', S('template', { src: 'site.conf.j2', dest: `${P('tpl-backup')}/site.conf`, backup: true, owner: 'nobody' }), mk('tpl-backup', 'site.conf', 'old\n')),
  // ── file
  C('file-dirs', S('file', { path: `${P('file-dirs')}/a/b/c`, state: 'directory', mode: '0750' }), `mkdir -p ${P('file-dirs')}`),
  C('file-dirsym', S('file', { path: `${P('file-dirsym')}/x`, state: 'directory', mode: 'u=rwx,go=rx' }), `mkdir -p ${P('file-dirsym')} && umask 077 && mkdir ${P('file-dirsym')}/x`),
  C('file-touch', S('file', { path: `${P('file-touch')}/t`, state: 'touch', mode: '0600' }), `mkdir -p ${P('file-touch')}`),
  C('file-touch-pres', S('file', { path: `${P('file-touch-pres')}/t`, state: 'touch', access_time: 'preserve', modification_time: 'preserve' }), `mkdir -p ${P('file-touch-pres')}`),
  C('file-mtime', S('file', { path: `${P('file-mtime')}/m`, state: 'touch', modification_time: '202001021530.45', access_time: 'preserve' }), mk('file-mtime', 'm', 'x')),
  C('file-mode', S('file', { path: `${P('file-mode')}/f`, mode: 'g+w,o-r' }), mk('file-mode', 'f', 'x')),
  C('file-link', [S('file', { path: `${P('file-link')}/l`, src: 'a', state: 'link', force: true }), S('file', { path: `${P('file-link')}/l2`, src: `${P('file-link')}/a`, state: 'link' })], mk('file-link', 'a', 'a')),
  C('file-relink', S('file', { path: `${P('file-relink')}/l`, src: 'b', state: 'link' }), `${mk('file-relink', 'a', 'a')} && ${mk('file-relink', 'b', 'b')} && ln -s a ${P('file-relink')}/l`),
  C('file-hard', S('file', { path: `${P('file-hard')}/h`, src: `${P('file-hard')}/a`, state: 'hard' }), mk('file-hard', 'a', 'a')),
  C('file-absent', S('file', { path: `${P('file-absent')}/tree`, state: 'absent' }), `${mk('file-absent', 'tree/x/y', 'y')}`),
  C('file-recurse', S('file', { path: `${P('file-recurse')}/r`, state: 'directory', recurse: true, mode: 'u=rwX,g=rX,o=', owner: 'nobody' }), `${mk('file-recurse', 'r/a/b', 'b', '777')} && chmod 777 ${P('file-recurse')}/r/a`),
  C('file-dangling', S('file', { path: `${P('file-dangling')}/d`, src: '/no/such', state: 'link' }), `mkdir -p ${P('file-dangling')}`),
  C('file-absent-file', S('file', { path: `${P('file-absent-file')}/none`, state: 'file' }), `mkdir -p ${P('file-absent-file')}`),
  C('file-become', S('file', { path: `${P('file-become')}/d`, state: 'directory', owner: 'tester', group: 'tester' }), `mkdir -p ${P('file-become')}`, true),
  // ── lineinfile
  C('lif-regexp', S('lineinfile', { path: `${P('lif-regexp')}/c`, regexp: '^#?Port ', line: 'Port 2222' }), mk('lif-regexp', 'c', '#Port 22\nX yes\n')),
  C('lif-after', S('lineinfile', { path: `${P('lif-after')}/c`, line: 'after', insertafter: '^A' }), mk('lif-after', 'c', 'A1\nB\nA2\nC\n')),
  C('lif-after-first', S('lineinfile', { path: `${P('lif-after-first')}/c`, line: 'after', insertafter: '^A', firstmatch: true }), mk('lif-after-first', 'c', 'A1\nB\nA2\nC\n')),
  C('lif-before', S('lineinfile', { path: `${P('lif-before')}/c`, line: 'before', insertbefore: '^B' }), mk('lif-before', 'c', 'A\nB\nC\n')),
  C('lif-bof', [S('lineinfile', { path: `${P('lif-bof')}/c`, line: 'first', insertbefore: 'BOF' }), S('lineinfile', { path: `${P('lif-bof')}/c`, line: 'last', insertafter: 'EOF' })], mk('lif-bof', 'c', 'mid\n')),
  C('lif-backrefs', [S('lineinfile', { path: `${P('lif-backrefs')}/c`, regexp: '^(\\w+)=(\\d+)$', line: '\\1=<\\2>', backrefs: true }), S('lineinfile', { path: `${P('lif-backrefs')}/c`, regexp: '^nomatch', line: 'x', backrefs: true })], mk('lif-backrefs', 'c', 'a=1\nb=x\n')),
  C('lif-absent', [S('lineinfile', { path: `${P('lif-absent')}/c`, regexp: '^#', state: 'absent' }), S('lineinfile', { path: `${P('lif-absent')}/c`, line: 'keep2', state: 'absent' })], mk('lif-absent', 'c', '# a\nkeep\n# b\nkeep2\n')),
  C('lif-create', S('lineinfile', { path: `${P('lif-create')}/sub/new.conf`, line: 'x=1', create: true, mode: '0600' }), `mkdir -p ${P('lif-create')}`),
  C('lif-nonl', S('lineinfile', { path: `${P('lif-nonl')}/c`, line: 'appended' }), mk('lif-nonl', 'c', 'no newline')),
  C('lif-after-last-nonl', S('lineinfile', { path: `${P('lif-after-last-nonl')}/c`, line: 'x', insertafter: '^B' }), mk('lif-after-last-nonl', 'c', 'A\nB')),
  C('lif-search', S('lineinfile', { path: `${P('lif-search')}/c`, search_string: 'log.level', line: 'log.level = debug' }), mk('lif-search', 'c', 'a\nlog.level = info\nb\n')),
  C('lif-present', S('lineinfile', { path: `${P('lif-present')}/c`, line: 'B', insertafter: '^C' }), mk('lif-present', 'c', 'A\nB\nC\n')),
  C('lif-missing', S('lineinfile', { path: `${P('lif-missing')}/none`, line: 'x' }), `mkdir -p ${P('lif-missing')}`),
  C('lif-mode', S('lineinfile', { path: `${P('lif-mode')}/c`, line: 'A', mode: '0600' }), mk('lif-mode', 'c', 'A\n')),
  // ── blockinfile
  C('bif-insert', S('blockinfile', { path: `${P('bif-insert')}/h`, block: '10.0.0.1 a\n10.0.0.2 b' }), mk('bif-insert', 'h', '127.0.0.1 localhost\n')),
  C('bif-update', S('blockinfile', { path: `${P('bif-update')}/h`, block: 'new' }), mk('bif-update', 'h', 'x\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\ny\n')),
  C('bif-marker-before', S('blockinfile', { path: `${P('bif-marker-before')}/h`, block: 'b', marker: '## {mark} extra', insertbefore: '^y' }), mk('bif-marker-before', 'h', 'x\ny\nz\n')),
  C('bif-after', S('blockinfile', { path: `${P('bif-after')}/h`, block: 'b', insertafter: '^x' }), mk('bif-after', 'h', 'x\ny\nx2\nz\n')),
  C('bif-absent', S('blockinfile', { path: `${P('bif-absent')}/h`, state: 'absent' }), mk('bif-absent', 'h', 'x\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\n')),
  C('bif-empty', S('blockinfile', { path: `${P('bif-empty')}/h`, block: '' }), mk('bif-empty', 'h', 'x\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\n')),
  C('bif-create', S('blockinfile', { path: `${P('bif-create')}/n`, block: 'k', create: true, marker_begin: 'START', marker_end: 'STOP' }), `mkdir -p ${P('bif-create')}`),
  C('bif-nonl', S('blockinfile', { path: `${P('bif-nonl')}/h`, block: 'k' }), mk('bif-nonl', 'h', 'no newline')),
  C('bif-bof', S('blockinfile', { path: `${P('bif-bof')}/h`, block: 'top', insertbefore: 'BOF' }), mk('bif-bof', 'h', 'a\n')),
  // ── replace
  C('rep-simple', S('replace', { path: `${P('rep-simple')}/f`, regexp: 'foo', replace: 'bar' }), mk('rep-simple', 'f', 'foo foo\nfoofoo\n')),
  C('rep-groups', S('replace', { path: `${P('rep-groups')}/f`, regexp: '^(\\w+) = (\\d+)$', replace: '\\2 = \\1' }), mk('rep-groups', 'f', 'a = 1\nb = x\nc = 3\n')),
  C('rep-named', S('replace', { path: `${P('rep-named')}/f`, regexp: '(?P<k>port)=(?P<v>\\d+)', replace: '\\g<k>: \\g<v>' }), mk('rep-named', 'f', 'port=80\n')),
  C('rep-section', S('replace', { path: `${P('rep-section')}/f`, regexp: '^port = \\d+$', replace: 'port = 0', after: '\\[b\\]', before: '\\[c\\]' }), mk('rep-section', 'f', '[a]\nport = 1\n[b]\nport = 2\n[c]\nport = 3\n')),
  C('rep-nomatch', S('replace', { path: `${P('rep-nomatch')}/f`, regexp: 'zzz', replace: 'y' }), mk('rep-nomatch', 'f', 'abc\n')),
  C('rep-backup', S('replace', { path: `${P('rep-backup')}/f`, regexp: '^(.*)$', replace: '# \\1' }), mk('rep-backup', 'f', 'one\ntwo\n')),
  C('rep-dotall-lines', S('replace', { path: `${P('rep-dotall-lines')}/f`, regexp: 'a.c', replace: 'X' }), mk('rep-dotall-lines', 'f', 'abc\na\nc\n')),
  C('rep-missing', S('replace', { path: `${P('rep-missing')}/none`, regexp: 'a' }), `mkdir -p ${P('rep-missing')}`),
  // ── stat / slurp (read-only)
  C('stat', [S('stat', { path: `${P('stat')}/f` }), S('stat', { path: `${P('stat')}/l` }), S('stat', { path: `${P('stat')}/l`, follow: true }), S('stat', { path: `${P('stat')}` }), S('stat', { path: `${P('stat')}/none` }), S('slurp', { src: `${P('stat')}/f` })], `${mk('stat', 'f', 'hello\n', '640')} && ln -s f ${P('stat')}/l`),
  // ── authorized_key (ansible.posix)
  C('akey', [S('authorized_key', { user: 'nopass', key: '{{ k1 }}', path: `${P('akey')}/ak`, manage_dir: false }), S('authorized_key', { user: 'nopass', key: '{{ k2 }}', key_options: 'no-pty', comment: 'two', path: `${P('akey')}/ak`, manage_dir: false })], mk('akey', 'ak', '# existing comment\n\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGExistingKeyForParityTestOnly00000000000000 old@host\n', '600')),
];

/** Differences we accept, with the reason (keys: `<case>#<step>#<pass>:<field>` or `<case>:tree`). */
const KNOWN: Record<string, string> = {
  'copy-tree#0#1:diff': 'directory copies: Ansible drops the per-file diffs of a recursive copy, we show one diff per file written',
  'copy-tree-contents#0#1:diff': 'directory copies: as copy-tree',
  'copy-remote#0#1:diff': 'remote_src: Ansible shows no diff (the module runs remotely), we show the source and destination texts',
  'copy-noparent#0#0:result': 'check mode with a missing destination directory: Ansible reports changed (its check stops before the module), we already report the failure the real run will have',
  'tpl-crlf#0#1:result': 'newline_sequence: Jinja converts only the template source newlines; we convert every newline of the output, including those inside variables (here `motd` ends in \\n)',
  'tpl-crlf#0#1:diff': 'newline_sequence: as tpl-crlf#0#1:result',
  'tpl-crlf#0#2:result': 'newline_sequence: as tpl-crlf#0#1:result',
  'tpl-crlf:tree': 'newline_sequence: as tpl-crlf#0#1:result',
  'lif-after-last-nonl#0#1:diff':
    'Ansible 2.14 bug: inserting after a matched last line that lacks a newline glues the new line to it ("Bx"); we add the missing newline first ("B\\nx")',
  'lif-after-last-nonl:tree': 'as lif-after-last-nonl#0#1:diff',
  'lif-after-last-nonl#0#2:result': 'consequence of the same Ansible bug: "Bx" still matches ^B and lacks the line after it, so Ansible adds it again on every run; ours is ok',
};

let cluster: TestCluster;
let hA: TestHost;
let hB: TestHost;
let conns: Connections;
let dir: string;
let keys: { k1: string; k2: string };

function ansible(): Promise<Record<string, Record<string, unknown>>> {
  const tasks = (pass: number, become: boolean): Record<string, unknown>[] =>
    CASES.filter((c) => !!c.become === become).flatMap((c) =>
      c.steps.map((s, i) => ({ name: `${c.id}#${i}#${pass}`, [s.module]: s.args, register: 'r', ignore_errors: true })),
    );
  const plays = [];
  for (const pass of [0, 1, 2]) {
    const flags = { ...(pass === 0 ? { check_mode: true } : {}), ...(pass === 1 ? { diff: true } : {}) };
    plays.push({ hosts: 'all', gather_facts: false, vars: { ...VARS, ...keys }, ...flags, tasks: tasks(pass, false) });
    plays.push({ hosts: 'all', gather_facts: false, become: true, vars: { ...VARS, ...keys, ansible_user: 'tester', ansible_become_password: cluster.password }, ...flags, tasks: tasks(pass, true) });
  }
  return playbook(hA, plays, 'site');
}

/** runs plays against one host with the json callback; results by task name */
function playbook(h: TestHost, plays: unknown[], name: string): Promise<Record<string, Record<string, unknown>>> {
  const inv = join(dir, `hosts-${name}`);
  cluster.writeInventory(inv, { user: 'root', hosts: [h.name] });
  writeFileSync(join(dir, `${name}.yml`), stringify(plays));
  writeFileSync(join(dir, 'ansible.cfg'), '[defaults]\nretry_files_enabled = False\n');
  return new Promise((resolve, reject) => {
    execFile(
      '/usr/bin/ansible-playbook',
      ['-i', inv, join(dir, `${name}.yml`)],
      {
        cwd: dir,
        timeout: 600_000,
        maxBuffer: 256 << 20,
        env: { ...process.env, ANSIBLE_CONFIG: join(dir, 'ansible.cfg'), ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: '0', ANSIBLE_HOST_KEY_CHECKING: 'True' },
      },
      (err, stdout, stderr) => {
        let doc: { plays: { tasks: { task: { name: string }; hosts: Record<string, Record<string, unknown>> }[] }[] };
        try {
          doc = JSON.parse(stdout) as typeof doc;
        } catch {
          reject(new Error(`ansible-playbook output is not JSON (${String(err)}):\n${stdout.slice(0, 3000)}\n${stderr.slice(0, 3000)}`));
          return;
        }
        const out: Record<string, Record<string, unknown>> = {};
        for (const p of doc.plays) for (const t of p.tasks) out[t.task.name] = t.hosts[h.name]!;
        resolve(out);
      },
    );
  });
}

function transport(user: 'root' | 'tester', h: TestHost = hB): Transport {
  const vars: Record<string, unknown> = { ansible_host: h.address, ansible_port: h.port, ansible_user: user };
  if (user === 'tester') vars.ansible_password = cluster.password;
  else vars.ansible_ssh_private_key_file = cluster.keys.ed25519.path;
  return conns.forHost(`${h.name}~${user}`, vars).transport;
}

/** the task arguments after templating (the executor's job; only `{{ k1 }}`-style names here) */
function templated(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(/^\{\{ (\w+) \}\}$/, (_, n: string) => String((keys as Record<string, string>)[n] ?? `{{ ${n} }}`));
  if (Array.isArray(v)) return v.map(templated);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, templated(x)]));
  return v;
}

async function ours(): Promise<Record<string, ModuleResult>> {
  const out: Record<string, ModuleResult> = {};
  for (const pass of [0, 1, 2]) {
    for (const become of [false, true]) {
      for (const c of CASES.filter((x) => !!x.become === become)) {
        for (const [i, s] of c.steps.entries()) {
          const mod = FILE_MODULES.find((m) => m.name === s.module)!;
          const ctx = moduleContext(transport(become ? 'tester' : 'root'), { check: pass === 0, diff: pass === 1, baseDir: dir, ...(become ? { become: { password: cluster.password } } : {}) });
          ctx.renderTemplate = (text: string) => renderText(text, VARS, { escapeBackslashes: false });
          out[`${c.id}#${i}#${pass}`] = await mod.run(templated(s.args) as Record<string, unknown>, ctx);
        }
      }
    }
  }
  return out;
}

async function tree(h: TestHost, id: string): Promise<string> {
  const p = P(id);
  const r = await h.exec(
    `cd ${p} 2>/dev/null || { echo ABSENT; exit 0; }; find . ! -name '*~' -exec stat -c '%n %F %a %U %G %s' {} + | LC_ALL=C sort; find . -type f ! -name '*~' -exec sha1sum {} + | LC_ALL=C sort; find . -type l -exec sh -c 'for l; do printf "%s -> %s\\n" "$l" "$(readlink "$l")"; done' sh {} + | LC_ALL=C sort; printf 'backups: %s\\n' "$(find . -name '*~' | wc -l)"`,
  );
  return r.stdout;
}

const FIELDS = ['mode', 'owner', 'group', 'uid', 'gid', 'state', 'size', 'checksum', 'md5sum', 'msg', 'found', 'backup', 'content', 'encoding', 'src'];

function comparable(module: string, r: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = { changed: !!r.changed, failed: !!r.failed };
  if (r.failed) return o;
  for (const f of FIELDS) {
    if (!(f in r)) continue;
    if (f === 'msg' && !['lineinfile', 'blockinfile', 'replace'].includes(module)) continue;
    if (f === 'src' && module !== 'file') continue;
    if (f === 'backup' && module !== 'lineinfile') continue;
    if ((f === 'size' || f === 'mode' || f === 'owner' || f === 'group' || f === 'uid' || f === 'gid' || f === 'state') && module === 'replace') continue;
    o[f] = r[f];
  }
  if (module === 'stat' && r.stat) {
    const s = r.stat as Record<string, unknown>;
    const keep = ['exists', 'mode', 'isdir', 'isreg', 'islnk', 'uid', 'gid', 'size', 'checksum', 'pw_name', 'gr_name', 'lnk_target', 'lnk_source', 'readable', 'writeable', 'executable', 'nlink', 'isuid', 'isgid', 'mimetype', 'charset'];
    o.stat = Object.fromEntries(keep.filter((k) => k in s).map((k) => [k, s[k]]));
  }
  return o;
}

/** the text diffs of a result, as {before, after} pairs (dict diffs of the file module are skipped) */
function texts(d: unknown): { before: string; after: string }[] {
  const list = (Array.isArray(d) ? d : d ? [d] : []) as (FileDiff | Record<string, unknown>)[];
  return list.filter((x) => typeof x.before === 'string' && typeof x.after === 'string' && !String(x.before_header ?? '').endsWith('(file attributes)')).map((x) => ({ before: String(x.before), after: String(x.after) }));
}

let theirs: Record<string, Record<string, unknown>>;
let mine: Record<string, ModuleResult>;

beforeAll(async () => {
  cluster = await startHosts({ count: 2, namePrefix: 'mfpar' });
  [hA, hB] = cluster.hosts as [TestHost, TestHost];
  conns = new Connections({ knownHostsFile: cluster.knownHostsFile, hostKeyChecking: 'strict', agent: false, connectTimeout: 10 });
  keys = { k1: cluster.keys.ecdsa.publicKey.split(' ').slice(0, 2).join(' '), k2: cluster.keys.rsa.publicKey.split(' ').slice(0, 2).join(' ') + ' two' };
  dir = mkdtempSync(join(tmpdir(), 'mf-parity-'));
  mkdirSync(join(dir, 'files', 'tree', 'sub'), { recursive: true });
  mkdirSync(join(dir, 'files', 'tree', 'empty'), { recursive: true });
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'files', 'app.conf'), 'listen 8080\n');
  writeFileSync(join(dir, 'files', 'tree', 'a.txt'), 'A\n');
  writeFileSync(join(dir, 'files', 'tree', 'sub', 'b.txt'), 'B\n', { mode: 0o600 });
  writeFileSync(join(dir, 'templates', 'site.conf.j2'), 'server {{ name }}:{{ port }}\n{% for u in upstreams %}\nupstream {{ u }}\n{% endfor %}\nmotd {{ motd }}\n');
  writeFileSync(join(dir, 'templates', 'ls.j2'), 'x:\n  {% if enabled %}\n  y\n  {% endif %}\nend\n');
  writeFileSync(join(dir, 'templates', 'hdr.j2'), '#jinja2: lstrip_blocks: True, trim_blocks: False\n{% for u in upstreams %}\n  {% if u %}\n{{ u }}\n  {% endif %}\n{% endfor %}\n');
  for (const h of [hA, hB]) {
    const r = await h.exec(`mkdir -p ${D} && ${CASES.filter((c) => c.setup).map((c) => `(${c.setup})`).join(' && ')} && chown -R tester: ${CASES.filter((c) => c.become).map((c) => P(c.id)).join(' ')}`);
    if (r.rc !== 0) throw new Error(`setup failed on ${h.name}: ${r.stderr}`);
  }
}, 300_000);

afterAll(async () => {
  await conns?.closeAll();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('file modules: parity with ansible-playbook 2.14', () => {
  beforeAll(async () => {
    [theirs, mine] = await Promise.all([ansible(), ours()]);
  }, 900_000);

  it('results, diffs and resulting trees agree (or the difference is known and explained)', async () => {
    const diffs: string[] = [];
    let total = 0;
    let agree = 0;
    const stale: string[] = [];
    let known = 0;
    const check = (key: string, a: unknown, b: unknown): void => {
      total++;
      if (JSON.stringify(a) === JSON.stringify(b)) {
        agree++;
        if (KNOWN[key]) stale.push(key);
        return;
      }
      if (KNOWN[key]) {
        known++;
        return;
      }
      diffs.push(`${key}\n    ansible: ${JSON.stringify(a)}\n    ours:    ${JSON.stringify(b)}`);
    };
    for (const c of CASES) {
      for (const [i, s] of c.steps.entries()) {
        for (const pass of [0, 1, 2]) {
          const key = `${c.id}#${i}#${pass}`;
          const a = theirs[key];
          const b = mine[key] as Record<string, unknown> | undefined;
          expect(a, `ansible ran ${key}`).toBeDefined();
          expect(b, `we ran ${key}`).toBeDefined();
          check(`${key}:result`, comparable(s.module, a!), comparable(s.module, b!));
          if (pass === 1 && !a!.failed && s.module !== 'file') check(`${key}:diff`, texts(a!.diff), texts(b!.diff));
        }
      }
      check(`${c.id}:tree`, await tree(hA, c.id), await tree(hB, c.id));
    }
    console.log(`file-module parity with ansible-playbook 2.14: ${agree}/${total} comparisons identical, ${known} known differences, ${diffs.length} unexplained (${CASES.length} cases, ${CASES.reduce((n, c) => n + c.steps.length, 0)} steps × 3 passes)`);
    expect(diffs, `unexplained differences:\n${diffs.join('\n')}`).toEqual([]);
    expect(stale, 'KNOWN lists differences that no longer occur: remove them').toEqual([]);
  });
});

// ───────────────────────────── cross idempotency ─────────────────────────────
// What one side made, the other side must accept as already done (changed=false): keys, CSRs and
// certificates (community.crypto), an OpenSSH key pair, a user account.

const X = '/srv/cross';
const CROSS: { name: string; module: string; args: Record<string, unknown>; register?: string }[] = [
  { name: 'ca-key', module: 'openssl_privatekey', args: { path: `${X}/ca.key`, size: 2048 } },
  { name: 'ca-csr', module: 'openssl_csr_pipe', register: 'csr_ca', args: { privatekey_path: `${X}/ca.key`, common_name: 'Cross CA', use_common_name_for_san: false, basic_constraints: ['CA:TRUE'], basic_constraints_critical: true, key_usage: ['keyCertSign', 'cRLSign'], key_usage_critical: true, content: '{{ csr_ca_prev | default(omit) }}' } },
  { name: 'ca-crt', module: 'x509_certificate_pipe', register: 'crt_ca', args: { provider: 'selfsigned', csr_content: '{{ csr_ca.csr }}', privatekey_path: `${X}/ca.key`, content: '{{ crt_ca_prev | default(omit) }}' } },
  { name: 'ca-file', module: 'copy', args: { content: '{{ crt_ca.certificate }}', dest: `${X}/ca.crt` } },
  { name: 'leaf-key', module: 'openssl_privatekey', args: { path: `${X}/leaf.key`, size: 2048 } },
  {
    name: 'leaf-csr',
    module: 'openssl_csr_pipe',
    register: 'csr_leaf',
    args: {
      privatekey_path: `${X}/leaf.key`,
      common_name: 'registry.cross',
      organization_name: 'Burrow',
      subject_alt_name: ['DNS:registry.cross', 'IP:127.0.0.1', 'IP:fd00::10'],
      key_usage: ['digitalSignature', 'keyEncipherment'],
      extended_key_usage: ['serverAuth', 'clientAuth'],
      content: '{{ csr_leaf_prev | default(omit) }}',
    },
  },
  { name: 'leaf-crt', module: 'x509_certificate_pipe', register: 'crt_leaf', args: { provider: 'ownca', csr_content: '{{ csr_leaf.csr }}', ownca_path: `${X}/ca.crt`, ownca_privatekey_path: `${X}/ca.key`, content: '{{ crt_leaf_prev | default(omit) }}' } },
  { name: 'sshkey', module: 'openssh_keypair', args: { path: `${X}/id_cross`, type: 'ed25519', comment: 'cross@burrow' } },
  { name: 'user', module: 'user', args: { name: 'mfcross', uid: 3301, groups: ['tester'], shell: '/bin/sh', comment: 'Cross' } },
];

/** the `{{ … }}` of CROSS, resolved against earlier results (what the executor would do) */
function resolveArgs(args: Record<string, unknown>, vars: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if (typeof v !== 'string') {
      out[k] = v;
      continue;
    }
    const m = /^\{\{ (\w+)(?:\.(\w+))? (\| default\(omit\) )?\}\}$/.exec(v);
    if (!m) {
      out[k] = v;
      continue;
    }
    const base = vars[m[1]!] as Record<string, unknown> | string | undefined;
    const val = m[2] ? (base as Record<string, unknown> | undefined)?.[m[2]] : base;
    if (val === undefined && m[3]) continue;
    out[k] = val;
  }
  return out;
}

async function oursCross(h: TestHost, prev: Record<string, unknown>): Promise<Record<string, ModuleResult>> {
  const vars: Record<string, unknown> = { ...prev };
  const out: Record<string, ModuleResult> = {};
  for (const c of CROSS) {
    const mod = FILE_MODULES.find((m) => m.name === c.module)!;
    const ctx = moduleContext(transport('root', h), { baseDir: dir });
    const r = await mod.run(resolveArgs(c.args, vars), ctx);
    out[c.name] = r;
    if (c.register) vars[c.register] = r;
  }
  return out;
}

function ansibleCross(h: TestHost, prev: Record<string, unknown>): Promise<Record<string, Record<string, unknown>>> {
  const fqcn: Record<string, string> = {
    openssl_privatekey: 'community.crypto.openssl_privatekey',
    openssl_csr_pipe: 'community.crypto.openssl_csr_pipe',
    x509_certificate_pipe: 'community.crypto.x509_certificate_pipe',
    openssh_keypair: 'community.crypto.openssh_keypair',
  };
  const tasks = CROSS.map((c) => ({ name: c.name, [fqcn[c.module] ?? c.module]: c.args, ...(c.register ? { register: c.register } : {}) }));
  return playbook(h, [{ hosts: 'all', gather_facts: false, vars: prev, tasks: [{ name: 'dir', file: { path: X, state: 'directory' } }, ...tasks] }], `cross-${h.name}`);
}

describe('cross idempotency with ansible-playbook (community.crypto, openssh_keypair, user)', () => {
  it('what Ansible made, ours keeps (changed=false); what ours made, Ansible keeps', async () => {
    // Ansible first on A, then ours on A with Ansible's CSR/certificate as `content`
    const a = await ansibleCross(hA, {});
    for (const c of CROSS) expect(a[c.name]?.failed, `ansible ${c.name}: ${String(a[c.name]?.msg)}`).toBeFalsy();
    const prevA = { csr_ca_prev: a['ca-csr']!.csr, crt_ca_prev: a['ca-crt']!.certificate, csr_leaf_prev: a['leaf-csr']!.csr, crt_leaf_prev: a['leaf-crt']!.certificate };
    const o = await oursCross(hA, prevA);
    const changedOurs = CROSS.filter((c) => o[c.name]!.changed || o[c.name]!.failed).map((c) => `${c.name}: ${JSON.stringify({ changed: o[c.name]!.changed, msg: o[c.name]!.msg, reasons: o[c.name]!.reasons })}`);
    expect(changedOurs, 'ours changed what Ansible made').toEqual([]);
    expect(o['leaf-csr']!.csr).toBe(a['leaf-csr']!.csr);
    expect(o['leaf-crt']!.certificate).toBe(a['leaf-crt']!.certificate);

    // ours first on B, then Ansible on B with our CSR/certificate as `content`
    await hB.exec(`mkdir -p ${X}`);
    const mine1 = await oursCross(hB, {});
    for (const c of CROSS) expect(mine1[c.name]!.failed, `ours ${c.name}: ${String(mine1[c.name]!.msg)}`).toBeFalsy();
    hB.writeFile(`${X}/leaf.crt`, String(mine1['leaf-crt']!.certificate));
    const verify = await hB.exec(`openssl verify -CAfile ${X}/ca.crt ${X}/leaf.crt`);
    expect(verify.stdout.trim()).toBe(`${X}/leaf.crt: OK`);
    const prevB = { csr_ca_prev: mine1['ca-csr']!.csr, crt_ca_prev: mine1['ca-crt']!.certificate, csr_leaf_prev: mine1['leaf-csr']!.csr, crt_leaf_prev: mine1['leaf-crt']!.certificate };
    const b = await ansibleCross(hB, prevB);
    const changedTheirs = CROSS.filter((c) => b[c.name]!.changed || b[c.name]!.failed).map((c) => `${c.name}: ${JSON.stringify({ changed: b[c.name]!.changed, msg: b[c.name]!.msg })}`);
    expect(changedTheirs, 'Ansible changed what ours made').toEqual([]);
    expect(b['leaf-crt']!.certificate).toBe(mine1['leaf-crt']!.certificate);
    console.log(`cross idempotency: ${CROSS.length} tasks each way, ours kept Ansible's and Ansible kept ours`);
  });
});
