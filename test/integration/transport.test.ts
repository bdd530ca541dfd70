/**
 * The ssh transport on real sshd test hosts (test/support/testhosts.ts): auth (every key type, passphrase,
 * password, ssh-agent), host keys, failure reasons, become, the connection pool, timeouts, put/get, jump host.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BecomeError, CommandTimeoutError, TransportError } from '../../src/transport/errors.js';
import { SshPool, type SshPoolOptions, type SshTarget } from '../../src/transport/ssh.js';
import { fingerprint } from '../../src/transport/knownhosts.js';
import { startHosts, type ClientKeyType, type HostUser, type TestCluster, type TestHost } from '../support/testhosts.js';

let cluster: TestCluster;
let dir: string;
const pools: SshPool[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'transport-'));
  cluster = await startHosts({ count: 6, mode: 'loopback', namePrefix: 'tr' });
}, 120_000);

afterAll(async () => {
  for (const p of pools) await p.closeAll();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

function pool(opts: SshPoolOptions = {}): SshPool {
  const p = new SshPool({ knownHostsFile: cluster.knownHostsFile, hostKeyChecking: 'strict', agent: false, connectTimeout: 10, ...opts });
  pools.push(p);
  return p;
}

function target(h: TestHost, user: HostUser = 'root', auth: { key?: ClientKeyType; password?: string } = { key: 'ed25519' }): SshTarget {
  const t: SshTarget = { name: h.name, address: h.address, port: h.port, user };
  if (auth.key) t.keyFile = cluster.keys[auth.key].path;
  if (auth.password !== undefined) t.password = auth.password;
  return t;
}

async function rejection(p: Promise<unknown>): Promise<TransportError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TransportError) return e;
    throw e;
  }
  throw new Error('expected a TransportError, the operation succeeded');
}

/** machine pids of the per-connection sshd processes of a host ("sshd: user [priv]", "sshd: user@notty") */
function sessionSshdPids(h: TestHost): number[] {
  const out: number[] = [];
  for (const pid of h.pids()) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (/^sshd: \S+/.test(cmd) && !/listener/.test(cmd)) out.push(pid);
  }
  return out;
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('auth', () => {
  for (const key of ['ed25519', 'rsa', 'ecdsa'] as const) {
    it(`key ${key}`, async () => {
      const h = cluster.hosts[0]!;
      const before = h.countLogins('root', 'publickey');
      const t = pool().transport(target(h, 'root', { key }));
      const r = await t.exec('id -un');
      expect(r).toEqual({ rc: 0, stdout: 'root\n', stderr: '' });
      expect(h.countLogins('root', 'publickey')).toBe(before + 1);
    }, 30_000);
  }

  it('RSA signs with SHA-2 (the server refuses ssh-rsa/SHA-1)', async () => {
    const h = cluster.hosts[0]!;
    const t = pool().transport(target(h, 'root', { key: 'rsa' }));
    await t.exec('true');
    // sshd (VERBOSE) names the signature algorithm it accepted
    expect(h.readLog()).toMatch(/Accepted publickey for root .* (RSA|rsa-sha2-(256|512))/);
    expect(h.readLog()).not.toMatch(/Accepted publickey for root .* ssh-rsa\b/);
  }, 30_000);

  it('a passphrase-protected key prompts once for all hosts', async () => {
    const asked: string[] = [];
    const p = pool({ prompt: async (q) => (asked.push(q), 'key-passphrase-1') });
    const hs = cluster.hosts.slice(0, 3);
    const rs = await Promise.all(hs.map((h) => p.transport(target(h, 'root', { key: 'ed25519Encrypted' })).exec('hostname')));
    expect(rs.map((r) => r.stdout.trim())).toEqual(hs.map((h) => h.name));
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain(cluster.keys.ed25519Encrypted.path);
  }, 30_000);

  it('a wrong passphrase is an auth failure naming the key; no terminal → hint to use the agent', async () => {
    const h = cluster.hosts[0]!;
    const e = await rejection(pool({ prompt: async () => 'nope' }).transport(target(h, 'root', { key: 'ed25519Encrypted' })).exec('true'));
    expect(e.reason).toBe('auth');
    expect(e.message).toContain('wrong passphrase');
    const e2 = await rejection(pool().transport(target(h, 'root', { key: 'ed25519Encrypted' })).exec('true'));
    expect(e2.reason).toBe('auth');
    expect(e2.hint).toContain('ssh-agent');
  }, 30_000);

  it('password auth, and a wrong password', async () => {
    const h = cluster.hosts[1]!;
    const before = h.countLogins('tester', 'password');
    const r = await pool().transport(target(h, 'tester', { password: cluster.password })).exec('id -un');
    expect(r.stdout).toBe('tester\n');
    expect(h.countLogins('tester', 'password')).toBe(before + 1);
    const e = await rejection(pool().transport(target(h, 'tester', { password: 'not-the-password' })).exec('true'));
    expect(e.reason).toBe('auth');
    expect(e.message).toMatch(/authentication failed for tester@/);
    expect(e.exitCode).toBe(3);
  }, 60_000);

  it('ssh-agent (a real ssh-agent with the key added)', async () => {
    const sock = join(dir, 'agent.sock');
    const out = execFileSync('ssh-agent', ['-a', sock, '-s'], { encoding: 'utf8' });
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)?.[1]);
    try {
      execFileSync('ssh-add', [cluster.keys.ecdsa.path], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      const h = cluster.hosts[2]!;
      const before = h.countLogins('nopass', 'publickey');
      const r = await pool({ agent: sock }).transport(target(h, 'nopass', {})).exec('id -un');
      expect(r.stdout).toBe('nopass\n');
      expect(h.countLogins('nopass', 'publickey')).toBe(before + 1);
    } finally {
      if (pid > 0) process.kill(pid, 'SIGTERM');
    }
  }, 30_000);
});

describe('host keys', () => {
  it('strict mode: a changed host key is a hard error naming both SHA256 fingerprints', async () => {
    const h = cluster.hosts[5]!;
    const kh = join(dir, 'kh-strict');
    writeFileSync(kh, readFileSync(cluster.knownHostsFile));
    const old = h.hostKeyFingerprint;
    const p1 = pool({ knownHostsFile: kh });
    const first = await p1.transport(target(h)).exec('true');
    expect(first.rc).toBe(0);
    // (the harness restarts sshd for the new key; it wants no session open meanwhile)
    await p1.closeAll();
    await waitFor('the session to end', () => sessionSshdPids(h).length === 0);
    const fresh = await h.regenerateHostKey();
    expect(fresh).not.toBe(old);
    const e = await rejection(pool({ knownHostsFile: kh }).transport(target(h)).exec('true'));
    expect(e.reason).toBe('hostkey');
    expect(e.message).toContain(h.name);
    expect(e.message).toContain(old);
    expect(e.message).toContain(fresh);
    expect(fresh).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(e.hint).toContain('ssh-keygen -R');
    // accept-new does not accept a *changed* key either
    const e2 = await rejection(pool({ knownHostsFile: kh, hostKeyChecking: 'accept-new' }).transport(target(h)).exec('true'));
    expect(e2.reason).toBe('hostkey');
  }, 60_000);

  it('accept-new records a first-contact key in known_hosts (then strict accepts it); strict refuses an unknown key', async () => {
    const h = cluster.hosts[4]!;
    const kh = join(dir, 'kh-new');
    const e = await rejection(pool({ knownHostsFile: kh, hostKeyChecking: 'strict' }).transport(target(h)).exec('true'));
    expect(e.reason).toBe('hostkey');
    expect(e.message).toContain('not in');
    await pool({ knownHostsFile: kh, hostKeyChecking: 'accept-new' }).transport(target(h)).exec('true');
    const text = readFileSync(kh, 'utf8');
    expect(text.trim().split('\n')).toHaveLength(1);
    expect(text).toMatch(new RegExp(`^${h.address.replace(/\./g, '\\.')} ssh-ed25519 AAAA`));
    // OpenSSH agrees with what we wrote
    const found = spawnSync('ssh-keygen', ['-F', h.address, '-f', kh, '-l'], { encoding: 'utf8' });
    expect(found.stdout).toContain(h.hostKeyFingerprint);
    expect((await pool({ knownHostsFile: kh, hostKeyChecking: 'strict' }).transport(target(h)).exec('echo ok')).stdout).toBe('ok\n');
  }, 60_000);

  it('hashed known_hosts entries (ssh-keygen -H) are honoured', async () => {
    const h = cluster.hosts[0]!;
    const kh = join(dir, 'kh-hashed');
    writeFileSync(kh, readFileSync(cluster.knownHostsFile));
    execFileSync('ssh-keygen', ['-H', '-f', kh], { stdio: 'ignore' });
    expect(readFileSync(kh, 'utf8')).toMatch(/^\|1\|/);
    expect(readFileSync(kh, 'utf8')).not.toContain(h.address + ' ');
    expect((await pool({ knownHostsFile: kh }).transport(target(h)).exec('echo ok')).stdout).toBe('ok\n');
  }, 30_000);

  it('off: any key is accepted and nothing is written', async () => {
    const h = cluster.hosts[0]!;
    const kh = join(dir, 'kh-off');
    await pool({ knownHostsFile: kh, hostKeyChecking: 'off' }).transport(target(h)).exec('true');
    expect(() => readFileSync(kh)).toThrow();
  }, 30_000);

  it('fingerprint() matches ssh-keygen -l', () => {
    const h = cluster.hosts[1]!;
    const blob = Buffer.from(h.hostPublicKey.split(' ')[1]!, 'base64');
    expect(fingerprint(blob)).toBe(h.hostKeyFingerprint);
  });
});

describe('failure reasons', () => {
  it('sshd stopped → connection refused', async () => {
    const h = cluster.hosts[3]!;
    await h.stopSshd();
    try {
      const e = await rejection(pool().transport(target(h)).exec('true'));
      expect(e.reason).toBe('refused');
      expect(e.message).toContain('connection refused');
      expect(e.message).toContain(h.address);
      expect(e.exitCode).toBe(3);
    } finally {
      await h.startSshd();
    }
  }, 60_000);

  it('sshd frozen (SIGSTOP) → timeout within the configured bound', async () => {
    const h = cluster.hosts[3]!;
    h.freeze();
    try {
      const t0 = Date.now();
      const e = await rejection(pool({ connectTimeout: 2 }).transport(target(h)).exec('true'));
      const took = Date.now() - t0;
      expect(e.reason).toBe('timeout');
      expect(e.message).toContain('timed out after 2s');
      expect(took).toBeGreaterThanOrEqual(1900);
      expect(took).toBeLessThan(4000);
    } finally {
      h.thaw();
    }
  }, 30_000);

  it('unresolvable name → name resolution', async () => {
    const h = cluster.hosts[0]!;
    const e = await rejection(pool().transport({ ...target(h), address: 'no-such-host.invalid' }).exec('true'));
    expect(e.reason).toBe('dns');
    expect(e.message).toContain('no-such-host.invalid');
  }, 30_000);

  it('one broken host does not stop the others', async () => {
    const p = pool({ connectTimeout: 3 });
    const hs = cluster.hosts.slice(0, 3);
    const bad: SshTarget = { ...target(hs[0]!), port: 1 };
    const rs = await Promise.allSettled([p.transport(bad).exec('true'), ...hs.slice(1).map((h) => p.transport(target(h)).exec('hostname'))]);
    expect(rs[0]!.status).toBe('rejected');
    expect(rs.slice(1).map((r) => (r.status === 'fulfilled' ? r.value.stdout.trim() : 'failed'))).toEqual(hs.slice(1).map((h) => h.name));
  }, 30_000);
});

describe('become (sudo)', () => {
  it('with a password (fed on stdin, never in argv)', async () => {
    const h = cluster.hosts[1]!;
    const t = pool().transport(target(h, 'tester', { password: cluster.password }));
    const r = await t.exec('id -un; cat', { become: { password: cluster.password }, stdin: 'data after the password\n' });
    expect(r).toEqual({ rc: 0, stdout: 'root\ndata after the password\n', stderr: '' });
    // the password never shows up in the host's process list or sshd log
    expect(h.readLog()).not.toContain(cluster.password);
  }, 30_000);

  it('NOPASSWD sudo with -n, and become_user', async () => {
    const h = cluster.hosts[1]!;
    const t = pool().transport(target(h, 'nopass'));
    expect((await t.exec('id -un', { become: true })).stdout).toBe('root\n');
    expect((await t.exec('id -un; echo $HOME', { become: { user: 'tester' } })).stdout).toBe('tester\n/home/tester\n');
  }, 30_000);

  it('wrong sudo password is named', async () => {
    const h = cluster.hosts[1]!;
    const t = pool().transport(target(h, 'tester', { password: cluster.password }));
    const e = await rejection(t.exec('id -un', { become: { password: 'wrong-sudo-password' } }));
    expect(e).toBeInstanceOf(BecomeError);
    expect(e.message).toBe('incorrect sudo password');
    expect(e.exitCode).toBe(2);
    // the connection is still usable
    expect((await t.exec('echo still-here')).stdout).toBe('still-here\n');
  }, 30_000);

  it('a password needed but none given is named', async () => {
    const h = cluster.hosts[1]!;
    const e = await rejection(pool().transport(target(h, 'tester', { password: cluster.password })).exec('true', { become: true }));
    expect(e).toBeInstanceOf(BecomeError);
    expect(e.message).toContain('needs a password');
  }, 30_000);

  it('requiretty is detected and named', async () => {
    const h = cluster.hosts[2]!;
    await h.exec(`printf 'Defaults:tester requiretty\\n' > /etc/sudoers.d/zz-requiretty && chmod 0440 /etc/sudoers.d/zz-requiretty`);
    try {
      const e = await rejection(pool().transport(target(h, 'tester', { password: cluster.password })).exec('true', { become: { password: cluster.password } }));
      expect(e).toBeInstanceOf(BecomeError);
      expect(e.message).toContain('requires a tty');
    } finally {
      await h.exec('rm -f /etc/sudoers.d/zz-requiretty');
    }
  }, 30_000);
});

describe('connection pool', () => {
  it('100 commands on one host reuse one connection (one login in the sshd log)', async () => {
    const h = cluster.hosts[2]!;
    const before = h.countLogins('root');
    const t = pool().transport(target(h));
    const rs = await Promise.all(Array.from({ length: 100 }, (_, i) => t.exec(`echo ${i}`)));
    expect(rs.map((r) => r.stdout)).toEqual(Array.from({ length: 100 }, (_, i) => `${i}\n`));
    expect(h.countLogins('root') - before).toBe(1);
  }, 120_000);

  it('the connection killed mid-command → that host fails with a clear reason, the others finish', async () => {
    const p = pool();
    const victim = cluster.hosts[3]!;
    const other = cluster.hosts[4]!;
    const tv = p.transport(target(victim));
    const to = p.transport(target(other));
    await Promise.all([tv.connect(), to.connect()]);
    const running = tv.exec('sleep 30; echo never');
    const otherRun = to.exec('sleep 2; echo done');
    await waitFor('the session sshd', () => sessionSshdPids(victim).length > 0);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    for (const pid of sessionSshdPids(victim)) process.kill(pid, 'SIGKILL');
    const e = await rejection(running);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(e.reason).toBe('lost');
    expect(e.message).toContain(victim.name);
    expect(e.exitCode).toBe(3);
    // the host is marked unreachable for the rest of the run
    const e2 = await rejection(tv.exec('true'));
    expect(e2.reason).toBe('lost');
    expect((await otherRun).stdout).toBe('done\n');
  }, 60_000);

  it('per-command timeout kills the remote process group', async () => {
    const h = cluster.hosts[2]!;
    const t = pool().transport(target(h));
    const t0 = Date.now();
    const e = await rejection(t.exec('sh -c "sleep 4242; echo never" & sleep 4243; echo never', { timeout: 1 }));
    expect(e).toBeInstanceOf(CommandTimeoutError);
    expect(Date.now() - t0).toBeLessThan(4000);
    await waitFor('the remote sleeps to die', async () => (await h.exec('pgrep -f "sleep 424[23]" || true')).stdout.trim() === '', 5000);
    expect((await h.exec('pgrep -f "sleep 424[23]" || echo none')).stdout.trim()).toBe('none');
    // the connection is still usable afterwards
    expect((await t.exec('echo ok')).stdout).toBe('ok\n');
  }, 30_000);

  it('per-command timeout with become kills the root-owned process too', async () => {
    const h = cluster.hosts[2]!;
    const t = pool().transport(target(h, 'tester', { password: cluster.password }));
    const e = await rejection(t.exec('sleep 4244', { timeout: 1, become: { password: cluster.password } }));
    expect(e).toBeInstanceOf(CommandTimeoutError);
    await waitFor('the remote sleep to die', async () => (await h.exec('pgrep -f "sleep 424[4]" || true')).stdout.trim() === '', 5000);
  }, 30_000);
});

describe('put / get', () => {
  it('writes atomically with mode and owner, reads back the same bytes', async () => {
    const h = cluster.hosts[0]!;
    const t = pool().transport(target(h));
    const data = Buffer.from(Array.from({ length: 3 * 256 }, (_, i) => i % 256));
    await t.exec('mkdir -p /srv/puttest && echo old > /srv/puttest/f');
    await t.put(data, '/srv/puttest/f', { mode: '0640', owner: 'tester', group: 'nopass' });
    expect((await h.exec('stat -c "%a %U %G %s" /srv/puttest/f')).stdout.trim()).toBe(`640 tester nopass ${data.length}`);
    expect((await t.get('/srv/puttest/f')).equals(data)).toBe(true);
    // no temp file left behind
    expect((await h.exec('ls -A /srv/puttest')).stdout.trim()).toBe('f');
  }, 30_000);

  it('a failed put leaves the old file intact and no temp file', async () => {
    const h = cluster.hosts[0]!;
    const t = pool().transport(target(h));
    await t.exec('mkdir -p /srv/puttest2 && echo old > /srv/puttest2/f');
    const e = await rejection(t.put('new\n', '/srv/puttest2/f', { owner: 'no-such-user' }));
    expect(e.reason).toBe('remote');
    expect((await h.exec('cat /srv/puttest2/f; ls -A /srv/puttest2')).stdout).toBe('old\nf\n');
  }, 30_000);

  it('put from a stream through sudo, get through sudo', async () => {
    const h = cluster.hosts[1]!;
    const t = pool().transport(target(h, 'tester', { password: cluster.password }));
    const become = { password: cluster.password };
    await t.put(Readable.from([Buffer.from('line 1\n'), Buffer.from('line 2\n')]), '/etc/burrow-test.conf', { mode: 0o600, become });
    expect((await h.exec('stat -c "%a %U" /etc/burrow-test.conf; cat /etc/burrow-test.conf')).stdout).toBe('600 root\nline 1\nline 2\n');
    expect((await t.get('/etc/burrow-test.conf', { become })).toString()).toBe('line 1\nline 2\n');
    const e = await rejection(t.get('/etc/burrow-test.conf'));
    expect(e.message).toMatch(/Permission denied/);
  }, 30_000);
});

describe('jump host', () => {
  it('reaches a host only the jump host can resolve, through forwardOut', async () => {
    const jump = cluster.hosts[0]!;
    const dest = cluster.hosts[1]!;
    await jump.exec(`echo '${dest.address} hidden-behind-jump' >> /etc/hosts`);
    const p = pool();
    const direct = await rejection(p.transport({ ...target(dest), name: 'direct', address: 'hidden-behind-jump' }).exec('true'));
    expect(direct.reason).toBe('dns');
    const viaJump: SshTarget = { ...target(dest), address: 'hidden-behind-jump', jump: target(jump) };
    // known_hosts has the destination under its address, not this alias: accept-new for this one
    const p2 = pool({ knownHostsFile: join(dir, 'kh-jump'), hostKeyChecking: 'accept-new' });
    const r = await p2.transport(viaJump).exec('hostname');
    expect(r.stdout.trim()).toBe(dest.name);
    expect(readFileSync(join(dir, 'kh-jump'), 'utf8')).toContain('hidden-behind-jump ssh-ed25519');
  }, 30_000);
});
