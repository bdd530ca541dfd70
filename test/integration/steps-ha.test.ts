/**
 * The ha step end to end: `./run playbook playbooks/ha.yml` over real SSH against three namespaced test
 * hosts (the control nodes), with the real haproxy and keepalived daemons running in the hosts' network
 * namespaces and VRRP between them over the test bridge.
 *
 * The test hosts have no systemd: a small systemctl shim (test/fixtures/steps-fake-systemctl.sh) starts,
 * stops and reloads the real daemons for the runner's service module. Everything else is the real thing:
 * packages checked, sysctls applied in the host's namespace, files written, `haproxy -c` and `keepalived -t`,
 * handlers, and the step's verify tasks.
 *
 *  1. first run: the VIP comes up on control1 (priority 100), haproxy answers on it, verify passes;
 *  2. second run: changed=0 on every node, nothing restarted, the VIP stays;
 *  3. haproxy dies on control1: keepalived moves the VIP to control2 (priority 90);
 *  4. third run: haproxy is started again on control1, the VIP stays on control2 (nopreempt), and the
 *     verification still passes, naming control2.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, type TestCluster } from '../support/testhosts.js';

const ROOT = resolve(import.meta.dirname, '../..');
const NAMES = ['control1', 'control2', 'control3'];
const isRoot = process.getuid?.() === 0;

let cluster: TestCluster;
let dir: string;
let inv: string;
let vip: string;

function runCli(args: string[], timeoutMs = 240_000): Promise<{ rc: number; out: string }> {
  return new Promise((done, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', RUN_CONFIG: join(dir, 'run.cfg') };
    delete env.FORCE_COLOR;
    // BURROW_CLI (e.g. "node_modules/node/bin/node dist/cli.js") tests a prebuilt CLI; default: ./run, as users run it
    const cli = (process.env.BURROW_CLI ?? join(ROOT, 'run')).split(' ');
    const child = spawn(cli[0]!, [...cli.slice(1), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`./run ${args.join(' ')} did not finish in ${timeoutMs} ms\n${out}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ rc: code ?? -1, out });
    });
  });
}

function ha(): Promise<{ rc: number; out: string }> {
  return runCli([
    'playbook', join(ROOT, 'playbooks', 'ha.yml'), '-i', inv,
    '-e', `@${join(ROOT, 'vars.yml.sample')}`,
    // test-host layout (eth0 = management); rsyslog is not installed on this machine and there is no package
    // repository in the test hosts; vivace = the fastest failover
    '-e', JSON.stringify({ mgmt_iface_name: 'eth0', svc_iface_name: 'eth1', keepalived_vip: vip, haproxy_packages: ['haproxy'], ha_level: 'vivace' }),
  ]);
}

function recap(out: string, host: string): string {
  return out.split('\n').find((l) => l.startsWith(`${host} `) && l.includes('ok=')) ?? `(no recap line for ${host})`;
}

/** Which control nodes have the VIP on an interface. */
async function holders(): Promise<string[]> {
  const out: string[] = [];
  for (const n of NAMES) {
    const r = await cluster.host(n).exec(`ip -o -4 addr show to ${vip}/32`);
    if (r.stdout.trim()) out.push(n);
  }
  return out;
}

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

beforeAll(async () => {
  if (!isRoot) return;
  dir = mkdtempSync(join(tmpdir(), 'steps-ha-'));
  writeFileSync(join(dir, 'run.cfg'), `[defaults]\ninventory = ${join(ROOT, 'inventory', 'local')}\ntimeout = 10\n`);
  symlinkSync(join(ROOT, 'group_vars'), join(dir, 'group_vars'));
  cluster = await startHosts({ names: NAMES, mode: 'netns' });
  const shim = readFileSync(join(ROOT, 'test', 'fixtures', 'steps-fake-systemctl.sh'), 'utf8');
  for (const h of cluster.hosts) {
    h.writeFile('/usr/local/sbin/systemctl', shim, 0o755);
    const which = await h.exec('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v systemctl');
    if (which.stdout.trim() !== '/usr/local/sbin/systemctl') throw new Error(`systemctl shim not first on PATH in ${h.name}: ${which.stdout}`);
  }
  const mgmt = (name: string): string => cluster.host(name).interfaces!.find((i) => i.name === 'eth0')!.ipv4!;
  const [a, b, c] = mgmt('control1').split('.').map(Number);
  vip = `${a}.${b}.${(c! & ~15) + 15}.250`;
  inv = join(dir, 'hosts');
  writeFileSync(
    inv,
    cluster.inventory({ hostVars: (h) => ({ ip: mgmt(h.name) }), groups: { kube_control_plane: NAMES, kube_node: NAMES, 'network-node': NAMES } }),
    { mode: 0o600 },
  );
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!isRoot)('ha step on test hosts', () => {
  it('brings the VIP up on the first control node; a second run changes nothing', async () => {
    const first = await ha();
    expect(first.rc, first.out).toBe(0);
    for (const h of NAMES) expect(recap(first.out, h), first.out).toMatch(/changed=[1-9]\d* .*failed=0/);
    expect(first.out).toContain('RUNNING HANDLER [haproxy : Restart haproxy]');
    expect(first.out).toContain('RUNNING HANDLER [keepalived : Reload keepalived]');
    expect(first.out).toContain('"msg": "haproxy and keepalived are active"');
    expect(first.out).toContain(`"msg": "the VIP ${vip} is on control1"`);
    expect(await holders()).toEqual(['control1']);
    expect((await cluster.host('control1').exec('cat /run/keepalived.state')).stdout.trim()).toBe('MASTER');
    // the files as the step writes them
    const ls = await cluster.host('control2').exec('stat -c "%U:%G %a %n" /etc/haproxy/haproxy.cfg /etc/haproxy/conf.d/kube-apiserver.cfg /etc/keepalived/keepalived.conf /etc/keepalived/check_proxy /etc/keepalived/keepalived_state.sh; sysctl -n net.ipv4.ip_nonlocal_bind net.ipv4.ip_forward');
    expect(ls.stdout.trim().split('\n')).toEqual([
      'root:haproxy 640 /etc/haproxy/haproxy.cfg',
      'root:haproxy 640 /etc/haproxy/conf.d/kube-apiserver.cfg',
      'root:root 640 /etc/keepalived/keepalived.conf',
      'root:root 700 /etc/keepalived/check_proxy',
      'root:root 700 /etc/keepalived/keepalived_state.sh',
      '1', '1',
    ]);
    const pids = (await cluster.host('control1').exec('cat /run/haproxy.pid /run/keepalived.pid')).stdout;

    const second = await ha();
    expect(second.rc, second.out).toBe(0);
    for (const h of NAMES) expect(recap(second.out, h), second.out).toMatch(/changed=0 .*failed=0/);
    expect(second.out).not.toContain('RUNNING HANDLER');
    expect((await cluster.host('control1').exec('cat /run/haproxy.pid /run/keepalived.pid')).stdout).toBe(pids); // nothing restarted
    expect(await holders()).toEqual(['control1']);
  }, 400_000);

  it('after a failover the VIP stays where it went, and the verification still passes', async () => {
    await cluster.host('control1').exec('kill "$(cat /run/haproxy.pid)"');
    // vivace: the track script runs every 3 s and fails twice before keepalived gives the VIP away
    await waitFor('the VIP to move to control2', async () => (await holders()).join() === 'control2', 40_000);

    const third = await ha();
    expect(third.rc, third.out).toBe(0);
    expect(recap(third.out, 'control1'), third.out).toMatch(/changed=1 .*failed=0/); // haproxy started again
    for (const h of ['control2', 'control3']) expect(recap(third.out, h), third.out).toMatch(/changed=0 .*failed=0/);
    expect(third.out).toContain(`"msg": "the VIP ${vip} is on control2 (not on control1: normal after a failover, nopreempt keeps it where it is)"`);
    // nopreempt: control1 is healthy again but does not take the VIP back
    await new Promise((r) => setTimeout(r, 8000));
    expect(await holders()).toEqual(['control2']);
  }, 400_000);
});
