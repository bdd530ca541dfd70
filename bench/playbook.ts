/**
 * Benchmark of `./run playbook` against `ansible-playbook` on the same real sshd test hosts
 * (test/support/testhosts.ts): bench/playbook-bench.yml, 20 tasks (8 command, 4 copy, 4 file directory,
 * 2 lineinfile, 2 template), forks = number of hosts, host key checking off for both.
 *
 *   npm run bench:playbook                          # 8 and 50 hosts, one timed pair of runs per tool
 *   npm run bench:playbook -- --sizes 8 --reps 3    # median of 3 (each rep starts from clean hosts)
 *   BURROW_CLI="node_modules/node/bin/node dist/cli.js" npm run bench:playbook
 *
 * Run 1 starts from hosts without /srv/bench (everything changes); run 2 repeats it (idempotent: both tools
 * must report changed=0). Ansible runs with pipelining and its default SSH ControlPersist (ControlMaster=auto,
 * ControlPersist=60s), so its run 2 reuses the masters of run 1; ours opens one connection per host per
 * process. Every number is the wall time of a whole process, start-up included. Our peak RSS comes from GNU
 * time (%M). After both tools ran, the tree each one left on host 1 is compared (same files, modes, content).
 * Target: ours ≤ 1/10 of Ansible's time in both runs. Results also go to bench/results/playbook-<time>.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startHosts, type TestCluster } from '../test/support/testhosts.js';

const ROOT = resolve(import.meta.dirname, '..');
const PLAYBOOK = join(ROOT, 'bench', 'playbook-bench.yml');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

const SIZES = arg('sizes', '8,50').split(',').map(Number).filter((n) => n > 0);
const REPS = Math.max(1, Number(arg('reps', '1')));
const RUN_TIMEOUT_MS = 15 * 60_000;

interface Timed {
  ms: number;
  rc: number;
  rssKb?: number;
  out: string;
}

/** Runs a command; wall time; with GNU time for peak RSS when asked. */
function timed(cmd: string[], opts: { env?: NodeJS.ProcessEnv; rss?: boolean; cwd?: string } = {}): Promise<Timed> {
  return new Promise((resolveRun, reject) => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-pb-'));
    const rssFile = join(dir, 'rss');
    const argv = opts.rss ? ['/usr/bin/time', '-f', '%M', '-o', rssFile, ...cmd] : cmd;
    const t0 = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** Sums ok/changed/failed/unreachable over the PLAY RECAP lines (both tools print Ansible's format). */
function recap(out: string): { hosts: number; ok: number; changed: number; failed: number; unreachable: number } {
  const r = { hosts: 0, ok: 0, changed: 0, failed: 0, unreachable: 0 };
  for (const m of out.matchAll(/^\S+\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
    r.hosts++;
    r.ok += Number(m[1]);
    r.changed += Number(m[2]);
    r.unreachable += Number(m[3]);
    r.failed += Number(m[4]);
  }
  return r;
}

interface Row {
  hosts: number;
  ours1: number;
  ours2: number;
  ansible1: number;
  ansible2: number;
  rssMb: number;
  runs: { tool: string; run: number; ms: number; changed: number }[];
}

const TREE = `cd /srv/bench && find . -printf '%p %y %m %u %g\\n' | LC_ALL=C sort && find . -type f ! -name marker -exec sha256sum {} + | LC_ALL=C sort -k2`;

async function benchSize(n: number, work: string): Promise<Row> {
  process.stderr.write(`bench: starting ${n} test hosts…\n`);
  const cluster: TestCluster = await startHosts({ count: n, namePrefix: 'b', readyTimeoutMs: 30_000 + 300 * n });
  try {
    const inv = join(work, `inv-${n}`);
    cluster.writeInventory(inv, { user: 'root', key: 'ed25519', hostKeyChecking: 'off' });
    const cfg = join(work, 'run.cfg');
    writeFileSync(cfg, `[defaults]\nhost_key_checking = off\nlog_path = ${join(work, 'logs')}\nforks = ${n}\n`);
    const cli = (process.env.BURROW_CLI ?? join(ROOT, 'run')).split(' ');
    const ours = [...cli, 'playbook', PLAYBOOK, '-i', inv, '-f', String(n)];
    const oursEnv = { ...process.env, RUN_CONFIG: cfg, NO_COLOR: '1' };
    const ansible = ['/usr/bin/ansible-playbook', '-i', inv, '-f', String(n), PLAYBOOK];
    const ansibleEnv: NodeJS.ProcessEnv = {
      ...process.env,
      ANSIBLE_CONFIG: join(work, 'none.cfg'),
      ANSIBLE_PIPELINING: 'True',
      ANSIBLE_HOST_KEY_CHECKING: 'False',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: 'False',
      ANSIBLE_LOCAL_TEMP: join(work, 'ansible-tmp'),
      ANSIBLE_SSH_CONTROL_PATH_DIR: join(work, 'ansible-cp'),
      ANSIBLE_SSH_ARGS: '-C -o ControlMaster=auto -o ControlPersist=60s',
    };
    const clean = async (): Promise<void> => {
      await Promise.all(cluster.hosts.map((h) => h.exec('rm -rf /srv/bench')));
    };
    const check = (tool: string, run: number, t: Timed): number => {
      const r = recap(t.out);
      if (t.rc !== 0 || r.hosts !== n || r.failed || r.unreachable) throw new Error(`${tool} run ${run} at ${n} hosts failed (rc ${t.rc}):\n${t.out.slice(-4000)}`);
      if (run === 1 && r.changed === 0) throw new Error(`${tool} run 1 changed nothing:\n${t.out.slice(-2000)}`);
      if (run === 2 && r.changed !== 0) throw new Error(`${tool} run 2 is not idempotent (changed=${r.changed}):\n${t.out.slice(-4000)}`);
      process.stderr.write(`bench: ${n} hosts ${tool} run ${run}: ${(t.ms / 1000).toFixed(2)}s (ok=${r.ok} changed=${r.changed})\n`);
      return r.changed;
    };
    // warm-up (page cache, the build check of ./run, every host's sshd) — not counted
    await timed([...cli, '--version'], { env: oursEnv });
    const row: Row = { hosts: n, ours1: 0, ours2: 0, ansible1: 0, ansible2: 0, rssMb: 0, runs: [] };
    const o1: number[] = [];
    const o2: number[] = [];
    const a1: number[] = [];
    const a2: number[] = [];
    const rss: number[] = [];
    let treeOurs = '';
    let treeAnsible = '';
    for (let rep = 0; rep < REPS; rep++) {
      await clean();
      for (const [run, into] of [
        [1, o1],
        [2, o2],
      ] as const) {
        const t = await timed(ours, { rss: true, env: oursEnv });
        row.runs.push({ tool: 'ours', run, ms: t.ms, changed: check('ours', run, t) });
        into.push(t.ms);
        if (t.rssKb) rss.push(t.rssKb);
      }
      treeOurs = (await cluster.hosts[0]!.exec(TREE)).stdout;
      await clean();
      for (const [run, into] of [
        [1, a1],
        [2, a2],
      ] as const) {
        const t = await timed(ansible, { env: ansibleEnv });
        row.runs.push({ tool: 'ansible', run, ms: t.ms, changed: check('ansible', run, t) });
        into.push(t.ms);
      }
      treeAnsible = (await cluster.hosts[0]!.exec(TREE)).stdout;
    }
    if (treeOurs !== treeAnsible) process.stderr.write(`bench: WARNING: the trees left on ${cluster.hosts[0]!.name} differ\n--- ours\n${treeOurs}\n--- ansible\n${treeAnsible}\n`);
    row.ours1 = median(o1);
    row.ours2 = median(o2);
    row.ansible1 = median(a1);
    row.ansible2 = median(a2);
    row.rssMb = rss.length ? Math.max(...rss) / 1024 : NaN;
    return row;
  } finally {
    await cluster.stop();
  }
}

function table(rows: Row[]): string {
  const head = ['hosts', 'run', 'ours s', 'ansible s', 'ansible/ours', 'ours/ansible', 'our peak RSS MB', 'target ≤1/10'];
  const body: string[][] = [];
  for (const r of rows) {
    for (const [run, o, a] of [
      [1, r.ours1, r.ansible1],
      [2, r.ours2, r.ansible2],
    ] as const) {
      body.push([
        String(r.hosts),
        String(run),
        (o / 1000).toFixed(2),
        (a / 1000).toFixed(2),
        (a / o).toFixed(1) + '×',
        (o / a).toFixed(3),
        run === 1 ? r.rssMb.toFixed(0) : '',
        o * 10 <= a ? 'ok' : 'MISSED',
      ]);
    }
  }
  const all = [head, ...body];
  const w = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  return all.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padStart(w[i]!))).join('  ')).join('\n');
}

const work = mkdtempSync(join(tmpdir(), 'bench-playbook-'));
try {
  writeFileSync(join(work, 'none.cfg'), '[defaults]\n');
  const rows: Row[] = [];
  for (const n of SIZES) rows.push(await benchSize(n, work));
  console.log(`playbook benchmark: ${PLAYBOOK.slice(ROOT.length + 1)}, 20 tasks, forks = hosts, median of ${REPS}; run 2 = idempotent re-run\n${table(rows)}`);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(join(ROOT, 'bench', 'results', `playbook-${stamp}.json`), JSON.stringify({ reps: REPS, rows }, null, 2) + '\n');
} finally {
  rmSync(work, { recursive: true, force: true });
}
