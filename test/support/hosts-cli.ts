/**
 * Start N test hosts, print an Ansible inventory, wait for SIGINT/SIGTERM, stop. For manual work and benchmarks.
 *
 *   node --import ./test/support/ts-resolve.ts test/support/hosts-cli.ts --count 50 [--mode netns]
 *        [--inventory FILE] [--user root|tester|nopass] [--become] [--no-wait] [--json] [--cleanup-stale]
 *
 * Reports (stderr, or stdout with --json): startup time, process count, memory (RSS sum, PSS sum, and the drop
 * of the machine's MemAvailable), stop time, leftovers. `--no-wait` stops right after measuring.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { cleanupStale, startHosts, type HostMode, type HostUser, type TestCluster } from './testhosts.js';

function memAvailableKiB(): number {
  const m = /MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) : 0;
}

function rollup(pid: number): { rss: number; pss: number } {
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)?.[1] ?? 0);
    return { rss: kb('Rss'), pss: kb('Pss') };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

/** Memory of every process of the run: hosts' namespaces plus the unshare launchers. */
export function clusterMemory(c: TestCluster): { processes: number; rssMiB: number; pssMiB: number } {
  const pids = c.pids();
  let rss = 0;
  let pss = 0;
  for (const p of pids) {
    const r = rollup(p);
    rss += r.rss;
    pss += r.pss;
  }
  return { processes: pids.length, rssMiB: Math.round(rss / 1024), pssMiB: Math.round(pss / 1024) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '3' },
      mode: { type: 'string', default: 'loopback' },
      inventory: { type: 'string' },
      user: { type: 'string', default: 'root' },
      become: { type: 'boolean', default: false },
      'no-wait': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'cleanup-stale': { type: 'boolean', default: false },
      'batch-size': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: hosts-cli.ts --count N [--mode loopback|netns] [--inventory FILE] [--user root|tester|nopass] [--become] [--no-wait] [--json] [--cleanup-stale]');
    return;
  }
  const say = (s: string): void => void process.stderr.write(`${s}\n`);
  if (values['cleanup-stale']) {
    const r = await cleanupStale({ log: say });
    say(`cleanup-stale: ${JSON.stringify(r)}`);
    return;
  }
  const count = Number(values.count);
  const mode = values.mode as HostMode;
  if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be a positive integer, got ${values.count}`);
  if (mode !== 'loopback' && mode !== 'netns') throw new Error(`--mode must be loopback or netns, got ${values.mode}`);

  let stopRequested: () => void = () => {};
  const stopSignal = new Promise<void>((r) => (stopRequested = r));
  process.once('SIGINT', () => stopRequested());
  process.once('SIGTERM', () => stopRequested());

  const memBefore = memAvailableKiB();
  const cluster = await startHosts({
    count,
    mode,
    batchSize: values['batch-size'] ? Number(values['batch-size']) : undefined,
    log: values.json ? undefined : say,
  });
  // let freshly forked sshd pages settle before measuring
  await new Promise((r) => setTimeout(r, 500));
  const mem = clusterMemory(cluster);
  const memAvailDropMiB = Math.round((memBefore - memAvailableKiB()) / 1024);
  const inv = { user: values.user as HostUser, become: values.become };
  if (values.inventory) cluster.writeInventory(values.inventory, inv);
  const stats = { hosts: count, mode, startupMs: cluster.startupMs, ...mem, memAvailableDropMiB: memAvailDropMiB };
  if (!values.json) {
    if (!values.inventory) process.stdout.write(cluster.inventory(inv));
    say(`run ${cluster.id}: ${count} ${mode} hosts in ${cluster.startupMs} ms; ${mem.processes} processes, RSS sum ${mem.rssMiB} MiB, PSS sum ${mem.pssMiB} MiB, MemAvailable drop ${memAvailDropMiB} MiB`);
    say(`ssh: ssh -F ${cluster.sshConfigFile} ${cluster.hosts[0]!.name}${values.inventory ? `   inventory: ${values.inventory}` : ''}`);
    if (!values['no-wait']) say('Ctrl-C (SIGINT) or SIGTERM stops the hosts.');
  }
  if (!values['no-wait']) {
    // hosts do not keep node's event loop alive (by design): hold it until a signal comes
    const hold = setInterval(() => {}, 1 << 30);
    await stopSignal;
    clearInterval(hold);
  }
  const t = Date.now();
  await cluster.stop();
  const stopMs = Date.now() - t;
  const left = cluster.leftovers();
  if (values.json) console.log(JSON.stringify({ ...stats, stopMs, leftovers: left }));
  else say(`stopped in ${stopMs} ms; leftovers: ${JSON.stringify(left)}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
