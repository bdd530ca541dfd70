/**
 * Compatibility harness: one playbook, two fresh sets of real sshd test hosts, real `ansible-playbook` on one
 * and our engine on the other, then the resulting host state and per-host recap compared field by field.
 *
 * A case is a playbook in test/fixtures/compat/ whose header comment declares what the harness needs:
 *
 *   # ---compat
 *   # hosts: 2                      # test hosts per cluster (h1..hN), default 2
 *   # paths: [/srv/compat/x]        # snapshot after the run: type, mode, owner, group, link target, sha256
 *   # meta_only: [/srv/compat/key]  # snapshot without content (random keys, timestamps)
 *   # probes: ['id alice']          # shell commands on every host whose rc + stdout are compared
 *   # controller: true              # also compare the run's controller directory ({{ ctl_dir }}: fetch, delegate_to localhost)
 *   # idempotent: true              # our second run must report changed=0 and leave the same state
 *   # rc: 0                         # ansible-playbook's expected exit code (so a broken fixture cannot pass by
 *   #                               # failing the same way under both), default 0
 *   # user: root | tester | nopass  # ansible_user (tester logs in with a password); become: true adds ansible_become
 *   # groups: {web: [h1]}           # inventory groups
 *   # host_vars: {h1: {a: 1}}       # inventory host vars
 *   # flags: {check: true, diff: true, tags: [x], skip_tags: [y], limit: h1, forks: 1}
 *   # setup: 'shell run on every host before the run'
 *   # standins: true                # install the systemctl/dnf stand-ins (test/support/standins)
 *   # stop_sshd: [h3]               # those hosts are unreachable during the run
 *   # requires: [user]              # runner modules the case needs (a missing one fails the case, named)
 *   # allow:                        # differences accepted, each explained in docs/compat.md
 *   #   - {match: 'regex over the difference line', why: 'docs/compat.md#anchor'}
 *   # ---
 *
 * Both runs get the same extra vars (`compat_*` from the suite: HTTP port, archive path, apt repo) plus their
 * own `ctl_dir`. Ansible runs with pipelining, host key checking off and the json stdout callback (its
 * `stats` are the recap); ours runs in process through runPlaybookFile (the code path of `./run playbook`).
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runPlaybookFile } from '../../src/app/playbook.js';
import { RunError } from '../../src/core/errors.js';
import { modules } from '../../src/modules/index.js';
import type { RecapCounts } from '../../src/output/events.js';
import { installStandins } from '../support/standins/index.js';
import { startHosts, type HostUser, type TestCluster } from '../support/testhosts.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'compat');

export interface Allow {
  match: string;
  why: string;
}

export interface CaseSpec {
  name: string;
  file: string;
  title: string;
  hosts: number;
  paths: string[];
  metaOnly: string[];
  probes: string[];
  controller: boolean;
  idempotent: boolean;
  rc: number;
  user: HostUser;
  become: boolean;
  groups: Record<string, string[]>;
  hostVars: Record<string, Record<string, string | number | boolean>>;
  flags: { check?: boolean; diff?: boolean; tags?: string[]; skip_tags?: string[]; limit?: string; forks?: number };
  setup?: string;
  standins: boolean;
  stopSshd: string[];
  requires: string[];
  allow: Allow[];
}

const KEYS = new Set(['rc', 'hosts', 'paths', 'meta_only', 'probes', 'controller', 'idempotent', 'user', 'become', 'groups', 'host_vars', 'flags', 'setup', 'standins', 'stop_sshd', 'requires', 'allow']);

/** Reads the `# ---compat … # ---` header of a playbook. */
export function loadCase(file: string): CaseSpec {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === '# ---compat');
  const end = lines.findIndex((l, i) => i > start && l.trim() === '# ---');
  if (start < 0 || end < 0) throw new Error(`${file}: no '# ---compat' … '# ---' header`);
  const title = lines
    .slice(0, start)
    .map((l) => l.replace(/^#\s?/, ''))
    .join(' ')
    .trim();
  const raw = (parseYaml(lines.slice(start + 1, end).map((l) => l.replace(/^#\s?/, '')).join('\n')) ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(raw)) if (!KEYS.has(k)) throw new Error(`${file}: unknown compat header key '${k}'`);
  const list = (v: unknown): string[] => (v === undefined ? [] : (v as unknown[]).map(String));
  const name = file.split('/').pop()!.replace(/\.yml$/, '');
  return {
    name,
    file,
    title,
    hosts: Number(raw.hosts ?? 2),
    paths: list(raw.paths),
    metaOnly: list(raw.meta_only),
    probes: list(raw.probes),
    controller: Boolean(raw.controller),
    idempotent: raw.idempotent === undefined ? true : Boolean(raw.idempotent),
    rc: Number(raw.rc ?? 0),
    user: (raw.user as HostUser | undefined) ?? 'root',
    become: Boolean(raw.become),
    groups: (raw.groups as Record<string, string[]> | undefined) ?? {},
    hostVars: (raw.host_vars as CaseSpec['hostVars'] | undefined) ?? {},
    flags: (raw.flags as CaseSpec['flags'] | undefined) ?? {},
    setup: raw.setup === undefined ? undefined : String(raw.setup),
    standins: Boolean(raw.standins),
    stopSshd: list(raw.stop_sshd),
    requires: list(raw.requires),
    allow: (raw.allow as Allow[] | undefined) ?? [],
  };
}

// ───────────────────────────────────────────── running ─────────────────────────────────────────────

export interface Recap {
  [host: string]: RecapCounts;
}

export interface RunResult {
  rc: number;
  recap: Recap;
  output: string;
  ms: number;
}

interface Proc {
  rc: number;
  stdout: string;
  stderr: string;
}

/** Runs a program without a shell; bounded. */
export function runProc(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Proc> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 180_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ rc: 127, stdout, stderr: stderr + e.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ rc: code ?? (signal ? 128 + 9 : -1), stdout, stderr });
    });
  });
}

/** Environment of every ansible-playbook run: pipelining, no host key checking, json recap, private temp dirs. */
export function ansibleEnv(work: string): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
    ANSIBLE_CONFIG: join(work, 'no-ansible.cfg'),
    ANSIBLE_PIPELINING: 'True',
    ANSIBLE_HOST_KEY_CHECKING: 'False',
    ANSIBLE_STDOUT_CALLBACK: 'json',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    ANSIBLE_LOCAL_TEMP: join(work, 'ansible-local'),
    ANSIBLE_SSH_CONTROL_PATH_DIR: join(work, 'ansible-cp'),
    // the masters go away with the test hosts; keep them from outliving a run by much anyway
    ANSIBLE_SSH_ARGS: '-C -o ControlMaster=auto -o ControlPersist=30s',
    ANSIBLE_COLLECTIONS_SCAN_SYS_PATH: 'True',
    ANSIBLE_DEPRECATION_WARNINGS: 'False',
  };
}

function ansibleArgs(c: CaseSpec, inv: string, extra: Record<string, unknown>): string[] {
  const a = ['-i', inv, c.file, '-e', JSON.stringify(extra)];
  const f = c.flags;
  if (f.check) a.push('--check');
  if (f.diff) a.push('--diff');
  if (f.tags?.length) a.push('--tags', f.tags.join(','));
  if (f.skip_tags?.length) a.push('--skip-tags', f.skip_tags.join(','));
  if (f.limit) a.push('--limit', f.limit);
  a.push('--forks', String(f.forks ?? 5));
  return a;
}

export async function runAnsible(c: CaseSpec, inv: string, extra: Record<string, unknown>, work: string): Promise<RunResult> {
  const t0 = Date.now();
  const p = await runProc('ansible-playbook', ansibleArgs(c, inv, extra), { cwd: FIXTURES, env: ansibleEnv(work) });
  const ms = Date.now() - t0;
  const recap: Recap = {};
  const json = p.stdout.slice(p.stdout.indexOf('{'));
  try {
    const doc = JSON.parse(json) as { stats: Record<string, Record<string, number>> };
    for (const [h, s] of Object.entries(doc.stats)) {
      recap[h] = { ok: s.ok ?? 0, changed: s.changed ?? 0, unreachable: s.unreachable ?? 0, failed: s.failures ?? 0, skipped: s.skipped ?? 0, rescued: s.rescued ?? 0, ignored: s.ignored ?? 0 };
    }
  } catch {
    // a parse error or crash: no stats; rc and output tell
  }
  return { rc: p.rc, recap, output: `${p.stdout}\n--- stderr ---\n${p.stderr}`, ms };
}

export async function runOurs(c: CaseSpec, inv: string, extra: Record<string, unknown>, cfg: string): Promise<RunResult> {
  const t0 = Date.now();
  const lines: string[] = [];
  const f = c.flags;
  try {
    const out = await runPlaybookFile(
      c.file,
      {
        inventory: inv,
        config: cfg,
        'extra-vars': [JSON.stringify(extra)],
        check: f.check,
        diff: f.diff,
        tags: f.tags,
        'skip-tags': f.skip_tags,
        limit: f.limit,
        forks: f.forks ?? 5,
      },
      { command: 'compat', write: (l) => lines.push(l) },
    );
    return { rc: out.exitCode, recap: out.stats, output: lines.join('\n'), ms: Date.now() - t0 };
  } catch (e) {
    const rc = e instanceof RunError ? e.exitCode : 250;
    const msg = e instanceof Error ? `${e.message}${e instanceof RunError && e.hint ? `\nhint: ${e.hint}` : ''}\n${rc === 250 ? e.stack : ''}` : String(e);
    return { rc, recap: {}, output: `${lines.join('\n')}\n--- error ---\n${msg}`, ms: Date.now() - t0 };
  }
}

// ───────────────────────────────────────────── state ─────────────────────────────────────────────

/** POSIX sh that prints a path's tree: type, mode, owner, group, link target; sha256 of regular files. */
function snapScript(paths: string[], metaOnly: string[]): string {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const one = (p: string, content: boolean): string =>
    `if [ -e ${q(p)} ] || [ -L ${q(p)} ]; then find ${q(p)} -printf '%p %y %m %u %g %l\\n' | LC_ALL=C sort;` +
    (content ? ` find ${q(p)} -type f -exec sha256sum {} + | LC_ALL=C sort -k2;` : '') +
    ` else echo ${q(p)} absent; fi`;
  return [...paths.map((p) => one(p, true)), ...metaOnly.map((p) => one(p, false))].join('\n');
}

export interface HostState {
  [host: string]: string[];
}

export async function snapshot(c: CaseSpec, cluster: TestCluster): Promise<HostState> {
  const out: HostState = {};
  const script = snapScript(c.paths, c.metaOnly);
  for (const h of cluster.hosts) {
    if (c.stopSshd.includes(h.name)) continue;
    const lines: string[] = [];
    if (script) {
      const r = await h.exec(script);
      lines.push(...r.stdout.split('\n').filter(Boolean));
      if (r.stderr.trim()) lines.push(`stderr: ${r.stderr.trim()}`);
    }
    for (const p of c.probes) {
      const r = await h.exec(p);
      lines.push(`probe ${p} → rc=${r.rc}`, ...r.stdout.split('\n').filter(Boolean).map((l) => `  ${l}`));
    }
    out[h.name] = lines;
  }
  return out;
}

/** The controller directory of a run, paths made relative. */
export async function snapshotLocal(dir: string): Promise<string[]> {
  const r = await runProc('/bin/sh', ['-c', `cd ${dir} && find . -printf '%p %y %m %u %g %l\\n' | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2`]);
  return r.stdout.split('\n').filter(Boolean);
}

// ───────────────────────────────────────────── comparing ─────────────────────────────────────────────

const COUNTS: (keyof RecapCounts)[] = ['ok', 'changed', 'failed', 'skipped', 'unreachable', 'rescued', 'ignored'];

export function compareRecap(a: Recap, o: Recap): string[] {
  const out: string[] = [];
  for (const h of [...new Set([...Object.keys(a), ...Object.keys(o)])].sort()) {
    if (!a[h]) {
      out.push(`recap ${h}: only ours has it`);
      continue;
    }
    if (!o[h]) {
      out.push(`recap ${h}: only ansible has it`);
      continue;
    }
    for (const k of COUNTS) if (a[h][k] !== o[h][k]) out.push(`recap ${h}.${k}: ansible ${a[h][k]}, ours ${o[h][k]}`);
  }
  return out;
}

export function compareLines(what: string, a: string[], o: string[]): string[] {
  const out: string[] = [];
  const sa = new Set(a);
  const so = new Set(o);
  for (const l of a) if (!so.has(l)) out.push(`${what}: ansible has   ${l}`);
  for (const l of o) if (!sa.has(l)) out.push(`${what}: ours has      ${l}`);
  if (!out.length && a.join('\n') !== o.join('\n')) out.push(`${what}: same lines, different order`);
  return out;
}

export function compareState(a: HostState, o: HostState): string[] {
  const out: string[] = [];
  for (const h of [...new Set([...Object.keys(a), ...Object.keys(o)])].sort()) out.push(...compareLines(`state ${h}`, a[h] ?? [], o[h] ?? []));
  return out;
}

/** Splits differences into allowed (with the reason) and unexplained. */
export function triage(diffs: string[], allow: Allow[]): { allowed: { diff: string; why: string }[]; unexplained: string[] } {
  const allowed: { diff: string; why: string }[] = [];
  const unexplained: string[] = [];
  for (const d of diffs) {
    const a = allow.find((x) => new RegExp(x.match).test(d));
    if (a) allowed.push({ diff: d, why: a.why });
    else unexplained.push(d);
  }
  return { allowed, unexplained };
}

// ───────────────────────────────────────────── a case ─────────────────────────────────────────────

export interface Shared {
  work: string;
  /** stops the HTTP service and removes the work directory (unless COMPAT_KEEP) */
  close(): void;
  /** extra vars both runs get */
  extra: Record<string, unknown>;
  /** files to put on every host before setup: host path → content */
  hostFiles: Record<string, Buffer>;
}

export interface CaseOutcome {
  name: string;
  title: string;
  ansible: RunResult;
  ours: RunResult;
  second?: RunResult;
  agreements: number;
  allowed: { diff: string; why: string }[];
  unexplained: string[];
  /** our second run: problems (changed ≠ 0, state changed) */
  idempotence: string[];
  /** both versions of the files whose content differs (for the failure message) */
  details: string;
  ms: number;
}

export async function prepareCluster(c: CaseSpec, s: Shared, prefix: string): Promise<TestCluster> {
  const cluster = await startHosts({ count: c.hosts, namePrefix: 'h', readyTimeoutMs: 60_000 });
  try {
    for (const h of cluster.hosts) {
      for (const [p, data] of Object.entries(s.hostFiles)) {
        mkdirSync(h.path(p.slice(0, p.lastIndexOf('/')) || '/'), { recursive: true });
        h.writeFile(p, data, 0o644);
      }
      if (c.standins) installStandins(h);
      if (c.setup) {
        const r = await h.exec(c.setup, { timeoutMs: 60_000 });
        if (r.rc !== 0) throw new Error(`${c.name}: setup failed on ${h.name} (${prefix}): ${r.stderr || r.stdout}`);
      }
    }
    return cluster;
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}

/** Both contents of every file whose checksum differs (first 2000 bytes, JSON-quoted to show whitespace). */
async function contentDetails(diffs: string[], ca: TestCluster, co: TestCluster): Promise<string> {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const d of diffs) {
    const m = /^state (\S+): .* has\s+[0-9a-f]{64} {2}(.*)$/.exec(d);
    if (!m || seen.has(`${m[1]} ${m[2]}`)) continue;
    seen.add(`${m[1]} ${m[2]}`);
    const read = async (c: TestCluster): Promise<string> => JSON.stringify((await c.host(m[1]!).exec(`head -c 2000 '${m[2]!.replace(/'/g, "'\\''")}'`)).stdout);
    out.push(`--- ${m[1]}:${m[2]}\n  ansible: ${await read(ca)}\n  ours:    ${await read(co)}`);
  }
  return out.join('\n');
}

function writeInv(c: CaseSpec, cluster: TestCluster, path: string): void {
  cluster.writeInventory(path, {
    user: c.user,
    become: c.become,
    hostKeyChecking: 'off',
    groups: c.groups,
    hostVars: (h) => c.hostVars[h.name],
  });
}

export type ClusterPair = [ansible: TestCluster, ours: TestCluster];

/** Both fresh clusters of a case, set up (the suite prepares the next case's while the current one runs). */
export async function preparePair(c: CaseSpec, s: Shared): Promise<ClusterPair> {
  const r = await Promise.allSettled([prepareCluster(c, s, 'ansible'), prepareCluster(c, s, 'ours')]);
  const ok = r.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : []));
  const bad = r.find((x) => x.status === 'rejected');
  if (bad) {
    await Promise.all(ok.map((cl) => cl.stop()));
    throw bad.reason;
  }
  return ok as ClusterPair;
}

/** Runs one case on its clusters (prepared now unless given) and stops them. */
export async function runCase(c: CaseSpec, s: Shared, pair?: Promise<ClusterPair>): Promise<CaseOutcome> {
  const t0 = Date.now();
  const clusters = pair ?? preparePair(c, s);
  const missing = c.requires.filter((m) => !modules().has(m));
  if (missing.length) {
    await clusters.then((cl) => Promise.all(cl.map((x) => x.stop()))).catch(() => undefined);
    throw new Error(`${c.name}: the runner has no module ${missing.join(', ')} (registered: ${[...modules().keys()].sort().join(' ')})`);
  }
  const dir = join(s.work, c.name);
  rmSync(dir, { recursive: true, force: true });
  const ctlA = join(dir, 'ctl-ansible');
  const ctlO = join(dir, 'ctl-ours');
  mkdirSync(ctlA, { recursive: true });
  mkdirSync(ctlO, { recursive: true });
  const cfg = join(dir, 'run.cfg');
  writeFileSync(cfg, `[defaults]\nhost_key_checking = off\nlog_path = ${join(dir, 'logs')}\ntimeout = 5\n`);
  const [ca, co] = await clusters;
  try {
    const invA = join(dir, 'inv-ansible');
    const invO = join(dir, 'inv-ours');
    writeInv(c, ca, invA);
    writeInv(c, co, invO);
    for (const n of c.stopSshd) {
      await ca.host(n).stopSshd({ killSessions: true });
      await co.host(n).stopSshd({ killSessions: true });
    }
    const [ansible, ours] = await Promise.all([runAnsible(c, invA, { ...s.extra, ctl_dir: ctlA }, dir), runOurs(c, invO, { ...s.extra, ctl_dir: ctlO }, cfg)]);
    const [stA, stO] = await Promise.all([snapshot(c, ca), snapshot(c, co)]);
    const diffs: string[] = [];
    if (ansible.rc !== c.rc) diffs.push(`fixture: ansible-playbook exited ${ansible.rc}, the case expects ${c.rc}`);
    if (ansible.rc !== ours.rc) diffs.push(`rc: ansible ${ansible.rc}, ours ${ours.rc}`);
    diffs.push(...compareRecap(ansible.recap, ours.recap));
    diffs.push(...compareState(stA, stO));
    let localA: string[] = [];
    let localO: string[] = [];
    if (c.controller) {
      [localA, localO] = await Promise.all([snapshotLocal(ctlA), snapshotLocal(ctlO)]);
      diffs.push(...compareLines('controller', localA, localO));
    }
    const details = await contentDetails(diffs, ca, co);
    // Agreements: recap fields + state lines + rc that match.
    const recapFields = Object.keys(ansible.recap).length * COUNTS.length;
    const stateLines = Object.values(stA).reduce((n, l) => n + l.length, 0) + localA.length;
    const { allowed, unexplained } = triage(diffs, c.allow);
    const agreements = Math.max(0, recapFields + stateLines + 1 - diffs.length);

    const idempotence: string[] = [];
    let second: RunResult | undefined;
    if (c.idempotent) {
      second = await runOurs(c, invO, { ...s.extra, ctl_dir: ctlO }, cfg);
      if (second.rc !== ours.rc) idempotence.push(`second run rc ${second.rc} (first ${ours.rc})`);
      for (const [h, r] of Object.entries(second.recap)) if (r.changed) idempotence.push(`second run: ${h} changed=${r.changed}`);
      const st2 = await snapshot(c, co);
      idempotence.push(...compareState(stO, st2).map((d) => `second run changed state: ${d.replace('ansible has', 'first had ').replace('ours has   ', 'second has')}`));
      if (c.controller) idempotence.push(...compareLines('second run controller', localO, await snapshotLocal(ctlO)));
    }
    return { name: c.name, title: c.title, ansible, ours, second, agreements, allowed, unexplained, idempotence, details, ms: Date.now() - t0 };
  } finally {
    await Promise.all([ca.stop(), co.stop()]);
  }
}

// ───────────────────────────────────────────── shared resources ─────────────────────────────────────────────

/** An HTTP service on the controller's loopback for uri / wait_for (test hosts share the loopback network). */
function startHttp(): Promise<Server> {
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const url = req.url ?? '/';
      if (url === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'ok', replicas: 3, tags: ['a', 'b'] }));
      } else if (url === '/text') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('hello from the compat server\n');
      } else if (url === '/echo' && req.method === 'POST') {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, got: body ? (JSON.parse(body) as unknown) : null }));
      } else if (url === '/missing') {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not here\n');
      } else {
        res.writeHead(400);
        res.end();
      }
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

/** A tiny Debian package and a flat apt repository (file: URI) for the package case. */
function buildAptRepo(work: string): Record<string, Buffer> {
  const root = join(work, 'deb', 'compat-hello');
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(join(root, 'usr', 'share', 'compat-hello'), { recursive: true });
  writeFileSync(
    join(root, 'DEBIAN', 'control'),
    'Package: compat-hello\nVersion: 1.0-1\nArchitecture: all\nMaintainer: burrow tests <tests@invalid>\nDescription: compat suite test package\n',
  );
  writeFileSync(join(root, 'usr', 'share', 'compat-hello', 'README'), 'compat-hello 1.0\n');
  const repo = join(work, 'repo');
  mkdirSync(repo, { recursive: true });
  const deb = join(repo, 'compat-hello_1.0-1_all.deb');
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, deb], { stdio: 'ignore' });
  const packages = execFileSync('dpkg-scanpackages', ['--multiversion', '.', '/dev/null'], { cwd: repo, stdio: ['ignore', 'pipe', 'ignore'] });
  return {
    '/srv/compat-repo/compat-hello_1.0-1_all.deb': readFileSync(deb),
    '/srv/compat-repo/Packages': packages,
  };
}

/** A gzip'd tarball on the controller for unarchive (fixed owners and times: the same bytes every time). */
function buildArchive(work: string): string {
  const src = join(work, 'bundle');
  mkdirSync(join(src, 'conf'), { recursive: true });
  writeFileSync(join(src, 'conf', 'app.ini'), '[app]\nname = bundle\n');
  writeFileSync(join(src, 'run.sh'), '#!/bin/sh\necho bundle\n');
  chmodSync(join(src, 'run.sh'), 0o755);
  const out = join(work, 'bundle.tar.gz');
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@1700000000', '-czf', out, '-C', work, 'bundle']);
  return out;
}

/** What every case shares: a work directory, the HTTP service, the archive and the apt repository. */
export async function setupShared(): Promise<Shared> {
  const work = mkdtempSync(join(tmpdir(), 'compat-'));
  writeFileSync(join(work, 'no-ansible.cfg'), '[defaults]\n');
  const server = await startHttp();
  const port = (server.address() as AddressInfo).port;
  return {
    work,
    extra: { compat_http: `http://127.0.0.1:${port}`, compat_http_port: port, compat_archive: buildArchive(work) },
    hostFiles: buildAptRepo(work),
    close: () => {
      server.close();
      if (!process.env.COMPAT_KEEP) rmSync(work, { recursive: true, force: true });
    },
  };
}
