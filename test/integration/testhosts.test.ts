/**
 * The test-host harness itself (test/support/testhosts.ts): real sshd hosts in namespaces, logged into with the
 * real OpenSSH client (and sshpass for passwords). Checks isolation (hostname, files), users and sudo, sshd
 * control, netns interfaces, and that stop() / a crashed run / cleanupStale() leave no process, mount or link.
 * Needs root: fails (does not skip) otherwise.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupStale, DEFAULT_BASE_DIR, startHosts, type TestCluster } from '../support/testhosts.js';

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('integration tests need root (namespaces, mounts, links): run them as root, e.g. `sudo npx vitest run test/integration`');
  }
}

/** Independent of the harness: every pid whose command line carries the run's markers or lives in its PID namespaces. */
function processesOfRun(id: string, pidNamespaces: Set<string>): Array<{ pid: number; cmd: string }> {
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    let cmd = '';
    let ns = '';
    try {
      cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ');
      ns = readlinkSync(`/proc/${e}/ns/pid`);
    } catch {
      continue; // gone meanwhile
    }
    if (cmd.includes(`burrow-testhost:${id}:`) || cmd.includes(`testhost-sshd.${id}.log`) || pidNamespaces.has(ns)) out.push({ pid: Number(e), cmd });
  }
  return out;
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`));
}

function links(): string[] {
  return readdirSync('/sys/class/net');
}

describe('loopback hosts (8)', () => {
  let c: TestCluster;
  let dir: string;
  let inventoryNames: string[] = [];

  beforeAll(async () => {
    requireRoot();
    dir = mkdtempSync(join(tmpdir(), 'testhosts-'));
    c = await startHosts({ count: 8, namePrefix: 'node' });
  });

  afterAll(async () => {
    await c?.stop(); // no-op when the last test already stopped it
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes an Ansible inventory with one line per host', () => {
    const text = c.writeInventory(join(dir, 'hosts.ini'), { user: 'tester', become: true });
    expect(readFileSync(join(dir, 'hosts.ini'), 'utf8')).toBe(text);
    const hostLines = text.split('\n').filter((l) => /^node\d+ /.test(l));
    inventoryNames = hostLines.map((l) => l.split(' ')[0]!);
    expect(inventoryNames).toEqual(['node1', 'node2', 'node3', 'node4', 'node5', 'node6', 'node7', 'node8']);
    for (const [i, h] of c.hosts.entries()) expect(hostLines[i]).toBe(`${h.name} ansible_host=${h.address} ansible_port=22`);
    expect(text).toContain('ansible_user=tester');
    expect(text).toContain(`ansible_become_password=${c.password}`);
    // every host has its own 127/8 address and its own host key
    expect(new Set(c.hosts.map((h) => h.address)).size).toBe(8);
    expect(new Set(c.hosts.map((h) => h.hostKeyFingerprint)).size).toBe(8);
    for (const h of c.hosts) expect(h.address).toMatch(/^127\.(7[7-9]|8\d|9[0-2])\.0\.\d+$/);
  });

  it('root logs in by key on every host; each hostname equals its inventory name', async () => {
    const before = c.hosts.map((h) => h.countLogins('root', 'publickey'));
    const rs = await Promise.all(c.hosts.map((h) => c.ssh(h, 'hostname; id -u; cat /etc/hostname')));
    rs.forEach((r, i) => {
      expect(r.stderr).toBe('');
      expect(r.rc).toBe(0);
      expect(r.stdout).toBe(`${inventoryNames[i]}\n0\n${inventoryNames[i]}\n`);
    });
    c.hosts.forEach((h, i) => expect(h.countLogins('root', 'publickey')).toBe(before[i]! + 1));
    // the known_hosts line is what the real client verified against (StrictHostKeyChecking=yes)
    expect(readFileSync(c.knownHostsFile, 'utf8')).toContain(c.knownHostsLine(c.hosts[0]!));
  });

  it('root cannot log in with a password', async () => {
    const r = await c.ssh(c.hosts[0]!, 'true', { user: 'root', auth: 'password', password: c.password });
    expect(r.rc).toBe(255);
    expect(r.stderr).toContain('Permission denied');
  });

  it('tester logs in by password on every host, and sudo -S works only with the right password', async () => {
    const rs = await Promise.all(
      c.hosts.map((h) => c.ssh(h, 'id -un; sudo -S -p "" id -u', { user: 'tester', input: `${c.password}\n` })),
    );
    for (const r of rs) {
      expect(r.rc).toBe(0);
      expect(r.stdout).toBe('tester\n0\n');
    }
    for (const h of c.hosts) expect(h.countLogins('tester', 'password')).toBeGreaterThanOrEqual(1);

    const wrong = await c.ssh(c.hosts[1]!, 'sudo -S -p "" id -u', { user: 'tester', input: 'not-the-password\n' });
    expect(wrong.rc).not.toBe(0);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toMatch(/incorrect password|Sorry, try again/);

    const badLogin = await c.ssh(c.hosts[2]!, 'true', { user: 'tester', password: 'not-the-password' });
    expect(badLogin.rc).toBe(255);
  });

  it('nopass sudoes without a password; every client key type works', async () => {
    const h = c.hosts[3]!;
    const np = await c.ssh(h, 'sudo -n id -u', { user: 'nopass' });
    expect(np).toMatchObject({ rc: 0, stdout: '0\n' });
    const testerNoPw = await c.ssh(h, 'sudo -n id -u', { user: 'tester', auth: 'key' });
    expect(testerNoPw.rc).not.toBe(0); // tester's sudo needs the password
    for (const key of ['rsa', 'ecdsa', 'ed25519Encrypted'] as const) {
      const r = await c.ssh(h, `echo ${key}`, { key });
      expect(r).toMatchObject({ rc: 0, stdout: `${key}\n` });
    }
    expect(readFileSync(c.keys.ed25519Encrypted.path, 'utf8')).toContain('BEGIN OPENSSH PRIVATE KEY');
  });

  it('a file written on one host is absent on another and on the machine', async () => {
    const tag = `isolation-${Date.now()}`;
    for (const p of [`/root/${tag}`, `/etc/${tag}`, `/tmp/${tag}`]) {
      const w = await c.ssh(c.hosts[0]!, `echo ${tag} > ${p} && cat ${p}`);
      expect(w).toMatchObject({ rc: 0, stdout: `${tag}\n` });
      const other = await c.ssh(c.hosts[1]!, `test -e ${p}; echo $?`);
      expect(other.stdout).toBe('1\n');
      expect(existsSync(p)).toBe(false);
      // visible through the harness's view of host 1, and stored in its private upper layer
      expect(c.hosts[0]!.readFile(p)).toBe(`${tag}\n`);
      expect(existsSync(join(c.hosts[0]!.upperDir, p))).toBe(true);
    }
    // and the host's /etc/passwd has the test users while the machine's has not been touched by us
    expect(c.hosts[0]!.readFile('/etc/passwd')).toMatch(/^tester:x:\d+:/m);
  });

  it('exec() runs inside the host (own PID namespace, own hostname)', async () => {
    const h = c.hosts[4]!;
    const r = await h.exec('hostname; cat /proc/1/cmdline | tr "\\0\\n" "  "');
    expect(r.rc).toBe(0);
    const [name, init] = r.stdout.split('\n');
    expect(name).toBe(h.name);
    expect(init).toMatch(/^\/bin\/sh -c .*sshd -D/);
    expect(init).toContain(`burrow-testhost:${c.id}:${h.name}`);
    expect(h.sshdPid).toBeGreaterThan(0);
    // pid 1 of the host reaps orphans: a daemonised child that exits leaves no zombie
    const orphan = await c.ssh(h, '(sleep 0.2 &) ; echo started');
    expect(orphan.stdout).toBe('started\n');
    await new Promise((r) => setTimeout(r, 1000));
    const states = await h.exec('ps -eo stat=,comm=');
    expect(states.stdout).toMatch(/sshd/);
    expect(states.stdout.split('\n').filter((l) => l.trim().startsWith('Z'))).toEqual([]);
  });

  it('stopSshd/startSshd and freeze/thaw change reachability', async () => {
    const h = c.hosts[5]!;
    await h.stopSshd();
    expect(h.sshdPid).toBeUndefined();
    const down = await c.ssh(h, 'true', { connectTimeoutSec: 3 });
    expect(down.rc).toBe(255);
    expect(down.stderr).toMatch(/Connection refused/);
    await h.startSshd();
    expect(await c.ssh(h, 'echo up')).toMatchObject({ rc: 0, stdout: 'up\n' });

    h.freeze();
    const t0 = Date.now();
    const frozen = await c.ssh(h, 'true', { connectTimeoutSec: 2, timeoutMs: 20_000 });
    expect(frozen.rc).toBe(255);
    expect(frozen.stderr).toMatch(/timed out/i);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
    h.thaw();
    expect(await c.ssh(h, 'echo thawed')).toMatchObject({ rc: 0, stdout: 'thawed\n' });
  });

  it('regenerateHostKey() changes the key the real client sees', async () => {
    const h = c.hosts[6]!;
    const kh = join(dir, 'known_hosts.old');
    writeFileSync(kh, readFileSync(c.knownHostsFile));
    const listed = spawnSync('ssh-keygen', ['-l', '-F', h.address, '-f', kh], { encoding: 'utf8' });
    expect(listed.stdout).toContain(h.hostKeyFingerprint);
    const old = h.hostKeyFingerprint;
    const fresh = await h.regenerateHostKey();
    expect(fresh).not.toBe(old);
    expect(h.hostKeyFingerprint).toBe(fresh);
    const changed = await c.ssh(h, 'true', { knownHostsFile: kh });
    expect(changed.rc).toBe(255);
    expect(changed.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    // the run's known_hosts still has the old key until rewritten
    expect((await c.ssh(h, 'true')).rc).toBe(255);
    c.writeKnownHosts();
    expect(await c.ssh(h, 'echo ok')).toMatchObject({ rc: 0, stdout: 'ok\n' });
    const scanned = spawnSync('ssh-keyscan', ['-t', 'ed25519', h.address], { encoding: 'utf8' });
    expect(scanned.stdout.trim().split(/\s+/).slice(1, 3).join(' ')).toBe(h.hostPublicKey);
  });

  it('stop() leaves no process, mount, directory or state file behind', async () => {
    const pidNs = new Set(c.hosts.map((h) => h.namespaces.pid));
    expect(pidNs.size).toBe(8);
    expect(processesOfRun(c.id, pidNs).filter((p) => p.cmd.includes('sshd')).length).toBeGreaterThanOrEqual(8);
    expect(mountsUnder(c.runDir)).toEqual([c.runDir]);
    await c.stop();
    expect(processesOfRun(c.id, pidNs)).toEqual([]);
    expect(mountsUnder(c.runDir)).toEqual([]);
    expect(existsSync(c.runDir)).toBe(false);
    expect(existsSync(join(c.baseDir, 'state', `${c.id}.json`))).toBe(false);
    const down = await c.ssh(c.hosts[0]!, 'true', { connectTimeoutSec: 3 });
    expect(down.rc).toBe(255);
  });
});

describe('netns hosts (3)', () => {
  let c: TestCluster;

  beforeAll(async () => {
    requireRoot();
    c = await startHosts({
      count: 3,
      mode: 'netns',
      namePrefix: 'nn',
      memoryMiB: 16384,
      cpus: 6,
      perHost: ({ index, defaults }) => (index === 2 ? { interfaces: defaults.slice(0, 2), memoryMiB: 2048 } : undefined),
    });
  });

  afterAll(async () => {
    await c?.stop();
  });

  it('has eth0..eth4 with the expected addresses; eth2 is up without IPv4', async () => {
    for (const h of c.hosts.slice(0, 2)) {
      const r = await h.exec('ip -j addr show');
      expect(r.rc).toBe(0);
      const ifs = JSON.parse(r.stdout) as Array<{ ifname: string; operstate: string; flags: string[]; address: string; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>;
      const by = new Map(ifs.map((i) => [i.ifname, i]));
      expect([...by.keys()].sort()).toEqual(['eth0', 'eth1', 'eth2', 'eth3', 'eth4', 'lo']);
      const v4 = (n: string): string[] => by.get(n)!.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
      const last = h.index + 2;
      expect(v4('eth0')).toEqual([`${h.address}/20`]);
      expect(h.address).toMatch(/^198\.18\.\d+\.\d+$/);
      expect(v4('eth1')).toEqual([`198.19.16.${last}/24`]);
      expect(v4('eth2')).toEqual([]);
      expect(v4('eth3')).toEqual([`198.19.32.${last}/24`]);
      expect(v4('eth4')).toEqual([`198.19.48.${last}/24`]);
      for (const n of ['eth0', 'eth1', 'eth2', 'eth3', 'eth4']) expect(by.get(n)!.flags).toContain('UP');
      // what the harness reports is what the host has
      for (const hi of h.interfaces!) {
        expect(v4(hi.name)).toEqual(hi.addresses.filter((a) => !a.includes(':')));
        expect(by.get(hi.name)!.address).toBe(hi.mac);
      }
      expect(h.interfaces!.map((i) => i.role)).toEqual(['mgmt', 'svc', 'provider', 'overlay', 'storage']);
      // default gateway fact source, and the host's own /sys view
      const route = await h.exec('ip -4 route show default; ls /sys/class/net | tr "\\n" " "');
      expect(route.stdout).toContain(`default via ${c.bridge!.address} dev eth0`);
      expect(route.stdout).toContain('eth0 eth1 eth2 eth3 eth4 lo');
    }
  });

  it('ssh over eth0 works, hosts reach each other through the bridge, and fake memory/cpus show in /proc', async () => {
    const [a, b, small] = c.hosts as [(typeof c.hosts)[0], (typeof c.hosts)[0], (typeof c.hosts)[0]];
    const r = await c.ssh(a, 'hostname; grep MemTotal /proc/meminfo; grep -c ^processor /proc/cpuinfo');
    expect(r.rc).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${a.name}\\nMemTotal:\\s+${16384 * 1024} kB\\n6\\n$`));
    const t = await c.ssh(a, `timeout 5 bash -c 'exec 3<>/dev/tcp/${b.address}/22 && head -c 4 <&3'`);
    expect(t.stdout).toBe('SSH-');
    const s = await c.ssh(small, 'ls /sys/class/net | tr "\\n" " "; echo; grep MemTotal /proc/meminfo');
    expect(s.stdout).toMatch(new RegExp(`^eth0 eth1 lo \\nMemTotal:\\s+${2048 * 1024} kB\\n$`));
    expect(small.interfaces!.map((i) => i.name)).toEqual(['eth0', 'eth1']);
  });

  it('stop() removes bridge, veths and namespaces', async () => {
    const pidNs = new Set(c.hosts.map((h) => h.namespaces.pid));
    const bridge = c.bridge!.name;
    expect(links()).toContain(bridge);
    await c.stop();
    expect(processesOfRun(c.id, pidNs)).toEqual([]);
    expect(links().filter((l) => l === bridge || l.startsWith(`rtbv${c.slot}x`))).toEqual([]);
    expect(mountsUnder(c.runDir)).toEqual([]);
  });
});

describe('crashed run', () => {
  it('a SIGKILLed harness takes its hosts with it; cleanupStale() removes the rest', async () => {
    requireRoot();
    const child = spawn(process.execPath, ['--import', './test/support/ts-resolve.ts', 'test/support/hosts-cli.ts', '--count', '2'], {
      cwd: join(import.meta.dirname, '../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    const id = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`hosts-cli did not start in 60 s:\n${err}`)), 60_000);
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /^run ([0-9a-f]{8}): 2 loopback hosts/m.exec(err);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`hosts-cli exited early (${code}):\n${err}`)));
    });
    const runDir = join(DEFAULT_BASE_DIR, `run-${id}`);
    expect(processesOfRun(id, new Set()).length).toBeGreaterThanOrEqual(4); // 2 × (unshare, init) at least
    expect(mountsUnder(runDir)).toEqual([runDir]);

    child.kill('SIGKILL'); // no exit handler runs
    await new Promise((r) => child.once('exit', r));
    // pdeathsig → unshare dies → --kill-child kills each host's pid 1 → the kernel empties the namespaces
    const deadline = Date.now() + 10_000;
    while (processesOfRun(id, new Set()).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(processesOfRun(id, new Set())).toEqual([]);
    // what only cleanup can remove is still there: the run's tmpfs and state file
    expect(mountsUnder(runDir)).toEqual([runDir]);
    expect(existsSync(join(DEFAULT_BASE_DIR, 'state', `${id}.json`))).toBe(true);

    const report = await cleanupStale();
    expect(report.runs).toContain(id);
    expect(mountsUnder(runDir)).toEqual([]);
    expect(existsSync(runDir)).toBe(false);
    expect(existsSync(join(DEFAULT_BASE_DIR, 'state', `${id}.json`))).toBe(false);
  });
});
