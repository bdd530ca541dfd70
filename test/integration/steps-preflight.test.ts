/**
 * The preflight step end to end: `./run playbook playbooks/preflight.yml` over real SSH against four
 * namespaced test hosts (3 control nodes + 1 compute node) with real interfaces (eth0 uplink with a default
 * route = management, eth1 service, eth2 provider without an address, eth3 overlay, eth4 storage), real
 * facts and real clocks.
 *
 *  - the cluster as laid out passes every check;
 *  - a wrong configuration fails, and the run lists every problem with its message (not just the first):
 *    provider interface with an address, VIP outside the management network, too little memory;
 *  - the common play (`--tags common`) twice: the first run creates the deployer's SSH key and authorises it
 *    on the other hosts (the key then logs in for real), the second run changes nothing;
 *  - the ntp play (`--tags ntp`) twice on an isolated site (ntp_servers: []): the control nodes serve time to
 *    each other, the compute node follows them, the waitsync gate passes; the second run changes nothing.
 *
 * The test hosts have no systemd: a systemctl shim (test/fixtures/steps-fake-systemctl.sh) runs the real
 * chronyd, with -x so that it never adjusts the clock the hosts share with this machine.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, type TestCluster } from '../support/testhosts.js';

const ROOT = resolve(import.meta.dirname, '../..');
const NAMES = ['control1', 'control2', 'control3', 'compute1'];
const isRoot = process.getuid?.() === 0;

let cluster: TestCluster;
let dir: string;
let inv: string;
let vip: string;

interface CliResult {
  rc: number;
  out: string;
}

function runCli(args: string[], timeoutMs = 150_000): Promise<CliResult> {
  return new Promise((done, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', RUN_CONFIG: join(dir, 'run.cfg') };
    delete env.FORCE_COLOR;
    // BURROW_CLI (e.g. "node_modules/node/bin/node dist/cli.js") tests a prebuilt CLI; default: ./run, as users run it
    const cli = (process.env.BURROW_CLI ?? join(ROOT, 'run')).split(' ');
    const child = spawn(cli[0]!, [...cli.slice(1), ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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

function preflight(tags: string, extra: Record<string, unknown>): Promise<CliResult> {
  return runCli([
    'playbook', join(ROOT, 'playbooks', 'preflight.yml'), '--tags', tags, '-i', inv,
    '-e', `@${join(ROOT, 'vars.yml.sample')}`,
    // the test hosts' layout: eth0 carries management (and the default route), eth1 the service network;
    // their root is a small tmpfs and they share this machine's CPUs, so those minimums are lowered
    '-e', JSON.stringify({ mgmt_iface_name: 'eth0', svc_iface_name: 'eth1', keepalived_vip: vip, min_disk: 1, min_vcpus: 1, ...extra }),
  ]);
}

const checklist = (extra: Record<string, unknown>): Promise<CliResult> => preflight('checklist', extra);

function recap(out: string, host: string): string {
  return out.split('\n').find((l) => l.startsWith(`${host} `) && l.includes('ok=')) ?? `(no recap line for ${host})`;
}

beforeAll(async () => {
  if (!isRoot) return;
  dir = mkdtempSync(join(tmpdir(), 'steps-checklist-'));
  writeFileSync(join(dir, 'run.cfg'), `[defaults]\ninventory = ${join(ROOT, 'inventory', 'local')}\ntimeout = 10\n`);
  // the project directory is where run.cfg is: give it the repository's group_vars (min_hw_reqs, network_vars)
  symlinkSync(join(ROOT, 'group_vars'), join(dir, 'group_vars'));
  cluster = await startHosts({ names: NAMES, mode: 'netns', memoryMiB: 32768, cpus: 8 });
  const shim = readFileSync(join(ROOT, 'test', 'fixtures', 'steps-fake-systemctl.sh'), 'utf8');
  for (const h of cluster.hosts) {
    h.writeFile('/usr/local/sbin/systemctl', shim, 0o755);
    const which = await h.exec('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v systemctl');
    if (which.stdout.trim() !== '/usr/local/sbin/systemctl') throw new Error(`systemctl shim not first on PATH in ${h.name}: ${which.stdout}`);
  }
  const mgmt = (name: string): string => cluster.host(name).interfaces!.find((i) => i.name === 'eth0')!.ipv4!;
  // a free address at the top of the management /20
  const [a, b, c] = mgmt('control1').split('.').map(Number);
  vip = `${a}.${b}.${(c! & ~15) + 15}.250`;
  inv = join(dir, 'hosts');
  writeFileSync(
    inv,
    cluster.inventory({
      hostVars: (h) => ({ ip: mgmt(h.name) }),
      groups: {
        kube_control_plane: ['control1', 'control2', 'control3'],
        kube_node: NAMES,
        'network-node': ['control1', 'control2', 'control3'],
        'compute-node': ['compute1'],
      },
    }) + '\n[k8s_cluster:children]\nkube_control_plane\nkube_node\n[etcd:children]\nkube_control_plane\n',
    { mode: 0o600 },
  );
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!isRoot)('preflight checklist on test hosts', () => {
  it('passes on a correctly laid out cluster', async () => {
    const r = await checklist({});
    expect(r.rc, r.out).toBe(0);
    for (const h of NAMES) expect(recap(r.out, h), r.out).toMatch(/changed=0 .*failed=0 .*ignored=0/);
    expect(r.out).toContain(`"msg": "keepalived_vip ${vip} is in the management network`);
    expect(r.out).toMatch(/"msg": "provider interface eth2 has no IPv4 address"/);
    expect(r.out).toMatch(/"msg": "-?\d+ s from the deployer control1"/);
    expect(r.out).toContain('"msg": "32768 MiB of memory (minimum 14745 MiB)"'); // control nodes: 16 GiB less 10 %
    expect(r.out).not.toContain('preflight check(s) failed');
  }, 200_000);

  it('fails on a wrong configuration and lists every problem with what to do', async () => {
    const outside = '198.18.255.250';
    const r = await checklist({ provider_iface_name: 'eth3', keepalived_vip: outside, min_memory: 64 });
    expect(r.rc, r.out).toBe(2);
    const summary = r.out.slice(r.out.indexOf('TASK [checklist : Preflight checklist result]'));
    expect(summary, r.out).toContain('3 preflight check(s) failed on control1; fix them and run ./run preflight again:');
    expect(summary).toContain('not enough memory: control1 has 32768 MiB, its groups need 64 GiB');
    expect(summary).toMatch(/there should be no IPs on the provider network: eth3 of control1 has 198\.19\.\d+\.\d+\/24/);
    expect(summary).toContain(`keepalived_vip ${outside} is outside the management network`);
    // the compute node has its own two problems; the VIP is checked once, on the deployer
    expect(summary).toContain('2 preflight check(s) failed on compute1');
    for (const h of NAMES) expect(recap(r.out, h)).toMatch(/failed=1 /);
  }, 200_000);

  it('prepares the hosts (common): the deployer\'s key logs in everywhere, and a second run changes nothing', async () => {
    // the test hosts have no package repository: only packages this machine already has
    const extra = { common_packages_by_family: { Debian: ['ca-certificates', 'gnupg', 'curl'], RedHat: ['curl'] } };
    const first = await preflight('common', extra);
    expect(first.rc, first.out).toBe(0);
    expect(recap(first.out, 'control1'), first.out).toMatch(/changed=[1-9]/); // the key pair
    for (const h of ['control2', 'control3', 'compute1']) expect(recap(first.out, h), first.out).toMatch(/changed=[1-9]/); // authorized_keys
    const pub = (await cluster.host('control1').exec('cat /root/.ssh/id_rsa.pub')).stdout.trim();
    expect(pub).toMatch(/^ssh-rsa AAAA/);
    const target = cluster.host('compute1').interfaces!.find((i) => i.name === 'eth0')!.ipv4!;
    const login = await cluster.host('control1').exec(
      `ssh -i /root/.ssh/id_rsa -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 root@${target} hostname`,
      { timeoutMs: 20_000 },
    );
    expect(login.stdout.trim(), login.stderr).toBe('compute1');

    const second = await preflight('common', extra);
    expect(second.rc, second.out).toBe(0);
    for (const h of NAMES) expect(recap(second.out, h), second.out).toMatch(/changed=0 .*failed=0/);
    expect((await cluster.host('control1').exec('cat /root/.ssh/id_rsa.pub')).stdout.trim()).toBe(pub); // the key is kept
  }, 300_000);

  it('synchronises the clocks (ntp) on an isolated site; a second run changes nothing', async () => {
    const first = await preflight('ntp', { ntp_servers: [] });
    expect(first.rc, first.out).toBe(0);
    for (const h of NAMES) expect(recap(first.out, h), first.out).toMatch(/changed=[1-9]\d* .*failed=0/);
    expect(first.out).toContain('RUNNING HANDLER [ntp : Restart chrony]');
    // the gate ran where it must: not on the first control node (no upstream: it is the reference)
    const gate = first.out.slice(first.out.indexOf('TASK [ntp : Verify the clock is synchronised]'));
    expect(gate).toMatch(/skipping: \[control1\]/);
    for (const h of ['control2', 'control3', 'compute1']) expect(gate).toMatch(new RegExp(`ok: \\[${h}\\] => \\{[^}]*"msg": "synchronised: \\^\\*`));
    const conf = (h: string): Promise<string> => cluster.host(h).exec('cat /etc/chrony/chrony.conf').then((r) => r.stdout);
    expect(await conf('control2')).toMatch(/^server \S+ iburst\n/m);
    expect(await conf('control2')).toContain('local stratum 8 orphan');
    expect(await conf('compute1')).not.toContain('allow');
    const pid = (await cluster.host('compute1').exec('cat /run/chrony/chronyd.pid')).stdout;

    const second = await preflight('ntp', { ntp_servers: [] });
    expect(second.rc, second.out).toBe(0);
    for (const h of NAMES) expect(recap(second.out, h), second.out).toMatch(/changed=0 .*failed=0/);
    expect(second.out).not.toContain('RUNNING HANDLER');
    expect((await cluster.host('compute1').exec('cat /run/chrony/chronyd.pid')).stdout).toBe(pid); // not restarted
  }, 700_000);
});
