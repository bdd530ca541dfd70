/**
 * Local transport parity: the same command set through `ansible_connection=local` (child_process) and
 * through ssh (root on a real sshd test host) gives the same results.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandTimeoutError, TransportError } from '../../src/transport/errors.js';
import { LocalTransport } from '../../src/transport/local.js';
import { SshPool } from '../../src/transport/ssh.js';
import type { ExecOptions, Transport } from '../../src/transport/types.js';
import { startHosts, type TestCluster } from '../support/testhosts.js';

let cluster: TestCluster;
let pool: SshPool;
let ssh: Transport;
const local = new LocalTransport('localhost');
const dir = `/tmp/parity-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  cluster = await startHosts({ count: 1, namePrefix: 'par' });
  const h = cluster.hosts[0]!;
  pool = new SshPool({ knownHostsFile: cluster.knownHostsFile, hostKeyChecking: 'strict', agent: false });
  ssh = pool.transport({ name: h.name, address: h.address, port: h.port, user: 'root', keyFile: cluster.keys.ed25519.path });
  await Promise.all([ssh.exec(`mkdir -p ${dir}`), local.exec(`mkdir -p ${dir}`)]);
}, 120_000);

afterAll(async () => {
  await local.close();
  await pool?.closeAll();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const CASES: [string, string, ExecOptions?][] = [
  ['stdout and stderr', 'echo out; echo err >&2; printf "no newline"'],
  ['exit status', 'exit 42'],
  ['stdin', 'wc -c; cat', { stdin: 'hello\nworld\n' }],
  ['binary-safe stdin of 1 MiB', 'wc -c', { stdin: Buffer.alloc(1 << 20, 7) }],
  ['large output', 'i=0; while [ $i -lt 20000 ]; do echo "line $i"; i=$((i+1)); done | tail -c 100; echo; seq 1 50000 | wc -l'],
  ['env values with quotes and spaces', 'printf "%s|%s\\n" "$A" "$B"', { env: { A: "it's a \"test\"", B: '$HOME `x` \\ ;' } }],
  ['cwd', 'pwd', { cwd: dir }],
  ['missing cwd', 'pwd', { cwd: `${dir}/nope` }],
  ['killed by a signal', 'kill -TERM $$'],
  ['command not found', 'no-such-command-xyz 2>/dev/null'],
  ['unicode', 'printf "%s\\n" "grüße ✓"'],
  ['become another user (sudo -n)', 'id -un', { become: { user: 'nobody' } }],
  ['shell is POSIX sh', 'echo $((6*7)); [ -n "${BASH_VERSION:-}" ] && echo bash || echo sh'],
];

describe('local and ssh give the same results', () => {
  for (const [name, cmd, opts] of CASES) {
    it(name, async () => {
      const [a, b] = await Promise.all([local.exec(cmd, opts), ssh.exec(cmd, opts)]);
      // "missing cwd" names the directory in a shell-specific message: compare the rc and that it is named
      if (name === 'missing cwd') {
        expect(a.rc).toBe(1);
        expect(b.rc).toBe(1);
        expect(a.stderr).toContain('nope');
        expect(b.stderr).toContain('nope');
        return;
      }
      expect(b).toEqual(a);
    }, 30_000);
  }

  it('per-command timeout: both throw CommandTimeoutError and kill the process group', async () => {
    const tag = randomBytes(3).toString('hex');
    const n = 5000 + parseInt(tag, 16) % 1000;
    const errs = await Promise.all(
      [local, ssh].map((t) =>
        t.exec(`sleep ${n} & sleep ${n + 1}`, { timeout: 1 }).then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    for (const e of errs) expect(e).toBeInstanceOf(CommandTimeoutError);
    await new Promise((r) => setTimeout(r, 500));
    // [s] keeps pgrep from matching the shell that runs it
    const check = `pgrep -f '[s]leep (${n}|${n + 1})$' || echo none`;
    const [a, b] = await Promise.all([local.exec(check), ssh.exec(check)]);
    expect(a.stdout.trim()).toBe('none');
    expect(b.stdout.trim()).toBe('none');
  }, 30_000);

  it('put/get: same modes, owners and bytes', async () => {
    const data = Buffer.from(randomBytes(4096));
    for (const t of [local, ssh]) {
      await t.put(data, `${dir}/f.bin`, { mode: '0604', owner: 'nobody', group: 'nogroup' });
      expect((await t.get(`${dir}/f.bin`)).equals(data)).toBe(true);
    }
    const [a, b] = await Promise.all([local, ssh].map((t) => t.exec(`stat -c '%a %U %G %s' ${dir}/f.bin; ls -A ${dir}`)));
    expect(a!.stdout).toBe(`604 nobody nogroup 4096\nf.bin\n`);
    expect(b).toEqual(a);
    expect(statSync(`${dir}/f.bin`).mode & 0o777).toBe(0o604);
  }, 30_000);

  it('get of a missing file: the same error on both', async () => {
    const errs = await Promise.all([local, ssh].map((t) => t.get(`${dir}/missing`).then(() => undefined, (e: unknown) => e)));
    for (const e of errs) {
      expect(e).toBeInstanceOf(TransportError);
      expect((e as TransportError).reason).toBe('remote');
      expect((e as TransportError).message).toContain('No such file');
    }
  }, 30_000);
});
