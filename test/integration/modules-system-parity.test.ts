/**
 * Parity slice: `command` and `shell` results against real Ansible (Debian ansible-core 2.14,
 * /usr/bin/ansible-playbook with the json callback) on the same real sshd test host. Each case runs once
 * through ansible-playbook and once through our module (free-form text split exactly as the playbook
 * loader does, with parseKv), and rc, stdout, stderr, stdout_lines, cmd, changed, failed, skipped and msg
 * must be identical. Cases cover quoting, exit codes, stderr, a missing program, creates/removes, chdir,
 * stdin, trailing-newline stripping, shell features and `executable`, become (tester → root) and check mode.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_MODULES } from '../../src/modules/system/index.js';
import { parseKv } from '../../src/playbook/kv.js';
import { Connections } from '../../src/transport/index.js';
import type { Transport } from '../../src/transport/types.js';
import { moduleContext } from '../support/modctx.js';
import { startHosts, type TestCluster, type TestHost } from '../support/testhosts.js';

interface Case {
  module: 'command' | 'shell';
  text?: string;
  args?: Record<string, unknown>;
}

const COMMAND_KEYS = ['creates', 'removes', 'chdir', 'executable', 'stdin', 'stdin_add_newline', 'strip_empty_ends'];

const CASES: Case[] = [
  { module: 'command', text: 'echo hello world' },
  { module: 'command', text: `printf '[%s]\\n' 'a b' "c'd" 'e"f' '$HOME' '*' 'x;y' '' 'back\\slash'` },
  { module: 'command', text: 'echo a#b foo\\ bar "q\\"uote"' },
  { module: 'command', text: 'echo $HOME ~ *' },
  { module: 'command', text: `printf '[%s]' '\${NO_SUCH_PARITY}' '$NO_SUCH_PARITY' ~root/x 'a~b' '$1' '\${HOME}y' '$(id)'` },
  { module: 'command', text: '/bin/false' },
  { module: 'command', text: 'ls /nonexistent-parity-dir' },
  { module: 'command', text: 'no-such-cmd-parity-xyz --x' },
  { module: 'command', text: 'echo x creates=/etc/passwd' },
  { module: 'command', text: 'echo x removes=/nonexistent-parity' },
  { module: 'command', text: 'echo ran creates=/nonexistent-parity' },
  { module: 'command', text: 'pwd chdir=/usr/share' },
  { module: 'command', text: 'pwd' },
  { module: 'command', text: 'cat', args: { stdin: 'line1\nline2' } },
  { module: 'command', text: 'od -An -c', args: { stdin: 'abc', stdin_add_newline: false } },
  { module: 'command', args: { argv: ['printf', '%s|', 'a b', "c'd", '$x', ''] } },
  { module: 'command', text: "printf 'x\\n\\n\\n'" },
  { module: 'command', text: "printf 'x\\n\\n'", args: { strip_empty_ends: false } },
  { module: 'command', text: "sh -c 'echo out; echo err >&2; exit 5'" },
  { module: 'command', text: 'echo "unicode ü ✓ 日本"' },
  { module: 'command', text: "printf 'a\\r\\nb\\r\\n'" },
  { module: 'shell', text: 'echo $((2+3)); echo e >&2' },
  { module: 'shell', text: 'exit 7' },
  { module: 'shell', text: 'echo "$HOME" "$0"; cd /tmp && pwd' },
  { module: 'shell', text: 'ls -d /etc/pass* | head -n 1' },
  { module: 'shell', text: 'echo "${BASH_VERSINFO[0]:+bash}" "$0"', args: { executable: '/bin/bash' } },
  { module: 'shell', text: 'tr a-z A-Z', args: { stdin: 'shout' } },
  { module: 'shell', text: 'echo x creates=/etc/passwd' },
  { module: 'shell', text: 'pwd; echo hi >&2; false', args: { chdir: '/var' } },
  { module: 'shell', text: 'for i in 1 2 3; do printf "%s," $i; done' },
];

/** Cases run in a second play as tester with become (sudo with password). */
const BECOME_CASES: Case[] = [
  { module: 'command', text: 'id -un' },
  { module: 'shell', text: 'id -un; cat', args: { stdin: 'in' } },
];

/** Cases run in a third play in check mode. */
const CHECK_CASES: Case[] = [
  { module: 'command', text: 'touch /tmp/parity-check' },
  { module: 'command', text: 'touch /tmp/parity-check creates=/etc/passwd' },
  { module: 'shell', text: 'touch /tmp/parity-check removes=/nonexistent-parity' },
];

const FIELDS = ['rc', 'stdout', 'stderr', 'stdout_lines', 'stderr_lines', 'cmd', 'changed', 'msg'] as const;

function norm(r: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of FIELDS) o[f] = r[f];
  o.failed = Boolean(r.failed);
  o.skipped = Boolean(r.skipped);
  return o;
}

function task(c: Case, i: number, tag: string): Record<string, unknown> {
  const t: Record<string, unknown> = { name: `${tag}-${i}` };
  t[c.module] = c.text ?? null;
  if (c.args) t.args = c.args;
  t.ignore_errors = true;
  return t;
}

let cluster: TestCluster;
let host: TestHost;
let dir: string;
let conns: Connections;

beforeAll(async () => {
  cluster = await startHosts({ count: 1, namePrefix: 'mpar' });
  host = cluster.hosts[0]!;
  dir = mkdtempSync(join(tmpdir(), 'modules-parity-'));
  conns = new Connections({ knownHostsFile: cluster.knownHostsFile, hostKeyChecking: 'strict', agent: false });
}, 120_000);

afterAll(async () => {
  await conns?.closeAll();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

function ansible(): Promise<Record<string, Record<string, unknown>>> {
  const inv = join(dir, 'hosts');
  cluster.writeInventory(inv, { user: 'root' });
  const plays = [
    { hosts: 'all', gather_facts: false, tasks: CASES.map((c, i) => task(c, i, 'case')) },
    {
      hosts: 'all',
      gather_facts: false,
      become: true,
      vars: { ansible_user: 'tester', ansible_become_password: cluster.password },
      tasks: BECOME_CASES.map((c, i) => task(c, i, 'become')),
    },
    { hosts: 'all', gather_facts: false, check_mode: true, tasks: CHECK_CASES.map((c, i) => task(c, i, 'check')) },
  ];
  writeFileSync(join(dir, 'site.yml'), stringify(plays));
  writeFileSync(join(dir, 'ansible.cfg'), '[defaults]\nretry_files_enabled = False\n');
  return new Promise((resolve, reject) => {
    execFile(
      '/usr/bin/ansible-playbook',
      ['-i', inv, join(dir, 'site.yml')],
      {
        cwd: dir,
        timeout: 300_000,
        maxBuffer: 64 << 20,
        env: { ...process.env, ANSIBLE_CONFIG: join(dir, 'ansible.cfg'), ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: '0', ANSIBLE_HOST_KEY_CHECKING: 'True' },
      },
      (err, stdout, stderr) => {
        let doc: { plays: { tasks: { task: { name: string }; hosts: Record<string, Record<string, unknown>> }[] }[] };
        try {
          doc = JSON.parse(stdout) as typeof doc;
        } catch {
          reject(new Error(`ansible-playbook output is not JSON (${String(err)}):\n${stdout.slice(0, 2000)}\n${stderr.slice(0, 2000)}`));
          return;
        }
        const out: Record<string, Record<string, unknown>> = {};
        for (const p of doc.plays) for (const t of p.tasks) out[t.task.name] = t.hosts[host.name]!;
        resolve(out);
      },
    );
  });
}

function transport(user: 'root' | 'tester'): Transport {
  const vars: Record<string, unknown> = { ansible_host: host.address, ansible_port: host.port, ansible_user: user, ansible_ssh_private_key_file: cluster.keys.ed25519.path };
  return conns.forHost(`${host.name}~${user}`, vars).transport;
}

async function ours(c: Case, opts: { user?: 'root' | 'tester'; become?: boolean; check?: boolean } = {}): Promise<Record<string, unknown>> {
  const mod = SYSTEM_MODULES.find((m) => m.name === c.module)!;
  let args: Record<string, unknown> = { ...c.args };
  let freeForm: string | undefined;
  if (c.text !== undefined) {
    const kv = parseKv(c.text, COMMAND_KEYS);
    args = { ...kv.args, ...args };
    freeForm = kv.raw;
  }
  const ctx = moduleContext(transport(opts.user ?? 'root'), { check: opts.check ?? false, ...(opts.become ? { become: { password: cluster.password } } : {}) });
  return (await mod.run(args, ctx, freeForm)) as Record<string, unknown>;
}

describe('command/shell parity with ansible-playbook 2.14 on the same host', () => {
  let theirs: Record<string, Record<string, unknown>>;
  beforeAll(async () => {
    theirs = await ansible();
  }, 300_000);

  it('every case: same rc, stdout, stderr, lines, cmd, changed, failed, skipped, msg', async () => {
    const diffs: string[] = [];
    const check = (label: string, a: Record<string, unknown> | undefined, b: Record<string, unknown>): void => {
      if (!a) {
        diffs.push(`${label}: no Ansible result`);
        return;
      }
      const na = norm(a);
      const nb = norm(b);
      if (JSON.stringify(na) !== JSON.stringify(nb)) diffs.push(`${label}:\n  ansible: ${JSON.stringify(na)}\n  ours:    ${JSON.stringify(nb)}`);
    };
    for (const [i, c] of CASES.entries()) check(`case-${i} ${c.module}: ${c.text ?? JSON.stringify(c.args)}`, theirs[`case-${i}`], await ours(c));
    for (const [i, c] of BECOME_CASES.entries()) check(`become-${i} ${c.text}`, theirs[`become-${i}`], await ours(c, { user: 'tester', become: true }));
    for (const [i, c] of CHECK_CASES.entries()) check(`check-${i} ${c.text}`, theirs[`check-${i}`], await ours(c, { check: true }));
    expect(diffs.join('\n\n')).toBe('');
    // sanity: the oracle really ran (a failing case failed there too)
    expect(theirs[`case-${CASES.findIndex((c) => c.text === '/bin/false')}`]).toMatchObject({ rc: 1, failed: true });
    expect(Object.keys(theirs).length).toBe(CASES.length + BECOME_CASES.length + CHECK_CASES.length);
  }, 180_000);
});
