/**
 * `./run ping` end to end: the real CLI against the embedded local inventory and against real sshd test
 * hosts, with each failure reason produced for real (sshd stopped, frozen, wrong password, changed host
 * key, unresolvable name, wrong sudo password, hostname mismatch).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, type InventoryOptions, type TestCluster } from '../support/testhosts.js';

const ROOT = resolve(import.meta.dirname, '../..');
let cluster: TestCluster;
let dir: string;

interface CliResult {
  rc: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const t0 = Date.now();
    // BURROW_CLI (e.g. "node_modules/node/bin/node dist/cli.js") tests a prebuilt CLI; default: ./run, as users run it
    const cli = (process.env.BURROW_CLI ?? join(ROOT, 'run')).split(' ');
    const child = spawn(cli[0]!, [...cli.slice(1), ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', RUN_CONFIG: join(dir, 'run.cfg'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`./run ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ rc: code ?? -1, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

function inventory(name: string, opts: InventoryOptions = {}, extra = ''): string {
  const path = join(dir, name);
  writeFileSync(path, cluster.inventory(opts) + extra, { mode: 0o600 });
  return path;
}

function line(out: string, host: string): string {
  return out.split('\n').find((l) => l.startsWith(host + ' ')) ?? `(no line for ${host} in:\n${out})`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ping-'));
  writeFileSync(join(dir, 'run.cfg'), `[defaults]\ninventory = ${join(ROOT, 'inventory', 'local')}\ntimeout = 3\n`);
  cluster = await startHosts({ count: 6, namePrefix: 'pg' });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('./run ping', () => {
  it('works on the embedded local inventory (the README job on a fresh machine)', async () => {
    const r = await runCli(['ping'], { RUN_CONFIG: '' });
    expect(r.stderr).toBe('');
    expect(r.rc).toBe(0);
    expect(r.stdout).toMatch(/^localhost\s+ok\s+\d+ ms\n/);
    expect(r.stdout).toMatch(/^ping: 1 host: 1 ok, 0 unreachable, 0 failed in \d+\.\d\ds$/m);
    // piped: no colour, no cursor tricks
    expect(r.stdout).not.toContain('\u001b');
    const withChecks = await runCli(['ping', '-i', join(ROOT, 'inventory', 'local'), '--checks', '--become']);
    expect(withChecks.rc).toBe(0);
    expect(withChecks.stdout).toMatch(/hostname check skipped \(local connection\), clock [+-]\d+\.\ds vs controller/);
  }, 60_000);

  it('colour only when asked, and NO_COLOR wins', async () => {
    const inv = join(ROOT, 'inventory', 'local');
    expect((await runCli(['ping', '-i', inv], { FORCE_COLOR: '1' })).stdout).toContain('\u001b[32mok');
    expect((await runCli(['ping', '-i', inv], { FORCE_COLOR: '1', NO_COLOR: '1' })).stdout).not.toContain('\u001b');
  }, 60_000);

  it('all test hosts answer; --checks (hostname, clock) and --become pass', async () => {
    const inv = inventory('all-ok', { user: 'tester', become: true });
    const r = await runCli(['ping', '-i', inv, '--checks', '--become']);
    expect(r.stdout).toContain(`ping: 6 hosts: 6 ok, 0 unreachable, 0 failed`);
    for (const h of cluster.hosts) expect(line(r.stdout, h.name)).toMatch(new RegExp(`^${h.name}\\s+ok\\s+\\d+ ms  hostname ${h.name}, clock [+-]\\d\\.\\ds vs controller$`));
    expect(r.rc).toBe(0);
  }, 60_000);

  it('--limit and --json', async () => {
    const inv = inventory('groups', { groups: { web: ['pg1', 'pg2', 'pg3'], db: ['pg4', 'pg5'] } });
    const r = await runCli(['ping', '-i', inv, '--limit', 'web:db:!pg2:&web', '--json']);
    expect(r.rc).toBe(0);
    const doc = JSON.parse(r.stdout) as { hosts: { host: string; status: string; latencyMs: number }[]; summary: { ok: number } };
    expect(doc.hosts.map((h) => h.host)).toEqual(['pg1', 'pg3']);
    expect(doc.hosts.every((h) => h.status === 'ok' && h.latencyMs > 0)).toBe(true);
    expect(doc.summary.ok).toBe(2);
    const bad = await runCli(['ping', '-i', inv, '--limit', 'wbe']);
    expect(bad.rc).toBe(5);
    expect(bad.stderr).toContain('no group or host matches "wbe"');
    expect(bad.stderr).toMatch(/did you mean: .*web/);
  }, 60_000);

  it('tells the failure reasons apart; exit 3 when any host is unreachable, the others still answer', async () => {
    const [h1, h2, h3, h4, h5, h6] = cluster.hosts as [typeof cluster.hosts[0], ...typeof cluster.hosts];
    const badKh = join(dir, 'bad_known_hosts');
    // h5 is recorded with h1's key: a changed host key
    writeFileSync(badKh, `${h5!.address} ${h1.hostPublicKey}\n`);
    const inv = inventory('mixed', {
      hostVars: (h): Record<string, string> | undefined => {
        if (h === h4) return { ansible_ssh_private_key_file: '', ansible_user: 'tester', ansible_password: 'wrong-password' };
        if (h === h5) return { ansible_ssh_common_args: `-o UserKnownHostsFile=${badKh} -o StrictHostKeyChecking=yes` };
        if (h === h6) return { ansible_host: 'no-such-host.invalid' };
        return undefined;
      },
    });
    await h2!.stopSshd();
    h3!.freeze();
    try {
      const r = await runCli(['ping', '-i', inv]);
      expect(line(r.stdout, h1.name)).toMatch(/\sok\s/);
      expect(line(r.stdout, h2!.name)).toMatch(/UNREACHABLE .* connection refused: /);
      expect(line(r.stdout, h3!.name)).toMatch(/UNREACHABLE .* timeout: timed out after 3s/);
      expect(line(r.stdout, h4!.name)).toMatch(/UNREACHABLE .* auth failed: authentication failed for tester@/);
      expect(line(r.stdout, h5!.name)).toMatch(/UNREACHABLE .* host key: HOST KEY MISMATCH/);
      expect(line(r.stdout, h5!.name)).toContain(h1.hostKeyFingerprint);
      expect(line(r.stdout, h5!.name)).toContain(h5!.hostKeyFingerprint);
      expect(line(r.stdout, h6!.name)).toMatch(/UNREACHABLE .* name resolution: cannot resolve host name "no-such-host.invalid"/);
      expect(r.stdout).toContain('ping: 6 hosts: 1 ok, 5 unreachable, 0 failed');
      expect(r.rc).toBe(3);
      // in parallel: bounded by the 3 s connect timeout, not the sum
      expect(r.ms).toBeLessThan(9000);
    } finally {
      h3!.thaw();
      await h2!.startSshd();
    }
  }, 90_000);

  it('sudo failure and a failed check exit 2', async () => {
    const h1 = cluster.hosts[0]!;
    const inv = inventory('sudo', { user: 'tester', vars: { ansible_become_password: 'not-the-sudo-password' }, hosts: ['pg1', 'pg2'] });
    const r = await runCli(['ping', '-i', inv, '--become']);
    expect(line(r.stdout + r.stderr, 'pg1')).toMatch(/FAILED .* sudo failed: incorrect sudo password/);
    expect(r.rc).toBe(2);
    // an inventory alias whose name is not the host's hostname fails the hostname check
    const alias = inventory('alias', { hosts: ['pg1'] }, `\n[extra]\nnot-pg1 ansible_host=${h1.address}\n`);
    const c = await runCli(['ping', '-i', alias, '--checks']);
    expect(line(c.stdout, 'not-pg1')).toMatch(/FAILED .* check failed: remote hostname is "pg1", inventory name is "not-pg1"/);
    expect(line(c.stdout, 'pg1')).toMatch(/\sok\s/);
    expect(c.rc).toBe(2);
  }, 60_000);
});
