/**
 * The install steps as an operator runs them: `./run preflight`, `./run ha`, `./run status`,
 * `./run hosts --vitals`, on 8 namespaced test hosts shaped like the reference sample (control1-3,
 * compute1-2, storage1-3; eth0..eth4 on 198.18.0.0/15), through the real CLI, its gate and its journal.
 *
 *  1. `./run ha` before preflight is refused, naming the step to run, exit 1;
 *  2. preflight fails on storage2 (4 GiB of memory, a ceph server needs 8): exit 2, journal `failed`, storage2 pending;
 *  3. `./run ha` is refused while preflight is failed;
 *  4. storage2 gets its memory; `./run preflight --resume` runs on storage2 only and the step succeeds;
 *  5. `./run ha` succeeds (verify tasks pass); a second `./run ha` changes nothing;
 *  6. Ctrl-C during a new `./run preflight` leaves `interrupted` (exit 99), and `./run status` says so;
 *     a following `./run preflight --resume` completes it;
 *  7. `./run hosts --vitals --json` matches what the hosts' /proc says.
 *
 * systemd cannot run here: a systemctl stand-in (test/fixtures/steps-fake-systemctl.sh, which says so) starts
 * the real chronyd, haproxy and keepalived inside the hosts. Packages are the machine's real ones (apt).
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recapLine, ROOT, runCli, type CliResult } from '../support/cli.js';
import { startHosts, type TestCluster } from '../support/testhosts.js';

const CONTROL = ['control1', 'control2', 'control3'];
const COMPUTE = ['compute1', 'compute2'];
const STORAGE = ['storage1', 'storage2', 'storage3'];
const NAMES = [...CONTROL, ...COMPUTE, ...STORAGE];

let cluster: TestCluster;
let dir: string;

const run = (args: string[], extra: Parameters<typeof runCli>[1] = {}): Promise<CliResult> =>
  runCli(args, { cwd: dir, env: { RUN_CONFIG: join(dir, 'run.cfg') }, timeoutMs: 600_000, ...extra });

function journal(): { steps: Record<string, { status: string; pending?: Record<string, unknown>; done?: string[]; verify?: { passed: boolean }[] }> } {
  return JSON.parse(readFileSync(join(dir, '.run', 'state.json'), 'utf8'));
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the step tests need root (namespaces, test hosts)');
  dir = mkdtempSync(join(tmpdir(), 'steps-e2e-'));
  cluster = await startHosts({
    names: NAMES,
    mode: 'netns',
    memoryMiB: 32768,
    cpus: 8,
    perHost: ({ name }) => (name === 'storage2' ? { memoryMiB: 4096 } : undefined),
  });
  const shim = readFileSync(join(ROOT, 'test', 'fixtures', 'steps-fake-systemctl.sh'), 'utf8');
  for (const h of cluster.hosts) h.writeFile('/usr/local/sbin/systemctl', shim, 0o755);
  const mgmt = (name: string): string => cluster.host(name).interfaces!.find((i) => i.name === 'eth0')!.ipv4!;
  const [a, b, c] = mgmt('control1').split('.').map(Number);
  const vip = `${a}.${b}.${(c! & ~15) + 15}.250`;

  // A project directory as a site has it: run.cfg, hosts, vars.yml; playbooks and group_vars from the repository.
  writeFileSync(join(dir, 'run.cfg'), '[defaults]\ninventory = hosts\ntimeout = 10\n');
  symlinkSync(join(ROOT, 'playbooks'), join(dir, 'playbooks'));
  symlinkSync(join(ROOT, 'group_vars'), join(dir, 'group_vars'));
  const groups = {
    kube_control_plane: CONTROL,
    kube_node: [...CONTROL, ...COMPUTE],
    'controller-node': CONTROL,
    'network-node': CONTROL,
    'compute-node': COMPUTE,
    mons: STORAGE,
    mgrs: STORAGE,
    osds: STORAGE,
    rgws: STORAGE,
    clients: [...CONTROL, ...COMPUTE],
  };
  writeFileSync(
    join(dir, 'hosts'),
    cluster.inventory({ hostVars: (h) => ({ ip: mgmt(h.name) }), groups }) +
      '\n[ceph_servers:children]\nmons\nmgrs\nosds\nrgws\n[ceph:children]\nceph_servers\nclients\n' +
      '[etcd:children]\nkube_control_plane\n[k8s_cluster:children]\nkube_control_plane\nkube_node\n',
    { mode: 0o600 },
  );
  const sample = readFileSync(join(ROOT, 'vars.yml.sample'), 'utf8');
  // The test hosts' layout (eth0 = management) and what they lack: a tmpfs root (min_disk), 2 real CPUs
  // (min_vcpus), no package repository (only packages this machine has), no upstream NTP.
  const site = {
    mgmt_iface_name: 'eth0',
    svc_iface_name: 'eth1',
    keepalived_vip: vip,
    ntp_servers: [],
    min_disk: 1,
    min_vcpus: 1,
    common_packages_by_family: { Debian: ['ca-certificates', 'gnupg', 'curl'], RedHat: ['curl'] },
    haproxy_packages: ['haproxy'],
    ha_level: 'vivace',
  };
  writeFileSync(join(dir, 'vars.yml'), stringify({ ...(parse(sample) as Record<string, unknown>), ...site }));
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('install steps with gating, journal and resume', () => {
  it('refuses ha before preflight, naming the command to run', async () => {
    const r = await run(['ha']);
    expect(r.rc, r.out).toBe(1);
    expect(r.out).toContain("step 'ha' cannot start: preflight has not run");
    expect(r.out).toContain('run ./run preflight first');
  });

  it('a preflight failure on one host blocks ha; --resume completes only that host', async () => {
    const first = await run(['preflight']);
    expect(first.rc, first.out).toBe(2);
    expect(first.out).toMatch(/not enough memory: storage2 has 4096 MiB/);
    expect(recapLine(first.out, 'storage2')).toMatch(/failed=1 /);
    for (const h of NAMES.filter((x) => x !== 'storage2')) expect(recapLine(first.out, h), first.out).toMatch(/failed=0 /);
    let j = journal();
    expect(j.steps.preflight!.status).toBe('failed');
    expect(Object.keys(j.steps.preflight!.pending ?? {})).toEqual(['storage2']);

    const blocked = await run(['ha']);
    expect(blocked.rc, blocked.out).toBe(1);
    expect(blocked.out).toContain('preflight is failed (hosts: storage2)');
    expect(blocked.out).toContain('./run preflight --resume');

    cluster.host('storage2').setMemory(16384);
    const resumed = await run(['preflight', '--resume']);
    expect(resumed.rc, resumed.out).toBe(0);
    expect(recapLine(resumed.out, 'storage2')).toMatch(/ok=\d+ .*failed=0 /);
    for (const h of NAMES.filter((x) => x !== 'storage2')) expect(resumed.out, h).not.toMatch(new RegExp(`^${h} +:`, 'm'));
    expect(resumed.out).toContain('step preflight succeeded. Next: ./run ha');
    j = journal();
    expect(j.steps.preflight!.status).toBe('succeeded');
    expect([...(j.steps.preflight!.done ?? [])].sort()).toEqual([...NAMES].sort());
  }, 900_000);

  it('ha then succeeds with its verification, and a second run changes nothing', async () => {
    const r = await run(['ha']);
    expect(r.rc, r.out).toBe(0);
    expect(r.out).toContain('step ha succeeded');
    const j = journal();
    expect(j.steps.ha!.status).toBe('succeeded');
    expect(j.steps.ha!.verify?.length).toBeGreaterThan(0);
    expect(j.steps.ha!.verify!.every((v) => v.passed)).toBe(true);
    const again = await run(['ha']);
    expect(again.rc, again.out).toBe(0);
    for (const h of CONTROL) expect(recapLine(again.out, h), again.out).toMatch(/changed=0 .*failed=0 /);
    const status = await run(['status']);
    expect(status.out).toMatch(/^preflight +succeeded/m);
    expect(status.out).toMatch(/^ha +succeeded/m);
    expect(status.out).toContain('next: ./run ceph');
  }, 900_000);

  it('Ctrl-C during preflight records interrupted (exit 99); --resume then completes the step', async () => {
    const r = await run(['preflight'], { interruptWhen: /TASK \[/ });
    expect(r.rc, r.out).toBe(99);
    expect(r.out).toContain('[interrupt]');
    expect(journal().steps.preflight!.status).toBe('interrupted');
    const status = await run(['status']);
    expect(status.out).toMatch(/^preflight +interrupted/m);
    expect(status.out).toContain('next: ./run preflight --resume');
    const resumed = await run(['preflight', '--resume']);
    expect(resumed.rc, resumed.out).toBe(0);
    expect(journal().steps.preflight!.status).toBe('succeeded');
  }, 900_000);

  it('hosts --vitals reports what the hosts themselves say', async () => {
    const r = await run(['hosts', '--vitals', '--json']);
    expect(r.rc, r.out).toBe(0);
    const rows = JSON.parse(r.out) as { host: string; vitals: { memory: { totalMiB: number }; uptimeSeconds: number; disks: { mount: string }[]; load: number[] } }[];
    expect(rows.map((x) => x.host)).toEqual(NAMES);
    for (const row of rows) {
      const h = cluster.host(row.host);
      const mem = Number(/MemTotal:\s+(\d+)/.exec((await h.exec('cat /proc/meminfo')).stdout)![1]) / 1024;
      expect(row.vitals.memory.totalMiB).toBe(Math.round(mem));
      const up = Number((await h.exec('cat /proc/uptime')).stdout.split(' ')[0]);
      expect(Math.abs(row.vitals.uptimeSeconds - up)).toBeLessThan(30);
      expect(row.vitals.disks.some((d) => d.mount === '/')).toBe(true);
      expect(row.vitals.load).toHaveLength(3);
    }
    expect(rows.find((x) => x.host === 'storage2')!.vitals.memory.totalMiB).toBe(16384);
  }, 300_000);
});
