/**
 * Benchmark of `./run ping` against `ansible all -m ping` and a raw-ssh2 floor, on the same real sshd
 * test hosts (test/support/testhosts.ts), the same inventory and key, host key checking off for all three.
 *
 *   npm run bench:ping                      # 8, 50 and 200 hosts, 3 runs each (median)
 *   npm run bench:ping -- --sizes 8,50 --runs 5 --ansible-runs 1 --user root
 *   BURROW_CLI="node_modules/node/bin/node dist/cli.js" npm run bench:ping   # a prebuilt CLI instead of ./run
 *
 * Every number is the wall time of a whole process (start-up included) that contacts all hosts at once
 * (forks = number of hosts). Our peak RSS comes from GNU time (%M). Targets: ours ≤ 1/10 of Ansible's
 * time at 50 and 200 hosts, ≤ 1.3× the floor, peak RSS ≤ 150 MB at 200 hosts. Results are also written
 * to bench/results/ping-<timestamp>.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startHosts, type TestCluster } from '../test/support/testhosts.js';

const ROOT = resolve(import.meta.dirname, '..');
const NODE = join(ROOT, 'node_modules', 'node', 'bin', 'node');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

const SIZES = arg('sizes', '8,50,200').split(',').map(Number).filter((n) => n > 0);
const RUNS = Math.max(1, Number(arg('runs', '3')));
const ANSIBLE_RUNS = Math.max(1, Number(arg('ansible-runs', String(RUNS))));
const RUN_TIMEOUT_MS = 10 * 60_000;
// `nopass` by default: root's shell start-up files on this machine (a pyenv init in /root/.bashrc) cost
// ~100 ms of CPU per ssh session, which would measure the test machine rather than the tools.
const USER = arg('user', 'nopass') as 'nopass' | 'root' | 'tester';

interface Timed {
  ms: number;
  rc: number;
  rssKb?: number;
  out: string;
}

/** Runs a command; wall time; with GNU time for peak RSS when asked. */
function timed(cmd: string[], opts: { env?: NodeJS.ProcessEnv; rss?: boolean } = {}): Promise<Timed> {
  return new Promise((resolveRun, reject) => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    const rssFile = join(dir, 'rss');
    const argv = opts.rss ? ['/usr/bin/time', '-f', '%M', '-o', rssFile, ...cmd] : cmd;
    const t0 = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      clearTimeout(timer);
      let rssKb: number | undefined;
      if (opts.rss && existsSync(rssFile)) rssKb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
      rmSync(dir, { recursive: true, force: true });
      resolveRun({ ms, rc: code ?? -1, rssKb, out });
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Row {
  hosts: number;
  ours: number;
  ansible: number;
  floor: number;
  rssMb: number;
  oursRuns: number[];
  ansibleRuns: number[];
  floorRuns: number[];
}

async function benchSize(n: number, work: string): Promise<Row> {
  process.stderr.write(`bench: starting ${n} test hosts…\n`);
  const cluster: TestCluster = await startHosts({ count: n, namePrefix: 'b', readyTimeoutMs: 30_000 + 300 * n });
  try {
    const inv = join(work, `inv-${n}`);
    cluster.writeInventory(inv, { user: USER, auth: 'key', key: 'ed25519', hostKeyChecking: 'off' });
    const floorHosts = join(work, `floor-${n}.json`);
    writeFileSync(
      floorHosts,
      JSON.stringify(cluster.hosts.map((h) => ({ host: h.address, port: h.port, user: USER, key: cluster.keys.ed25519.path }))),
    );
    const cli = (process.env.BURROW_CLI ?? join(ROOT, 'run')).split(' ');
    const ours = [...cli, 'ping', '-i', inv, '-f', String(n)];
    const ansible = ['/usr/bin/ansible', 'all', '-i', inv, '-m', 'ping', '-f', String(n), '-o'];
    const ansibleEnv = {
      ...process.env,
      ANSIBLE_HOST_KEY_CHECKING: 'False',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_LOCAL_TEMP: join(work, 'ansible-tmp'),
      ANSIBLE_SSH_CONTROL_PATH_DIR: join(work, 'ansible-cp'),
    };
    const floor = [NODE, join(ROOT, 'bench', 'ssh-floor.mjs'), floorHosts];
    // warm-up (page cache, the sshd of every host) — not counted
    await timed(floor);
    const row: Row = { hosts: n, ours: 0, ansible: 0, floor: 0, rssMb: 0, oursRuns: [], ansibleRuns: [], floorRuns: [] };
    const rss: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const f = await timed(floor);
      if (f.rc !== 0) throw new Error(`floor failed: ${f.out}`);
      row.floorRuns.push(f.ms);
      const o = await timed(ours, { rss: true });
      if (o.rc !== 0) throw new Error(`ours failed (rc ${o.rc}):\n${o.out}`);
      row.oursRuns.push(o.ms);
      if (o.rssKb) rss.push(o.rssKb);
      process.stderr.write(`bench: ${n} hosts run ${i + 1}: ours ${(o.ms / 1000).toFixed(2)}s, floor ${(f.ms / 1000).toFixed(2)}s\n`);
    }
    for (let i = 0; i < ANSIBLE_RUNS; i++) {
      const a = await timed(ansible, { env: ansibleEnv });
      if (a.rc !== 0) throw new Error(`ansible failed (rc ${a.rc}):\n${a.out.slice(-3000)}`);
      const ok = (a.out.match(/SUCCESS/g) ?? []).length;
      if (ok !== n) throw new Error(`ansible: ${ok} of ${n} hosts answered`);
      row.ansibleRuns.push(a.ms);
      process.stderr.write(`bench: ${n} hosts ansible run ${i + 1}: ${(a.ms / 1000).toFixed(2)}s\n`);
    }
    row.ours = median(row.oursRuns);
    row.ansible = median(row.ansibleRuns);
    row.floor = median(row.floorRuns);
    row.rssMb = rss.length ? Math.max(...rss) / 1024 : NaN;
    return row;
  } finally {
    await cluster.stop();
  }
}

function table(rows: Row[]): string {
  const head = ['hosts', 'ours s', 'ansible s', 'floor s', 'ansible/ours', 'ours/floor', 'our peak RSS MB', 'targets'];
  const body = rows.map((r) => {
    const speedup = r.ansible / r.ours;
    const overFloor = r.ours / r.floor;
    const targets: string[] = [];
    if (r.hosts >= 50) targets.push(speedup >= 10 ? 'ansible≥10× ok' : 'ansible≥10× MISSED');
    targets.push(overFloor <= 1.3 ? '≤1.3×floor ok' : '≤1.3×floor MISSED');
    if (r.hosts >= 200) targets.push(r.rssMb <= 150 ? 'RSS≤150MB ok' : 'RSS≤150MB MISSED');
    return [
      String(r.hosts),
      (r.ours / 1000).toFixed(2),
      (r.ansible / 1000).toFixed(2),
      (r.floor / 1000).toFixed(2),
      speedup.toFixed(1) + '×',
      overFloor.toFixed(2) + '×',
      r.rssMb.toFixed(0),
      targets.join(', '),
    ];
  });
  const all = [head, ...body];
  const w = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  return all.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padStart(w[i]!))).join('  ')).join('\n');
}

const work = mkdtempSync(join(tmpdir(), 'bench-ping-'));
try {
  const rows: Row[] = [];
  const loadBefore = loadavg().map((l) => l.toFixed(1)).join(' ');
  for (const n of SIZES) rows.push(await benchSize(n, work));
  const text = table(rows);
  console.log(
    `ping benchmark (median of ${RUNS} runs; ansible ${ANSIBLE_RUNS}; forks = hosts; user ${USER}, key ed25519; host key checking off)\n` +
      `${text}\n(load average before: ${loadBefore}; after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${cpus().length} CPUs)`,
  );
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(join(ROOT, 'bench', 'results', `ping-${stamp}.json`), JSON.stringify({ runs: RUNS, rows }, null, 2) + '\n');
} finally {
  rmSync(work, { recursive: true, force: true });
}
