/**
 * Real-SSH test hosts: N isolated OpenSSH servers on this machine, for integration tests and benchmarks.
 *
 * Each host is a set of Linux namespaces (mount, UTS, IPC, PID; plus network in `netns` mode) whose root is an
 * overlayfs over the machine's `/` with a private upper layer, chrooted, running its own `sshd -D`:
 *
 *   node ── setpriv --pdeathsig KILL unshare … --kill-child ── /bin/sh (pid 1 of the host: reaps orphans)
 *                                                               └─ /usr/sbin/sshd -D   (the host's sshd)
 *
 * The overlay and the host's /proc, /sys, /dev/pts, /dev/shm are mounted *inside* the host's mount namespace, so
 * they vanish with the host's last process: killing pid 1 of a host (the kernel then kills the rest of its PID
 * namespace) is the whole teardown, and it also happens when the harness process dies (pdeathsig chain). The
 * upper layers live on one tmpfs per run (`<baseDir>/run-<id>`), the only mount in the machine's namespace.
 * A run registers itself in `<baseDir>/state/<id>.json`; `cleanupStale()` (also run by every `startHosts`)
 * removes what a crashed run left behind: processes carrying its marker, its tmpfs, links, directories.
 *
 * Modes:
 *  - `loopback` (default): hosts share the machine's network namespace; host i of slot s listens on
 *    127.(77+s).(i/250).(i%250+1):22. Nothing is configured on `lo` (the whole 127/8 is local on Linux).
 *  - `netns`: each host has its own network namespace: eth0 = veth to the run's bridge `rtb<s>`
 *    (198.18.(16s).1/20 in the machine's namespace), eth1..eth4 = dummy interfaces (ifb where the kernel has
 *    no dummy driver, as on this machine) with svc/overlay/storage addresses in 198.19.0.0/16 and eth2
 *    (provider) up without IPv4; default route via the bridge. Per-host layouts can be overridden.
 * A "slot" (0..15) is allocated per run under a lock so that concurrent runs (vitest runs 2 files at once) never
 * share addresses or link names.
 *
 * Users inside every host (in the host's private /etc, never on the machine): `root` (key only), `tester`
 * (password + keys, `sudo` with password) and `nopass` (keys, `sudo` NOPASSWD). All three accept the four
 * client keys of the run (ed25519, rsa, ecdsa, passphrase-protected ed25519).
 *
 * Requires root, util-linux (unshare, nsenter, setpriv, flock), iproute2, openssh-server, sudo, openssl, sshpass
 * (see scripts/install-test-deps.sh). Written by hand: no library manages namespaced sshd fleets.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { writeFileAtomic } from '../../src/core/fsutil.js';

// ───────────────────────────────────────────── public types ─────────────────────────────────────────────

export type HostMode = 'loopback' | 'netns';
export type HostUser = 'root' | 'tester' | 'nopass';
export type ClientKeyType = 'ed25519' | 'rsa' | 'ecdsa' | 'ed25519Encrypted';

export interface ExecResult {
  /** exit code; 128+signal number when killed by a signal */
  rc: number;
  stdout: string;
  stderr: string;
  signal?: NodeJS.Signals;
  timedOut?: boolean;
}

export interface ClientKey {
  type: ClientKeyType;
  /** private key file (OpenSSH format, mode 0600) */
  path: string;
  pubPath: string;
  /** the `.pub` line: `ssh-ed25519 AAAA… comment` */
  publicKey: string;
  /** only for `ed25519Encrypted` */
  passphrase?: string;
}

/** One interface of a netns-mode host, as requested. */
export interface InterfaceSpec {
  /** name inside the host (≤ 15 chars), e.g. `eth0` */
  name: string;
  /** `uplink`: veth to the run's bridge (exactly one per host; ssh goes there). `dummy`: isolated device. */
  kind: 'uplink' | 'dummy';
  /** free-form label reported back, e.g. `mgmt`, `svc`, `provider`, `overlay`, `storage` */
  role?: string;
  /** CIDRs. IPv4 must lie in 198.18.0.0/15, IPv6 in fd00::/8. The uplink's first IPv4 must be in the bridge subnet. */
  addresses?: string[];
  /** uplink only: default route via this address (default: the bridge address) ; `null` = no default route */
  gateway?: string | null;
  mtu?: number;
  /** default: a deterministic locally administered MAC */
  mac?: string;
}

/** One interface of a running host, as configured. */
export interface HostInterface {
  name: string;
  /** what the kernel has: `veth` (uplink), `dummy`, or `ifb` (used as dummy when no dummy driver exists) */
  kind: 'veth' | 'dummy' | 'ifb';
  role?: string;
  mac: string;
  mtu?: number;
  /** CIDRs, e.g. `198.18.0.2/20` */
  addresses: string[];
  /** first IPv4 address without prefix, if any */
  ipv4?: string;
  prefixLength?: number;
  gateway?: string;
  /** uplink only: name of the veth end in the machine's namespace (attached to the bridge) */
  hostSide?: string;
}

export interface HostOverrides {
  memoryMiB?: number;
  cpus?: number;
  /** netns mode only: the full interface layout of this host (replaces the default eth0..eth4) */
  interfaces?: InterfaceSpec[];
}

export interface StartHostsOptions {
  /** number of hosts (ignored when `names` is given) */
  count?: number;
  /** explicit host names (also used as inventory names and hostnames) */
  names?: string[];
  /** names are `${namePrefix}${i+1}` when `names` is absent; default `h` */
  namePrefix?: string;
  mode?: HostMode;
  /** sshd port inside every host; default 22 */
  port?: number;
  /** password of `tester` (sshd login and sudo); default `Tester-Pass-1` */
  password?: string;
  /** fake /proc/meminfo MemTotal for every host (facts); per-host via `perHost` */
  memoryMiB?: number;
  /** fake /proc/cpuinfo processor count for every host (facts; `nproc` still shows the machine) */
  cpus?: number;
  /** per-host overrides; `defaults` is the interface layout the host would get (netns mode) */
  perHost?: (ctx: { index: number; name: string; defaults: InterfaceSpec[] }) => HostOverrides | undefined;
  /** hosts started concurrently; default 50 */
  batchSize?: number;
  /** bound for the whole start; default 30 s + 300 ms per host (the machine is shared: 200 hosts took 4-44 s) */
  readyTimeoutMs?: number;
  /** sshd_config lines put first in every host's config, so they override the harness's settings (sshd keeps
   *  the first value of an option); no `Match` here: use sshdConfigTail */
  sshdConfigExtra?: string[];
  /** sshd_config lines appended at the end (`Match` blocks) */
  sshdConfigTail?: string[];
  /** default /tmp/burrow-testhosts */
  baseDir?: string;
  /** size limit of the run's tmpfs (all upper layers); default 4096 */
  tmpfsSizeMiB?: number;
  /** copy every host's sshd log to `<dir>/<name>.sshd.log` on stop (debugging) */
  keepLogsDir?: string;
  /** progress lines (default: silent) */
  log?: (line: string) => void;
}

export interface InventoryOptions {
  /** default `root` */
  user?: HostUser;
  /** default `password` for tester, `key` otherwise */
  auth?: 'key' | 'password';
  /** default `ed25519` */
  key?: ClientKeyType;
  /** adds ansible_become=true (+ the become password for tester) */
  become?: boolean;
  /** `strict` (default): the run's known_hosts + StrictHostKeyChecking=yes; `off`: no checking */
  hostKeyChecking?: 'strict' | 'off';
  /** only these hosts (names); default all */
  hosts?: string[];
  /** extra groups: name → host names */
  groups?: Record<string, string[]>;
  /** extra [all:vars] */
  vars?: Record<string, string | number | boolean>;
  /** extra per-host vars */
  hostVars?: (h: TestHost) => Record<string, string | number | boolean> | undefined;
  /** default /usr/bin/python3 */
  python?: string;
}

export interface SshOptions {
  /** default `root` */
  user?: HostUser;
  /** default `password` for tester, `key` otherwise */
  auth?: 'key' | 'password';
  /** default `ed25519` */
  key?: ClientKeyType;
  /** override the password / passphrase sent */
  password?: string;
  /** request a tty (`-tt`) */
  tty?: boolean;
  /** default 10 */
  connectTimeoutSec?: number;
  /** default: the run's known_hosts */
  knownHostsFile?: string;
  /** more ssh arguments; they come first, so `-o X=…` here overrides the harness's own value of X */
  extraArgs?: string[];
}

export interface LoginEvent {
  user: string;
  method: string;
  from: string;
  port: number;
}

export interface Leftovers {
  /** pids still carrying the run's marker or living in one of its PID namespaces */
  processes: number[];
  /** mount points (machine namespace) under the run directory */
  mounts: string[];
  /** network links of the run (bridge, host-side veths) */
  links: string[];
  /** files or directories of the run */
  paths: string[];
}

export interface StaleReport {
  runs: string[];
  processes: number;
  mounts: number;
  links: number;
}

// ───────────────────────────────────────────── constants ─────────────────────────────────────────────

export const DEFAULT_BASE_DIR = '/tmp/burrow-testhosts';
const DEFAULT_PASSWORD = 'Tester-Pass-1';
const KEY_PASSPHRASE = 'key-passphrase-1';
const MAX_SLOTS = 16;
const HOSTS_PER_SLOT = 4000; // 16 /24s of 250 hosts in the slot's 198.18.x.0/20
const PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const CHILD_ENV = { PATH: PATH_ENV, LANG: 'C.UTF-8', HOME: '/root' };
/** inside every host */
const HOST_KEY = '/etc/ssh/ssh_host_ed25519_key';

const procMarker = (id: string, name: string): string => `burrow-testhost:${id}:${name}`;
const sshdLogName = (id: string): string => `/var/log/testhost-sshd.${id}.log`;
const MARKER_RE = /burrow-testhost:([0-9a-f]{8}):|testhost-sshd\.([0-9a-f]{8})\.log/;
const VETH_RE = /^rtbv(\d+)x\d+$/;

/**
 * pid 1 of every host, run by `unshare` in the new namespaces but still in the machine's root, with
 * $0 = marker and $1.. = upper work merged hostname net netcmds meminfo cpuinfo hide sshdlog.
 * It prints `ready <pid outside>` once the root is mounted, waits for `go` (netns mode: the harness moves the
 * uplink veth in meanwhile), configures the network, then chroots into the host and becomes its init: dash's
 * `wait` blocks on the sshd job and reaps every child (orphans reparented to pid 1 included); once that sshd
 * is gone (stopSshd; a restarted sshd is an orphan, not a job) it polls with `sleep 1`.
 */
const HOST_SCRIPT = `set -eu
U=$1; W=$2; M=$3; HN=$4; NET=$5; NETCMDS=$6; MEMINFO=$7; CPUINFO=$8; HIDE=$9; SSHDLOG=\${10}
read -r outer _rest < /proc/self/stat
mount -t overlay testhost -o "lowerdir=/,upperdir=$U,workdir=$W" "$M"
mount -t proc -o nosuid,nodev,noexec proc "$M/proc"
if [ -n "$MEMINFO" ]; then mount --bind "$MEMINFO" "$M/proc/meminfo"; fi
if [ -n "$CPUINFO" ]; then mount --bind "$CPUINFO" "$M/proc/cpuinfo"; fi
mount --rbind /dev "$M/dev"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$M/dev/pts"
mount -t tmpfs -o nosuid,nodev,size=64m,mode=1777 shm "$M/dev/shm"
if [ -n "$HIDE" ]; then (cd "$M" && rm -f -- $HIDE); fi
printf '%s\\n' "$HN" > /proc/sys/kernel/hostname
echo "ready $outer"
if [ "$NET" = 1 ]; then
  read -r go
  [ "$go" = go ]
  printf '%s\\n' "$NETCMDS" | ip -batch -
fi
mount -t sysfs -o nosuid,nodev,noexec sysfs "$M/sys"
exec </dev/null
exec chroot "$M" /bin/sh -c '/usr/sbin/sshd -D -E "$1" </dev/null >/dev/null 2>&1 &
exec >/dev/null 2>&1
while :; do wait; sleep 1; done' "$0" "$SSHDLOG"
`;

// ───────────────────────────────────────────── small helpers ─────────────────────────────────────────────

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wait for p, at most ms; the timer is cleared either way (it must neither linger nor be unref'd: the host
 *  processes are unref'd, so this timer is what keeps node alive while we wait for them). */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function pidAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return statField(stat, 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Field n (1-based, as in proc(5)) of a /proc/<pid>/stat line; fields 1-2 (pid, comm) are not supported. */
function statField(stat: string, n: number): string | undefined {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[n - 3];
}

function processStartTime(pid: number): string | undefined {
  try {
    return statField(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'), 22);
  } catch {
    return undefined;
  }
}

function tryKill(pid: number | undefined, sig: NodeJS.Signals): boolean {
  if (!pid || pid <= 1) return false;
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

function listPids(): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    const n = Number(e);
    if (Number.isInteger(n) && n > 0) out.push(n);
  }
  return out;
}

function readLinkOr(path: string): string | undefined {
  try {
    return fs.readlinkSync(path);
  } catch {
    return undefined;
  }
}

function readOr(path: string, fallback = ''): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

function tail(text: string, lines = 15): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** Run a program (no shell), collect output; bounded by timeoutMs (then SIGKILL). */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? CHILD_ENV });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.on('error', () => {}); // a program that does not read its input
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ rc: 127, stdout: '', stderr: `${cmd}: ${e.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const res: ExecResult = {
        rc: code ?? 128 + (signal ? (osSignals[signal] ?? 0) : 0),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (signal) res.signal = signal;
      if (timedOut) res.timedOut = true;
      resolve(res);
    });
    child.stdin.end(opts.input ?? '');
  });
}
const osSignals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGPIPE: 13, SIGABRT: 6 };

function runSync(cmd: string, args: string[], input?: string): { rc: number; out: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', env: CHILD_ENV, timeout: 30_000 });
  return { rc: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

async function mustRun(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await run(cmd, args, { input });
  if (r.rc !== 0) throw new Error(`testhosts: \`${cmd} ${args.join(' ')}\` failed (rc ${r.rc}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

function fingerprintOf(publicKeyLine: string): string {
  const blob = Buffer.from(publicKeyLine.trim().split(/\s+/)[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function iniQuote(v: string | number | boolean): string {
  const s = String(v);
  return /^[A-Za-z0-9_./:@%+,=-]+$/.test(s) ? s : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `/proc/net/tcp` form of an IPv4 address (host byte order on little-endian) */
function procHex(ip: string): string {
  return ip
    .split('.')
    .reverse()
    .map((b) => Number(b).toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
}

/** Set of "ADDR:PORT" (hex, as in /proc/net/tcp) in LISTEN state. */
function listeningSockets(procNetTcp: string): Set<string> {
  const set = new Set<string>();
  const lines = readOr(procNetTcp).split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f[3] === '0A' && f[1]) set.add(f[1]);
  }
  return set;
}

function macFor(slot: number, ifIndex: number, host: number): string {
  const b = [0x02, 0x62, slot & 0xff, ifIndex & 0xff, (host >> 8) & 0xff, host & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function checkAddress(cidr: string, where: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(cidr);
  } catch {
    throw new Error(`testhosts: ${where}: "${cidr}" is not an address/prefix (CIDR)`);
  }
  const [addr] = parsed;
  const ok =
    addr.kind() === 'ipv4' ? addr.match(ipaddr.parseCIDR('198.18.0.0/15')) : addr.match(ipaddr.parseCIDR('fd00::/8'));
  if (!ok) throw new Error(`testhosts: ${where}: ${cidr} is outside 198.18.0.0/15 (IPv4) / fd00::/8 (IPv6)`);
  return parsed;
}

// ───────────────────────────────────────────── run registry, lock, stale cleanup ─────────────────────────────

interface RunState {
  id: string;
  pid: number;
  startTime: string;
  slot: number;
  mode: HostMode;
  runDir: string;
  bridge?: string;
  createdAt: string;
}

function stateDir(base: string): string {
  return join(base, 'state');
}

function readStates(base: string): RunState[] {
  const dir = stateDir(base);
  const out: RunState[] = [];
  let files: string[] = [];
  try {
    files = fs.readdirSync(dir);
  } catch {
    return out;
  }
  for (const f of files) {
    if (!f.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(fs.readFileSync(join(dir, f), 'utf8')) as RunState);
    } catch {
      // half-written by a crashed run: treated as stale through its missing owner below
      const id = f.slice(0, -5);
      out.push({ id, pid: 0, startTime: '', slot: -1, mode: 'loopback', runDir: join(base, `run-${id}`), createdAt: '' });
    }
  }
  return out;
}

function ownerAlive(s: RunState): boolean {
  return s.pid > 0 && processStartTime(s.pid) === s.startTime;
}

/** Serialise slot allocation and stale cleanup between processes with flock(1); released if we die. */
async function withLock<T>(base: string, fn: () => Promise<T> | T): Promise<T> {
  fs.mkdirSync(base, { recursive: true, mode: 0o755 });
  const lockPath = join(base, 'lock');
  fs.closeSync(fs.openSync(lockPath, 'a'));
  const child = spawn('flock', ['-w', '60', lockPath, '-c', 'echo locked; read _x'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: CHILD_ENV,
  });
  child.stdin.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    let errBuf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('locked')) resolve();
    });
    child.stderr.on('data', (d: Buffer) => (errBuf += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`testhosts: could not lock ${lockPath} (flock rc ${code}): ${errBuf.trim()}`)));
  });
  try {
    return await fn();
  } finally {
    child.stdin.end();
  }
}

/**
 * Processes carrying a run marker (unshare launchers and host inits; host sshd listeners), by run id.
 * With `base`, only launchers/inits of runs under that base directory (their arguments hold its path).
 */
function markedProcesses(base?: string): Array<{ pid: number; id: string }> {
  const out: Array<{ pid: number; id: string }> = [];
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    const cmd = readOr(`/proc/${pid}/cmdline`);
    const m = MARKER_RE.exec(cmd);
    if (!m) continue;
    const id = (m[1] ?? m[2])!;
    if (base && !cmd.includes(`${base}/run-${id}/`)) continue;
    out.push({ pid, id });
  }
  return out;
}

function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of readOr('/proc/mounts').split('\n')) {
    const mp = line.split(' ')[1];
    if (!mp) continue;
    const p = mp.replace(/\\040/g, ' ');
    if (p === dir || p.startsWith(dir + '/')) out.push(p);
  }
  return out.sort((a, b) => b.length - a.length);
}

function linkNames(): string[] {
  try {
    return fs.readdirSync('/sys/class/net');
  } catch {
    return [];
  }
}

async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter(pidAlive);
  while (left.length && Date.now() < deadline) {
    await sleep(50);
    left = left.filter(pidAlive);
  }
  return left;
}

async function cleanupStaleLocked(base: string, log: (s: string) => void): Promise<StaleReport> {
  const report: StaleReport = { runs: [], processes: 0, mounts: 0, links: 0 };
  const states = readStates(base);
  const live = new Set(states.filter(ownerAlive).map((s) => s.id));
  const liveSlots = new Set(states.filter((s) => live.has(s.id)).map((s) => s.slot));
  const stale = states.filter((s) => !live.has(s.id));

  // 1. processes of dead runs (killing a host's pid 1 ends its PID namespace, mounts and netns)
  // (killing a host's pid 1 is enough: the kernel then kills the rest of its PID namespace)
  const victims = markedProcesses(base).filter((p) => !live.has(p.id));
  for (const v of victims) tryKill(v.pid, 'SIGKILL');
  report.processes = victims.length;
  const survivors = await waitGone(
    victims.map((v) => v.pid),
    10_000,
  );
  if (survivors.length) log(`testhosts: stale processes did not die: ${survivors.join(' ')}`);

  // 2. links: bridges recorded by dead runs, host-side veths of slots no live run holds
  const links = linkNames();
  const doomed = new Set<string>();
  for (const s of stale) if (s.bridge && links.includes(s.bridge) && !liveSlots.has(s.slot)) doomed.add(s.bridge);
  for (const l of links) {
    const m = VETH_RE.exec(l);
    if (m && !liveSlots.has(Number(m[1]))) doomed.add(l);
  }
  for (const l of doomed) if (runSync('ip', ['link', 'del', l]).rc === 0) report.links++;

  // 3. run directories (tmpfs mounts) of dead runs, including ones without a state file
  const dirs = new Set(stale.map((s) => s.runDir));
  try {
    for (const e of fs.readdirSync(base)) {
      const m = /^run-([0-9a-f]{8})$/.exec(e);
      if (m && !live.has(m[1]!)) dirs.add(join(base, e));
    }
  } catch {
    /* no base yet */
  }
  for (const d of dirs) {
    for (const mp of mountsUnder(d)) {
      if (runSync('umount', [mp]).rc !== 0) runSync('umount', ['-l', mp]);
      report.mounts++;
    }
    fs.rmSync(d, { recursive: true, force: true });
  }
  for (const s of stale) {
    fs.rmSync(join(stateDir(base), `${s.id}.json`), { force: true });
    report.runs.push(s.id);
  }
  if (report.runs.length || report.processes || report.mounts || report.links) {
    log(`testhosts: cleaned stale runs [${report.runs.join(', ')}]: ${report.processes} processes, ${report.mounts} mounts, ${report.links} links`);
  }
  return report;
}

/**
 * Remove everything left by earlier runs whose owning process is gone (crash, SIGKILL, timeout): their host
 * processes, tmpfs mounts, bridges/veths, directories and state files. Safe while other runs are live.
 */
export async function cleanupStale(opts: { baseDir?: string; log?: (line: string) => void } = {}): Promise<StaleReport> {
  const base = opts.baseDir ?? DEFAULT_BASE_DIR;
  return withLock(base, () => cleanupStaleLocked(base, opts.log ?? (() => {})));
}

// ───────────────────────────────────────────── exit / signal cleanup ─────────────────────────────────────

const liveClusters = new Set<TestCluster>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const c of liveClusters) c.killSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      for (const c of liveClusters) c.killSync();
      if (process.listenerCount(sig) === 1) {
        // nobody else handles it: die of the signal as if we had not been here
        process.removeListener(sig, handler);
        process.kill(process.pid, sig);
      }
    };
    // first in line, so that `once` listeners of the application are still counted above
    process.prependListener(sig, handler);
  }
}

// ───────────────────────────────────────────── per-run machine facts ─────────────────────────────────────

interface Accounts {
  testerUid: number;
  nopassUid: number;
  passwd: string;
  group: string;
  shadow: string;
  gshadow: string;
}

function freeIds(count: number): number[] {
  const used = new Set<number>();
  for (const f of ['/etc/passwd', '/etc/group']) {
    for (const line of readOr(f).split('\n')) {
      const id = Number(line.split(':')[2]);
      if (Number.isInteger(id)) used.add(id);
    }
  }
  const out: number[] = [];
  for (let id = 2901; out.length < count && id < 60000; id++) if (!used.has(id)) out.push(id);
  return out;
}

async function makeAccounts(password: string): Promise<Accounts> {
  const [testerUid, nopassUid] = freeIds(2) as [number, number];
  const salt = randomBytes(12).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 16);
  const hash = (await mustRun('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], password)).trim();
  const ours = new Set(['tester', 'nopass']);
  const keep = (text: string): string[] => text.split('\n').filter((l) => l && !ours.has(l.split(':')[0]!));
  const days = Math.floor(Date.now() / 86_400_000);
  const shadow = keep(readOr('/etc/shadow')).map((l) => {
    const f = l.split(':');
    if (f[0] === 'root') f[1] = '*'; // no password, not locked: sshd (UsePAM no) refuses locked accounts
    return f.join(':');
  });
  return {
    testerUid,
    nopassUid,
    passwd: [
      ...keep(readOr('/etc/passwd')),
      `tester:x:${testerUid}:${testerUid}:Test user (password):/home/tester:/bin/bash`,
      `nopass:x:${nopassUid}:${nopassUid}:Test user (sudo nopasswd):/home/nopass:/bin/bash`,
    ].join('\n') + '\n',
    group: [...keep(readOr('/etc/group')), `tester:x:${testerUid}:`, `nopass:x:${nopassUid}:`].join('\n') + '\n',
    shadow: [...shadow, `tester:${hash}:${days}:0:99999:7:::`, `nopass:*:${days}:0:99999:7:::`].join('\n') + '\n',
    gshadow: [...keep(readOr('/etc/gshadow')), 'tester:!::', 'nopass:!::'].join('\n') + '\n',
  };
}

/**
 * An ed25519 key pair in OpenSSH's own formats (PROTOCOL.key, unencrypted), from node's crypto. Written by hand
 * because ssh2 1.17's generator drops a leading zero byte of the key (about 1 key in 256: OpenSSH then refuses
 * it) and spawning ssh-keygen for hundreds of host keys is slow.
 */
export function ed25519KeyPair(comment: string): { private: string; public: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const str = (x: Buffer | string): Buffer => {
    const b = typeof x === 'string' ? Buffer.from(x) : x;
    return Buffer.concat([u32(b.length), b]);
  };
  const pubBlob = Buffer.concat([str('ssh-ed25519'), str(pub)]);
  const check = randomBytes(4);
  let secret = Buffer.concat([check, check, str('ssh-ed25519'), str(pub), str(Buffer.concat([seed, pub])), str(comment)]);
  const pad: number[] = [];
  for (let i = 1; (secret.length + pad.length) % 8 !== 0; i++) pad.push(i);
  secret = Buffer.concat([secret, Buffer.from(pad)]);
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0'), str('none'), str('none'), str(''), u32(1), str(pubBlob), str(secret)]);
  const b64 = body.toString('base64').replace(/.{70}/g, '$&\n');
  return {
    private: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64.replace(/\n$/, '')}\n-----END OPENSSH PRIVATE KEY-----\n`,
    public: `ssh-ed25519 ${pubBlob.toString('base64')} ${comment}`,
  };
}

/** The client keys of a run, made by the real ssh-keygen (the passphrase is a fixed test value, not a secret). */
async function makeClientKeys(dir: string, id: string): Promise<Record<ClientKeyType, ClientKey>> {
  fs.mkdirSync(dir, { mode: 0o700 });
  const gen = async (type: ClientKeyType, file: string, args: string[], passphrase = ''): Promise<ClientKey> => {
    const path = join(dir, file);
    await mustRun('ssh-keygen', ['-q', ...args, '-N', passphrase, '-C', `testhosts-${id}-${type}`, '-f', path]);
    const key: ClientKey = { type, path, pubPath: `${path}.pub`, publicKey: fs.readFileSync(`${path}.pub`, 'utf8').trim() };
    if (passphrase) key.passphrase = passphrase;
    return key;
  };
  const [ed25519, rsa, ecdsa, ed25519Encrypted] = await Promise.all([
    gen('ed25519', 'id_ed25519', ['-t', 'ed25519']),
    gen('rsa', 'id_rsa', ['-t', 'rsa', '-b', '3072']),
    gen('ecdsa', 'id_ecdsa', ['-t', 'ecdsa', '-b', '256']),
    gen('ed25519Encrypted', 'id_ed25519_encrypted', ['-t', 'ed25519'], KEY_PASSPHRASE),
  ]);
  return { ed25519, rsa, ecdsa, ed25519Encrypted };
}

let dummyKindCache: 'dummy' | 'ifb' | undefined;
function dummyKind(): 'dummy' | 'ifb' {
  if (dummyKindCache) return dummyKindCache;
  const probe = `rtbprobe${process.pid % 100000}`;
  if (runSync('ip', ['link', 'add', probe, 'type', 'dummy']).rc === 0) {
    runSync('ip', ['link', 'del', probe]);
    dummyKindCache = 'dummy';
  } else {
    dummyKindCache = 'ifb';
  }
  return dummyKindCache;
}

function fakeMeminfo(mib: number): string {
  const kb = mib * 1024;
  const set: Record<string, number> = {
    MemTotal: kb,
    MemFree: Math.floor(kb * 0.8),
    MemAvailable: Math.floor(kb * 0.85),
    Buffers: Math.floor(kb * 0.01),
    Cached: Math.floor(kb * 0.05),
  };
  return (
    readOr('/proc/meminfo')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const k = l.split(':')[0]!;
        return k in set ? `${`${k}:`.padEnd(16)}${String(set[k]).padStart(8)} kB` : l;
      })
      .join('\n') + '\n'
  );
}

function fakeCpuinfo(cpus: number): string {
  const first = readOr('/proc/cpuinfo').split(/\n\n/)[0] ?? 'processor\t: 0';
  const blocks: string[] = [];
  for (let i = 0; i < cpus; i++) {
    blocks.push(
      first
        .replace(/^processor\s*:.*$/m, `processor\t: ${i}`)
        .replace(/^physical id\s*:.*$/m, 'physical id\t: 0')
        .replace(/^siblings\s*:.*$/m, `siblings\t: ${cpus}`)
        .replace(/^core id\s*:.*$/m, `core id\t\t: ${i}`)
        .replace(/^cpu cores\s*:.*$/m, `cpu cores\t: ${cpus}`)
        .replace(/^apicid\s*:.*$/m, `apicid\t\t: ${i}`)
        .replace(/^initial apicid\s*:.*$/m, `initial apicid\t: ${i}`),
    );
  }
  return blocks.join('\n\n') + '\n\n';
}

// ───────────────────────────────────────────── TestHost ─────────────────────────────────────────────

export class TestHost {
  readonly cluster: TestCluster;
  readonly index: number;
  readonly name: string;
  readonly mode: HostMode;
  /** where ssh connects: 127.x.y.z (loopback) or eth0's IPv4 (netns) */
  readonly address: string;
  readonly port: number;
  /** the private upper layer (machine path): everything this host changed */
  readonly upperDir: string;
  /** machine path of this host's sshd log (lives in the upper layer; removed by stop()) */
  readonly logFile: string;
  /** netns mode: the interfaces as configured; loopback mode: undefined (the machine's are shared) */
  readonly interfaces?: HostInterface[];
  memoryMiB?: number;
  readonly cpus?: number;
  /** pid (machine namespace) of the host's init = pid 1 inside; valid once started */
  initPid = 0;
  /** namespace ids (`readlink /proc/<pid>/ns/*`), e.g. `pid:[4026532301]` */
  namespaces: { pid: string; mnt: string; uts: string; net: string } = { pid: '', mnt: '', uts: '', net: '' };
  /** `ssh-ed25519 AAAA…` (no comment) of the current host key */
  hostPublicKey: string;
  /** `SHA256:…` of the current host key */
  hostKeyFingerprint: string;

  /** @internal */ child?: ChildProcess;
  /** @internal */ exited?: Promise<void>;
  /** @internal */ hostKeyPrivate: string;
  /** @internal */ listenHex: string;
  /** @internal */ innerCmds = '';
  /** @internal last stderr of the launcher (mount/ip errors) */ launchErr = '';
  private frozen: number[] = [];

  /** @internal — use startHosts() */
  constructor(init: {
    cluster: TestCluster;
    index: number;
    name: string;
    address: string;
    port: number;
    upperDir: string;
    logFile: string;
    interfaces?: HostInterface[];
    innerCmds?: string;
    memoryMiB?: number;
    cpus?: number;
  }) {
    this.cluster = init.cluster;
    this.index = init.index;
    this.name = init.name;
    this.mode = init.cluster.mode;
    this.address = init.address;
    this.port = init.port;
    this.upperDir = init.upperDir;
    this.logFile = init.logFile;
    if (init.interfaces) this.interfaces = init.interfaces;
    if (init.innerCmds) this.innerCmds = init.innerCmds;
    if (init.memoryMiB !== undefined) this.memoryMiB = init.memoryMiB;
    if (init.cpus !== undefined) this.cpus = init.cpus;
    const kp = ed25519KeyPair(`root@${init.name}`);
    this.hostKeyPrivate = kp.private;
    this.hostPublicKey = kp.public.trim().split(/\s+/).slice(0, 2).join(' ');
    this.hostKeyFingerprint = fingerprintOf(this.hostPublicKey);
    const listenIp = this.mode === 'netns' ? '0.0.0.0' : this.address;
    this.listenHex = `${procHex(listenIp)}:${this.port.toString(16).toUpperCase().padStart(4, '0')}`;
  }

  /**
   * Machine path of the host's merged root: its init's root link, valid while the host runs. Absolute symlinks
   * inside the host resolve against the machine's root through it: use exec() for those.
   */
  get rootDir(): string {
    return `/proc/${this.initPid}/root`;
  }

  /** pid of the host's `unshare` launcher (machine namespace; counts for memory, not a host process) */
  get launcherPid(): number | undefined {
    return this.child?.pid;
  }

  /** Machine path of a path inside the host. */
  path(p: string): string {
    return join(this.rootDir, p);
  }

  /**
   * Change the memory the host reports (its fake /proc/meminfo; only for hosts started with `memoryMiB`).
   * The file is rewritten in place, so the bind mount inside the host sees the new content at once.
   */
  setMemory(mib: number): void {
    const f = join(this.cluster.runDir, 'hosts', this.name, 'meminfo');
    if (this.memoryMiB === undefined || !fs.existsSync(f)) throw new Error(`${this.name} was not started with memoryMiB`);
    fs.chmodSync(f, 0o644);
    fs.writeFileSync(f, fakeMeminfo(mib));
    fs.chmodSync(f, 0o444);
    this.memoryMiB = mib;
  }

  readFile(p: string): string {
    return fs.readFileSync(this.path(p), 'utf8');
  }

  writeFile(p: string, data: string | Uint8Array, mode = 0o644): void {
    fs.writeFileSync(this.path(p), data, { mode });
    fs.chmodSync(this.path(p), mode);
  }

  /** pid (machine namespace) of the current sshd listener, or undefined when it is not running. */
  get sshdPid(): number | undefined {
    for (const pid of this.childPids()) {
      if (readOr(`/proc/${pid}/comm`).trim() === 'sshd' && pidAlive(pid)) return pid;
    }
    return undefined;
  }

  private childPids(): number[] {
    if (!this.initPid) return [];
    return readOr(`/proc/${this.initPid}/task/${this.initPid}/children`)
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  }

  /** All processes of this host (machine pids), init included. */
  pids(): number[] {
    if (!this.namespaces.pid) return [];
    return listPids().filter((p) => readLinkOr(`/proc/${p}/ns/pid`) === this.namespaces.pid);
  }

  /** Is sshd listening (per the kernel's socket table of the host's network namespace)? */
  isListening(): boolean {
    const table = this.mode === 'netns' ? `/proc/${this.initPid}/net/tcp` : '/proc/net/tcp';
    return listeningSockets(table).has(this.listenHex);
  }

  /** Run a shell command inside the host (all its namespaces, its root) as root. */
  exec(command: string, opts: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ExecResult> {
    if (!this.initPid || !pidAlive(this.initPid)) {
      return Promise.resolve({ rc: 255, stdout: '', stderr: `testhosts: host ${this.name} is not running` });
    }
    const args = ['-t', String(this.initPid), '-m', '-u', '-i', '-n', '-p', '-r', '-w', '--', '/bin/sh', '-c', command];
    return run('nsenter', args, { input: opts.input, timeoutMs: opts.timeoutMs ?? 60_000, env: { ...CHILD_ENV, ...opts.env } });
  }

  /** Stop the sshd listener (SIGTERM). Open sessions survive unless killSessions. */
  async stopSshd(opts: { killSessions?: boolean } = {}): Promise<void> {
    const pid = this.sshdPid;
    if (pid) {
      tryKill(pid, 'SIGCONT');
      tryKill(pid, 'SIGTERM');
    }
    if (opts.killSessions) {
      for (const p of this.pids()) if (readOr(`/proc/${p}/comm`).trim() === 'sshd') tryKill(p, 'SIGKILL');
    }
    const deadline = Date.now() + 10_000;
    while ((this.isListening() || (pid && pidAlive(pid))) && Date.now() < deadline) await sleep(20);
    if (this.isListening()) throw new Error(`testhosts: ${this.name}: sshd still listening 10 s after SIGTERM`);
  }

  /** Start sshd again (after stopSshd) and wait until it listens. */
  async startSshd(timeoutMs = 10_000): Promise<void> {
    if (this.sshdPid) throw new Error(`testhosts: ${this.name}: sshd is already running (pid ${this.sshdPid})`);
    const log = sshdLogName(this.cluster.id);
    const r = await this.exec(`/usr/sbin/sshd -D -E ${log} </dev/null >/dev/null 2>&1 &`);
    if (r.rc !== 0) throw new Error(`testhosts: ${this.name}: starting sshd failed: ${r.stderr}`);
    const deadline = Date.now() + timeoutMs;
    while (!this.isListening()) {
      if (Date.now() > deadline) throw new Error(`testhosts: ${this.name}: sshd not listening after ${timeoutMs} ms\n${tail(this.readLog())}`);
      await sleep(20);
    }
  }

  async restartSshd(): Promise<void> {
    await this.stopSshd();
    await this.startSshd();
  }

  /**
   * SIGSTOP the sshd listener: new connections are accepted by the kernel but never answered (a hung host).
   * `all`: stop every process of the host except its init (open sessions hang too).
   */
  freeze(opts: { all?: boolean } = {}): void {
    const targets = opts.all ? this.pids().filter((p) => p !== this.initPid) : [this.sshdPid ?? 0].filter(Boolean);
    for (const p of targets) if (tryKill(p, 'SIGSTOP')) this.frozen.push(p);
  }

  /** SIGCONT what freeze() stopped. */
  thaw(): void {
    for (const p of this.frozen) tryKill(p, 'SIGCONT');
    this.frozen = [];
  }

  /**
   * Give the host a new ed25519 host key and restart sshd. hostPublicKey/hostKeyFingerprint change; the run's
   * known_hosts file is NOT updated unless updateKnownHosts (so clients see a changed key). Returns the new fingerprint.
   */
  async regenerateHostKey(opts: { updateKnownHosts?: boolean } = {}): Promise<string> {
    const kp = ed25519KeyPair(`root@${this.name}`);
    this.writeFile(HOST_KEY, kp.private, 0o600);
    this.writeFile(`${HOST_KEY}.pub`, kp.public.trim() + '\n', 0o644);
    this.hostKeyPrivate = kp.private;
    this.hostPublicKey = kp.public.trim().split(/\s+/).slice(0, 2).join(' ');
    this.hostKeyFingerprint = fingerprintOf(this.hostPublicKey);
    await this.restartSshd();
    if (opts.updateKnownHosts) this.cluster.writeKnownHosts();
    return this.hostKeyFingerprint;
  }

  readLog(): string {
    return readOr(this.logFile);
  }

  /** Successful logins recorded by sshd (LogLevel VERBOSE): `Accepted <method> for <user> from <ip> port <n>`. */
  logins(): LoginEvent[] {
    const out: LoginEvent[] = [];
    for (const m of this.readLog().matchAll(/Accepted (\S+) for (\S+) from (\S+) port (\d+)/g)) {
      out.push({ method: m[1]!, user: m[2]!, from: m[3]!, port: Number(m[4]) });
    }
    return out;
  }

  countLogins(user?: string, method?: string): number {
    return this.logins().filter((e) => (!user || e.user === user) && (!method || e.method === method)).length;
  }
}

// ───────────────────────────────────────────── TestCluster ─────────────────────────────────────────────

export class TestCluster {
  /** 8 hex chars; appears in every process marker of the run */
  readonly id: string;
  readonly mode: HostMode;
  readonly slot: number;
  readonly baseDir: string;
  /** the run's tmpfs (upper layers, keys, known_hosts, ssh_config) */
  readonly runDir: string;
  readonly hosts: TestHost[] = [];
  keys!: Record<ClientKeyType, ClientKey>;
  /** password of `tester` */
  readonly password: string;
  /** uids inside the hosts */
  users: Record<HostUser, { name: HostUser; uid: number; home: string }> = {
    root: { name: 'root', uid: 0, home: '/root' },
    tester: { name: 'tester', uid: 0, home: '/home/tester' },
    nopass: { name: 'nopass', uid: 0, home: '/home/nopass' },
  };
  /** OpenSSH known_hosts with every host's key (as of start or the last writeKnownHosts()) */
  readonly knownHostsFile: string;
  /** OpenSSH client config with a `Host <name>` block per host (root, ed25519 key): `ssh -F <file> h1` */
  readonly sshConfigFile: string;
  /** netns mode: the bridge in the machine's namespace */
  readonly bridge?: { name: string; address: string; cidr: string };
  /** milliseconds startHosts took */
  startupMs = 0;

  /** @internal */ stateFile: string;
  /** @internal */ keepLogsDir?: string;
  private stopping?: Promise<void>;
  private killed = false;

  /** @internal — use startHosts() */
  constructor(init: { id: string; mode: HostMode; slot: number; baseDir: string; password: string; keepLogsDir?: string }) {
    this.id = init.id;
    this.mode = init.mode;
    this.slot = init.slot;
    this.baseDir = init.baseDir;
    this.runDir = join(init.baseDir, `run-${init.id}`);
    this.password = init.password;
    this.knownHostsFile = join(this.runDir, 'known_hosts');
    this.sshConfigFile = join(this.runDir, 'ssh_config');
    this.stateFile = join(stateDir(init.baseDir), `${init.id}.json`);
    if (init.keepLogsDir) this.keepLogsDir = init.keepLogsDir;
    if (init.mode === 'netns') {
      const third = 16 * init.slot;
      this.bridge = { name: `rtb${init.slot}`, address: `198.18.${third}.1`, cidr: `198.18.${third}.1/20` };
    }
  }

  host(name: string): TestHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`testhosts: no host named ${name} (have ${this.hosts.map((x) => x.name).join(', ')})`);
    return h;
  }

  /** One known_hosts line for the host: `<address> ssh-ed25519 AAAA…` (`[address]:port` when port ≠ 22). */
  knownHostsLine(h: TestHost, opts: { withName?: boolean } = {}): string {
    const addr = h.port === 22 ? h.address : `[${h.address}]:${h.port}`;
    return `${opts.withName ? `${addr},${h.name}` : addr} ${h.hostPublicKey}`;
  }

  /** (Re)write known_hosts for all hosts with their current keys (default: the run's knownHostsFile). */
  writeKnownHosts(path = this.knownHostsFile): string {
    fs.writeFileSync(path, this.hosts.map((h) => this.knownHostsLine(h)).join('\n') + '\n', { mode: 0o644 });
    return path;
  }

  /** Arguments for the OpenSSH client (everything but the program and the remote command). */
  sshArgs(h: TestHost, opts: SshOptions = {}): string[] {
    const user = opts.user ?? 'root';
    const auth = opts.auth ?? (user === 'tester' ? 'password' : 'key');
    const key = this.keys[opts.key ?? 'ed25519'];
    // ssh keeps the first value of an option: extraArgs go first so they override what follows
    const a = ['-F', '/dev/null', ...(opts.extraArgs ?? []), '-p', String(h.port)];
    const o = (kv: string): void => {
      a.push('-o', kv);
    };
    o(`UserKnownHostsFile=${opts.knownHostsFile ?? this.knownHostsFile}`);
    o('GlobalKnownHostsFile=/dev/null');
    o('StrictHostKeyChecking=yes');
    o(`ConnectTimeout=${opts.connectTimeoutSec ?? 10}`);
    o('LogLevel=ERROR');
    if (auth === 'password') {
      o('PubkeyAuthentication=no');
      o('PreferredAuthentications=password');
      o('NumberOfPasswordPrompts=1');
    } else {
      o('PasswordAuthentication=no');
      o('KbdInteractiveAuthentication=no');
      o('IdentitiesOnly=yes');
      o('IdentityAgent=none');
      if (!key.passphrase) o('BatchMode=yes');
      a.push('-i', key.path);
    }
    if (opts.tty) a.push('-tt');
    else a.push('-T');
    a.push(`${user}@${h.address}`);
    return a;
  }

  /**
   * Run a command on a host with the real ssh client. Password logins (and the passphrase of the encrypted key)
   * go through `sshpass -e`, so the secret never appears in a command line.
   */
  ssh(h: TestHost, command: string, opts: SshOptions & { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    const user = opts.user ?? 'root';
    const auth = opts.auth ?? (user === 'tester' ? 'password' : 'key');
    const key = this.keys[opts.key ?? 'ed25519'];
    const args = [...this.sshArgs(h, opts), command];
    const timeoutMs = opts.timeoutMs ?? 60_000;
    if (auth === 'password') {
      return run('sshpass', ['-e', 'ssh', ...args], { input: opts.input, timeoutMs, env: { ...CHILD_ENV, SSHPASS: opts.password ?? this.password } });
    }
    if (key.passphrase) {
      const env = { ...CHILD_ENV, SSHPASS: opts.password ?? key.passphrase };
      return run('sshpass', ['-e', '-P', 'passphrase for key', 'ssh', ...args], { input: opts.input, timeoutMs, env });
    }
    return run('ssh', args, { input: opts.input, timeoutMs });
  }

  /** Ansible INI inventory text for the cluster. */
  inventory(opts: InventoryOptions = {}): string {
    const user = opts.user ?? 'root';
    const auth = opts.auth ?? (user === 'tester' ? 'password' : 'key');
    const key = this.keys[opts.key ?? 'ed25519'];
    const hosts = opts.hosts ? opts.hosts.map((n) => this.host(n)) : this.hosts;
    const lines = [`# test hosts of run ${this.id} (${this.mode}), generated by test/support/testhosts.ts`];
    for (const h of hosts) {
      const hv: Record<string, string | number | boolean> = { ansible_host: h.address, ansible_port: h.port, ...opts.hostVars?.(h) };
      lines.push(`${h.name} ${Object.entries(hv).map(([k, v]) => `${k}=${iniQuote(v)}`).join(' ')}`);
    }
    const vars: Record<string, string | number | boolean> = {
      ansible_user: user,
      ansible_python_interpreter: opts.python ?? '/usr/bin/python3',
    };
    if (auth === 'password') vars.ansible_password = this.password;
    else vars.ansible_ssh_private_key_file = key.path;
    vars.ansible_ssh_common_args =
      (opts.hostKeyChecking ?? 'strict') === 'strict'
        ? `-o UserKnownHostsFile=${this.knownHostsFile} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes`
        : '-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no';
    if (opts.hostKeyChecking === 'off') vars.ansible_host_key_checking = false;
    if (opts.become) {
      vars.ansible_become = true;
      vars.ansible_become_method = 'sudo';
      if (user === 'tester') vars.ansible_become_password = this.password;
    }
    Object.assign(vars, opts.vars);
    lines.push('', '[all:vars]', ...Object.entries(vars).map(([k, v]) => `${k}=${iniQuote(v)}`));
    for (const [g, members] of Object.entries(opts.groups ?? {})) {
      for (const m of members) this.host(m);
      lines.push('', `[${g}]`, ...members);
    }
    return lines.join('\n') + '\n';
  }

  /** Write inventory() to a file (mode 0600: it may hold the password). Returns the text. */
  writeInventory(path: string, opts: InventoryOptions = {}): string {
    const text = this.inventory(opts);
    writeFileAtomic(path, text, 0o600);
    return text;
  }

  /** Every process of the run (machine pids): all hosts' processes and their unshare launchers. One /proc scan. */
  pids(): number[] {
    const pidNs = new Set(this.hosts.map((h) => h.namespaces.pid).filter(Boolean));
    const out = new Set<number>();
    for (const h of this.hosts) if (h.child?.pid && pidAlive(h.child.pid)) out.add(h.child.pid);
    for (const p of listPids()) {
      const ns = readLinkOr(`/proc/${p}/ns/pid`);
      if (ns && pidNs.has(ns)) out.add(p);
    }
    return [...out].sort((a, b) => a - b);
  }

  /** What of this run still exists (processes, mounts, links, paths). Empty after stop(). */
  leftovers(): Leftovers {
    const pidNs = new Set(this.hosts.map((h) => h.namespaces.pid).filter(Boolean));
    const processes = new Set<number>();
    for (const p of markedProcesses()) if (p.id === this.id) processes.add(p.pid);
    if (pidNs.size) {
      for (const p of listPids()) {
        const ns = readLinkOr(`/proc/${p}/ns/pid`);
        if (ns && pidNs.has(ns)) processes.add(p);
      }
    }
    const links = linkNames().filter((l) => {
      const m = VETH_RE.exec(l);
      return (m && Number(m[1]) === this.slot) || (this.bridge && l === this.bridge.name);
    });
    const paths = [this.runDir, this.stateFile].filter((p) => fs.existsSync(p));
    return { processes: [...processes].sort((a, b) => a - b), mounts: mountsUnder(this.runDir), links, paths };
  }

  /** Stop every host and remove everything of the run. Idempotent. Throws if something could not be removed. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.copyLogs();
    // SIGKILL to a host's pid 1 ends its whole PID namespace; its unshare then reaps it and exits (killing the
    // unshare first would leave the init a zombie for the machine's init to reap)
    for (const h of this.hosts) {
      if (h.initPid) tryKill(h.initPid, 'SIGKILL');
      else if (h.child?.pid) tryKill(h.child.pid, 'SIGKILL');
    }
    await within(Promise.all(this.hosts.map((h) => h.exited ?? Promise.resolve())), 10_000);
    for (const h of this.hosts) if (h.child?.pid && h.child.exitCode === null && h.child.signalCode === null) tryKill(h.child.pid, 'SIGKILL');
    const pidsLeft = await waitGone(
      this.hosts.flatMap((h) => [h.initPid, h.child?.pid ?? 0]).filter((p) => p > 0),
      5_000,
    );
    if (this.bridge) {
      // veths die with their netns, asynchronously; give the kernel a moment, then remove what is left
      const deadline = Date.now() + 5_000;
      const mine = (): string[] => linkNames().filter((l) => VETH_RE.exec(l)?.[1] === String(this.slot));
      while (mine().length && Date.now() < deadline) await sleep(50);
      for (const l of mine()) runSync('ip', ['link', 'del', l]);
      if (linkNames().includes(this.bridge.name)) runSync('ip', ['link', 'del', this.bridge.name]);
    }
    this.teardownFiles();
    liveClusters.delete(this);
    const left = this.leftovers();
    if (pidsLeft.length || left.processes.length || left.mounts.length || left.links.length || left.paths.length) {
      throw new Error(`testhosts: run ${this.id} left things behind: ${JSON.stringify(left)}`);
    }
  }

  private copyLogs(): void {
    if (!this.keepLogsDir) return;
    try {
      fs.mkdirSync(this.keepLogsDir, { recursive: true });
      for (const h of this.hosts) if (fs.existsSync(h.logFile)) fs.copyFileSync(h.logFile, join(this.keepLogsDir, `${h.name}.sshd.log`));
    } catch {
      /* best effort: debugging aid only */
    }
  }

  private teardownFiles(): void {
    for (const mp of mountsUnder(this.runDir)) {
      if (runSync('umount', [mp]).rc !== 0) runSync('umount', ['-l', mp]);
    }
    fs.rmSync(this.runDir, { recursive: true, force: true });
    fs.rmSync(this.stateFile, { force: true });
  }

  /**
   * Synchronous emergency teardown (process exit / signal): SIGKILL every host, delete links, unmount the tmpfs,
   * remove files. The kernel finishes the rest (namespaces die with their last process).
   */
  killSync(): void {
    if (this.killed) return;
    this.killed = true;
    this.copyLogs();
    for (const h of this.hosts) tryKill(h.initPid || h.child?.pid, 'SIGKILL');
    // give the unshare launchers a moment to reap their inits (they die with us anyway: pdeathsig)
    const until = Date.now() + 300;
    while (Date.now() < until && this.hosts.some((h) => h.child?.pid && pidAlive(h.child.pid))) spawnSync('sleep', ['0.02']);
    for (const l of linkNames()) {
      if (VETH_RE.exec(l)?.[1] === String(this.slot) || (this.bridge && l === this.bridge.name)) runSync('ip', ['link', 'del', l]);
    }
    try {
      this.teardownFiles();
    } catch {
      /* cleanupStale() of the next run finishes the job */
    }
    liveClusters.delete(this);
  }
}

// ───────────────────────────────────────────── startHosts ─────────────────────────────────────────────

function checkPrerequisites(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error('testhosts: must run as root (namespaces, mounts, network links). Run the integration tests as root.');
  }
  const missing = ['unshare', 'nsenter', 'setpriv', 'flock', 'ip', 'mount', 'openssl', 'ssh', 'ssh-keygen', 'sshpass', 'sudo']
    .filter((t) => runSync('sh', ['-c', `command -v ${t}`]).rc !== 0)
    .concat(fs.existsSync('/usr/sbin/sshd') ? [] : ['/usr/sbin/sshd']);
  if (missing.length) throw new Error(`testhosts: missing tools: ${missing.join(', ')}. Run: bash scripts/install-test-deps.sh`);
}

function hostNames(opts: StartHostsOptions): string[] {
  const names = opts.names ?? Array.from({ length: opts.count ?? 0 }, (_, i) => `${opts.namePrefix ?? 'h'}${i + 1}`);
  if (names.length === 0) throw new Error('testhosts: startHosts needs count > 0 or names');
  if (names.length > HOSTS_PER_SLOT) throw new Error(`testhosts: at most ${HOSTS_PER_SLOT} hosts per run`);
  const seen = new Set<string>();
  for (const n of names) {
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(n)) throw new Error(`testhosts: "${n}" is not a valid hostname`);
    if (seen.has(n)) throw new Error(`testhosts: duplicate host name ${n}`);
    seen.add(n);
  }
  return names;
}

function defaultInterfaces(slot: number, index: number): InterfaceSpec[] {
  const block = Math.floor(index / 250);
  const last = (index % 250) + 2;
  const gw = `198.18.${16 * slot}.1`;
  return [
    { name: 'eth0', kind: 'uplink', role: 'mgmt', addresses: [`198.18.${16 * slot + block}.${last}/20`], gateway: gw },
    { name: 'eth1', kind: 'dummy', role: 'svc', addresses: [`198.19.${16 + block}.${last}/24`] },
    { name: 'eth2', kind: 'dummy', role: 'provider', addresses: [] },
    { name: 'eth3', kind: 'dummy', role: 'overlay', addresses: [`198.19.${32 + block}.${last}/24`] },
    { name: 'eth4', kind: 'dummy', role: 'storage', addresses: [`198.19.${48 + block}.${last}/24`] },
  ];
}

/** Validate a layout; returns the reported interfaces and the `ip -batch` commands run inside the host. */
function planInterfaces(
  specs: InterfaceSpec[],
  ctx: { slot: number; index: number; name: string; bridgeCidr: string; bridgeAddr: string },
): { interfaces: HostInterface[]; innerCmds: string[]; uplink: HostInterface } {
  const where = `host ${ctx.name}`;
  const uplinks = specs.filter((s) => s.kind === 'uplink');
  if (uplinks.length !== 1) throw new Error(`testhosts: ${where}: exactly one interface must be kind "uplink" (got ${uplinks.length})`);
  const names = new Set<string>();
  const interfaces: HostInterface[] = [];
  const cmds = ['link set lo up'];
  let gatewayCmd: string | undefined;
  let uplink: HostInterface | undefined;
  const dk = dummyKind();
  specs.forEach((s, i) => {
    if (!/^[A-Za-z][A-Za-z0-9_.-]{0,14}$/.test(s.name) || s.name === 'lo') throw new Error(`testhosts: ${where}: bad interface name "${s.name}"`);
    if (names.has(s.name)) throw new Error(`testhosts: ${where}: duplicate interface ${s.name}`);
    names.add(s.name);
    const addrs = s.addresses ?? [];
    const parsed = addrs.map((a) => checkAddress(a, `${where} ${s.name}`));
    const mac = s.mac ?? macFor(ctx.slot, i, ctx.index);
    const hi: HostInterface = { name: s.name, kind: s.kind === 'uplink' ? 'veth' : dk, mac, addresses: addrs };
    if (s.role) hi.role = s.role;
    if (s.mtu) hi.mtu = s.mtu;
    const v4 = parsed.findIndex(([a]) => a.kind() === 'ipv4');
    if (v4 >= 0) {
      hi.ipv4 = parsed[v4]![0].toString();
      hi.prefixLength = parsed[v4]![1];
    }
    const mtu = s.mtu ? ` mtu ${s.mtu}` : '';
    if (s.kind === 'uplink') {
      if (!hi.ipv4) throw new Error(`testhosts: ${where}: the uplink ${s.name} needs an IPv4 address`);
      if (!ipaddr.parse(hi.ipv4).match(ipaddr.parseCIDR(ctx.bridgeCidr))) {
        throw new Error(`testhosts: ${where}: uplink address ${hi.ipv4} is outside the bridge subnet ${ctx.bridgeCidr}`);
      }
      hi.hostSide = `rtbv${ctx.slot}x${ctx.index}`;
      const gw = s.gateway === undefined ? ctx.bridgeAddr : s.gateway;
      if (gw) {
        hi.gateway = gw;
        gatewayCmd = `route add default via ${gw} dev ${s.name}`;
      }
      uplink = hi;
      if (s.mtu) cmds.push(`link set ${s.name} mtu ${s.mtu}`);
    } else {
      cmds.push(`link add ${s.name} address ${mac}${mtu} type ${dk}`);
    }
    for (const a of addrs) cmds.push(a.includes(':') ? `addr add ${a} dev ${s.name} nodad` : `addr add ${a} brd + dev ${s.name}`);
    cmds.push(`link set ${s.name} up`);
    interfaces.push(hi);
  });
  if (gatewayCmd) cmds.push(gatewayCmd);
  return { interfaces, innerCmds: cmds, uplink: uplink! };
}

/**
 * Create a directory chain in an upper layer. Overlayfs shows an upper directory's own mode/owner for the merged
 * directory, so each new component copies the machine's attributes of the same path (0755 root when the machine
 * has none); `own` sets the attributes of the last component instead.
 */
function mkUpperDir(upper: string, rel: string, own?: { mode: number; uid: number; gid: number }): string {
  const parts = rel.split('/').filter(Boolean);
  let cur = upper;
  let machine = '';
  parts.forEach((part, i) => {
    cur = join(cur, part);
    machine += `/${part}`;
    if (fs.existsSync(cur)) return;
    fs.mkdirSync(cur);
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(machine);
    } catch {
      st = undefined;
    }
    const attrs =
      i === parts.length - 1 && own
        ? own
        : st?.isDirectory()
          ? { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid }
          : { mode: 0o755, uid: 0, gid: 0 };
    fs.chmodSync(cur, attrs.mode);
    fs.chownSync(cur, attrs.uid, attrs.gid);
  });
  return cur;
}

function upperFile(upper: string, rel: string, content: string, mode: number, uid = 0, gid = 0): void {
  const p = join(upper, rel);
  fs.writeFileSync(p, content, { mode });
  fs.chmodSync(p, mode);
  if (uid || gid) fs.chownSync(p, uid, gid);
}

interface Shared {
  accounts: Accounts;
  authorizedKeys: string;
  etcHosts: string;
  hide: string;
  shadowGid: number;
  /** /etc/skel dotfiles: name → content */
  skel: Array<[string, string]>;
  port: number;
  extra: string[];
  tail: string[];
}

function sshdConfig(h: TestHost, extra: string[], tail: string[]): string {
  return [
    `# sshd of test host ${h.name} (run ${h.cluster.id})`,
    ...extra,
    h.mode === 'netns' ? `ListenAddress 0.0.0.0:${h.port}` : `ListenAddress ${h.address}:${h.port}`,
    'AddressFamily inet',
    `HostKey ${HOST_KEY}`,
    'LogLevel VERBOSE',
    'PubkeyAuthentication yes',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'PermitEmptyPasswords no',
    // no PAM: passwords are checked against the host's private /etc/shadow, no logind/session modules needed
    'UsePAM no',
    'UseDNS no',
    'MaxSessions 10',
    // many parallel connection setups (ansible forks, benchmarks) must not be dropped at random
    'MaxStartups 100:30:200',
    'LoginGraceTime 60',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'AcceptEnv LANG LC_*',
    'PrintMotd no',
    'X11Forwarding no',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    ...tail,
    '',
  ].join('\n');
}

function prepareUpper(h: TestHost, sh: Shared): void {
  const u = h.upperDir;
  fs.chmodSync(u, 0o755);
  const a = sh.accounts;
  mkUpperDir(u, 'etc/ssh');
  mkUpperDir(u, 'etc/sudoers.d');
  upperFile(u, 'etc/hostname', `${h.name}\n`, 0o644);
  upperFile(u, 'etc/hosts', sh.etcHosts, 0o644);
  upperFile(u, 'etc/machine-id', randomBytes(16).toString('hex') + '\n', 0o444);
  upperFile(u, 'etc/passwd', a.passwd, 0o644);
  upperFile(u, 'etc/group', a.group, 0o644);
  upperFile(u, 'etc/shadow', a.shadow, 0o640, 0, sh.shadowGid);
  upperFile(u, 'etc/gshadow', a.gshadow, 0o640, 0, sh.shadowGid);
  upperFile(u, 'etc/sudoers.d/testhosts', 'tester ALL=(ALL) ALL\nnopass ALL=(ALL) NOPASSWD: ALL\n', 0o440);
  upperFile(u, 'etc/ssh/sshd_config', sshdConfig(h, sh.extra, sh.tail), 0o644);
  upperFile(u, HOST_KEY.slice(1), h.hostKeyPrivate, 0o600);
  upperFile(u, `${HOST_KEY.slice(1)}.pub`, `${h.hostPublicKey} root@${h.name}\n`, 0o644);
  mkUpperDir(u, 'root/.ssh', { mode: 0o700, uid: 0, gid: 0 });
  upperFile(u, 'root/.ssh/authorized_keys', sh.authorizedKeys, 0o600);
  // fresh shell dotfiles (as useradd -m would): the machine's own root dotfiles (PATH tweaks) stay out
  for (const [f, text] of sh.skel) upperFile(u, `root/${f}`, text, 0o644);
  for (const [user, uid] of [
    ['tester', a.testerUid],
    ['nopass', a.nopassUid],
  ] as const) {
    mkUpperDir(u, `home/${user}`, { mode: 0o755, uid, gid: uid });
    mkUpperDir(u, `home/${user}/.ssh`, { mode: 0o700, uid, gid: uid });
    upperFile(u, `home/${user}/.ssh/authorized_keys`, sh.authorizedKeys, 0o600, uid, uid);
    for (const [f, text] of sh.skel) upperFile(u, `home/${user}/${f}`, text, 0o644, uid, uid);
  }
  mkUpperDir(u, 'run/sshd', { mode: 0o755, uid: 0, gid: 0 });
  mkUpperDir(u, 'var/log');
  upperFile(u, sshdLogName(h.cluster.id).slice(1), '', 0o600);
}

/**
 * Start the hosts. Resolves when every sshd listens; rejects (after removing everything) if one host fails.
 * Always call `stop()` (e.g. in afterAll); process exit and SIGINT/SIGTERM/SIGHUP also tear the run down.
 */
export async function startHosts(opts: StartHostsOptions): Promise<TestCluster> {
  const t0 = Date.now();
  checkPrerequisites();
  const names = hostNames(opts);
  const mode = opts.mode ?? 'loopback';
  const port = opts.port ?? 22;
  const base = opts.baseDir ?? DEFAULT_BASE_DIR;
  const log = opts.log ?? (() => {});
  const id = randomBytes(4).toString('hex');
  const myStart = processStartTime(process.pid) ?? '';

  // claim a slot and register the run (state file first: a run dir without state is stale by definition)
  const slot = await withLock(base, async () => {
    await cleanupStaleLocked(base, log);
    const used = new Set(readStates(base).map((s) => s.slot));
    let s = 0;
    while (used.has(s) && s < MAX_SLOTS) s++;
    if (s >= MAX_SLOTS) throw new Error(`testhosts: all ${MAX_SLOTS} slots are in use by live runs`);
    fs.mkdirSync(stateDir(base), { recursive: true });
    const state: RunState = {
      id,
      pid: process.pid,
      startTime: myStart,
      slot: s,
      mode,
      runDir: join(base, `run-${id}`),
      createdAt: new Date().toISOString(),
    };
    if (mode === 'netns') state.bridge = `rtb${s}`;
    writeFileAtomic(join(stateDir(base), `${id}.json`), JSON.stringify(state, null, 2), 0o644);
    return s;
  });

  const clusterInit: ConstructorParameters<typeof TestCluster>[0] = { id, mode, slot, baseDir: base, password: opts.password ?? DEFAULT_PASSWORD };
  if (opts.keepLogsDir) clusterInit.keepLogsDir = opts.keepLogsDir;
  const cluster = new TestCluster(clusterInit);
  installExitHandlers();
  liveClusters.add(cluster);
  try {
    // hosts (addresses, interfaces, per-host overrides)
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const ov = opts.perHost?.({ index: i, name, defaults: mode === 'netns' ? defaultInterfaces(slot, i) : [] }) ?? {};
      const hostDir = join(cluster.runDir, 'hosts', name);
      let address = `127.${77 + slot}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
      let interfaces: HostInterface[] | undefined;
      let innerCmds = '';
      if (mode === 'netns') {
        const specs = ov.interfaces ?? defaultInterfaces(slot, i);
        const plan = planInterfaces(specs, { slot, index: i, name, bridgeCidr: cluster.bridge!.cidr, bridgeAddr: cluster.bridge!.address });
        interfaces = plan.interfaces;
        innerCmds = plan.innerCmds.join('\n');
        address = plan.uplink.ipv4!;
      } else if (ov.interfaces) {
        throw new Error('testhosts: per-host interfaces need mode "netns"');
      }
      const hinit: ConstructorParameters<typeof TestHost>[0] = {
        cluster,
        index: i,
        name,
        address,
        port,
        upperDir: join(hostDir, 'upper'),
        logFile: join(hostDir, 'upper', sshdLogName(id)),
      };
      if (interfaces) hinit.interfaces = interfaces;
      if (innerCmds) hinit.innerCmds = innerCmds;
      const mem = ov.memoryMiB ?? opts.memoryMiB;
      const cpus = ov.cpus ?? opts.cpus;
      if (mem !== undefined) hinit.memoryMiB = mem;
      if (cpus !== undefined) hinit.cpus = cpus;
      cluster.hosts.push(new TestHost(hinit));
    }

    fs.mkdirSync(cluster.runDir, { mode: 0o700 });
    await mustRun('mount', ['-t', 'tmpfs', '-o', `mode=0700,size=${opts.tmpfsSizeMiB ?? 4096}m`, `testhosts-${id}`, cluster.runDir]);
    const [keys, accounts] = await Promise.all([makeClientKeys(join(cluster.runDir, 'keys'), id), makeAccounts(cluster.password)]);
    cluster.keys = keys;
    cluster.users.tester.uid = accounts.testerUid;
    cluster.users.nopass.uid = accounts.nopassUid;

    const hide = fs
      .readdirSync('/etc/ssh')
      .filter((f) => /^ssh_host_.*_key(\.pub)?$/.test(f) && !f.startsWith('ssh_host_ed25519_key'))
      .map((f) => `etc/ssh/${f}`)
      .join(' ');
    const etcHosts = [
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      ...cluster.hosts.map((h) => `${h.address}\t${h.name}`),
      '',
    ].join('\n');
    const shared: Shared = {
      accounts,
      authorizedKeys: Object.values(keys).map((k) => k.publicKey).join('\n') + '\n',
      etcHosts,
      hide,
      shadowGid: fs.statSync('/etc/shadow').gid,
      skel: ['.bashrc', '.profile', '.bash_logout'].filter((f) => fs.existsSync(`/etc/skel/${f}`)).map((f) => [f, readOr(`/etc/skel/${f}`)]),
      port,
      extra: opts.sshdConfigExtra ?? [],
      tail: opts.sshdConfigTail ?? [],
    };

    if (cluster.bridge) {
      const b = cluster.bridge;
      if (linkNames().includes(b.name)) runSync('ip', ['link', 'del', b.name]);
      await mustRun('ip', ['-batch', '-'], `link add ${b.name} type bridge\naddr add ${b.cidr} dev ${b.name}\nlink set ${b.name} up\n`);
    }

    const deadline = t0 + (opts.readyTimeoutMs ?? 30_000 + 300 * names.length);
    const batchSize = Math.max(1, opts.batchSize ?? 50);
    for (let b = 0; b < cluster.hosts.length; b += batchSize) {
      const batch = cluster.hosts.slice(b, b + batchSize);
      await startBatch(cluster, batch, shared, deadline);
      log(`testhosts: ${Math.min(b + batchSize, cluster.hosts.length)}/${cluster.hosts.length} hosts launched`);
    }
    await waitListening(cluster, deadline);
    for (const h of cluster.hosts) {
      const ns = (k: string): string => readLinkOr(`/proc/${h.initPid}/ns/${k}`) ?? '';
      h.namespaces = { pid: ns('pid'), mnt: ns('mnt'), uts: ns('uts'), net: ns('net') };
    }
    cluster.writeKnownHosts();
    fs.writeFileSync(
      cluster.sshConfigFile,
      cluster.hosts
        .map((h) =>
          [
            `Host ${h.name}`,
            `  HostName ${h.address}`,
            `  Port ${h.port}`,
            '  User root',
            `  IdentityFile ${keys.ed25519.path}`,
            '  IdentitiesOnly yes',
            `  UserKnownHostsFile ${cluster.knownHostsFile}`,
            '  StrictHostKeyChecking yes',
            '',
          ].join('\n'),
        )
        .join('\n'),
      { mode: 0o644 },
    );
    cluster.startupMs = Date.now() - t0;
    log(`testhosts: ${cluster.hosts.length} ${mode} hosts ready in ${cluster.startupMs} ms (run ${id}, slot ${slot})`);
    return cluster;
  } catch (e) {
    try {
      await cluster.stop();
    } catch (e2) {
      log(String(e2));
    }
    throw e;
  }
}

/** Launch a batch of hosts: prepare upper layers, spawn, wait for `ready`, wire uplinks (netns), send `go`. */
async function startBatch(cluster: TestCluster, batch: TestHost[], shared: Shared, deadline: number): Promise<void> {
  const ready: Array<Promise<void>> = [];
  for (const h of batch) {
    const hostDir = join(cluster.runDir, 'hosts', h.name);
    fs.mkdirSync(h.upperDir, { recursive: true });
    fs.mkdirSync(join(hostDir, 'work'));
    fs.mkdirSync(join(hostDir, 'merged'));
    prepareUpper(h, shared);
    let meminfo = '';
    let cpuinfo = '';
    if (h.memoryMiB !== undefined) {
      meminfo = join(hostDir, 'meminfo');
      fs.writeFileSync(meminfo, fakeMeminfo(h.memoryMiB), { mode: 0o444 });
    }
    if (h.cpus !== undefined) {
      cpuinfo = join(hostDir, 'cpuinfo');
      fs.writeFileSync(cpuinfo, fakeCpuinfo(h.cpus), { mode: 0o444 });
    }
    const netns = cluster.mode === 'netns';
    const nsFlags = ['--mount', '--uts', '--ipc', '--pid', ...(netns ? ['--net'] : []), '--fork', '--kill-child'];
    const child = spawn(
      'setpriv',
      [
        '--pdeathsig',
        'KILL',
        '--',
        'unshare',
        ...nsFlags,
        '--',
        '/bin/sh',
        '-c',
        HOST_SCRIPT,
        procMarker(cluster.id, h.name),
        h.upperDir,
        join(hostDir, 'work'),
        join(hostDir, 'merged'),
        h.name,
        netns ? '1' : '0',
        h.innerCmds,
        meminfo,
        cpuinfo,
        shared.hide,
        sshdLogName(cluster.id),
      ],
      { stdio: ['pipe', 'pipe', 'pipe'], env: CHILD_ENV },
    );
    h.child = child;
    h.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stdin!.on('error', () => {});
    child.stderr!.on('data', (d: Buffer) => {
      h.launchErr = (h.launchErr + d.toString()).slice(-4000);
    });
    ready.push(
      new Promise<void>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`testhosts: ${h.name}: not ready before the deadline\n${h.launchErr}`)), Math.max(0, deadline - Date.now()));
        const onExit = (code: number | null, sig: string | null): void => {
          clearTimeout(timer);
          reject(new Error(`testhosts: ${h.name}: host init exited (${code ?? sig}) before ready:\n${h.launchErr.trim()}`));
        };
        child.once('exit', onExit);
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /ready (\d+)/.exec(out);
          if (m && !h.initPid) {
            h.initPid = Number(m[1]);
            clearTimeout(timer);
            child.removeListener('exit', onExit);
            resolve();
          }
        });
      }),
    );
  }
  const results = await Promise.allSettled(ready);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length) throw new Error(failed.slice(0, 3).map((f) => String((f.reason as Error).message ?? f.reason)).join('\n') + (failed.length > 3 ? `\n… and ${failed.length - 3} more hosts` : ''));

  if (cluster.mode === 'netns') {
    const bridge = cluster.bridge!.name;
    const cmds: string[] = [];
    for (const h of batch) {
      const up = h.interfaces!.find((i) => i.kind === 'veth')!;
      const mtu = up.mtu ? ` mtu ${up.mtu}` : '';
      const outerMac = macFor(cluster.slot, 0x0f, h.index);
      cmds.push(`link add ${up.hostSide} address ${outerMac}${mtu} type veth peer name ${up.name} address ${up.mac}${mtu} netns ${h.initPid}`);
      cmds.push(`link set ${up.hostSide} master ${bridge} up`);
    }
    await mustRun('ip', ['-batch', '-'], cmds.join('\n') + '\n');
  }
  for (const h of batch) {
    if (cluster.mode === 'netns') h.child!.stdin!.write('go\n');
    h.child!.stdin!.end();
    // the harness must not be kept alive by hosts it forgot to stop (exit handlers still tear them down)
    h.child!.unref();
    (h.child!.stdout as unknown as { unref?: () => void }).unref?.();
    (h.child!.stderr as unknown as { unref?: () => void }).unref?.();
  }
}

/** Poll the kernel's socket tables until every host's sshd listens (bounded by the deadline). */
async function waitListening(cluster: TestCluster, deadline: number): Promise<void> {
  let pending = cluster.hosts.slice();
  while (pending.length) {
    const rootTable = cluster.mode === 'loopback' ? listeningSockets('/proc/net/tcp') : undefined;
    pending = pending.filter((h) => {
      if (!pidAlive(h.initPid)) throw new Error(`testhosts: ${h.name}: host died during start\n${h.launchErr.trim()}\n${tail(h.readLog())}`);
      const table = rootTable ?? listeningSockets(`/proc/${h.initPid}/net/tcp`);
      if (table.has(h.listenHex)) return false;
      // the init runs the host's sshd job already, but no sshd is left and it logged something: it failed
      if (readOr(`/proc/${h.initPid}/cmdline`).includes('/usr/sbin/sshd -D') && !h.sshdPid && h.readLog().trim()) {
        throw new Error(`testhosts: ${h.name}: sshd exited during start:\n${tail(h.readLog())}`);
      }
      return true;
    });
    if (!pending.length) break;
    if (Date.now() > deadline) {
      const h = pending[0]!;
      throw new Error(
        `testhosts: ${pending.length} hosts not listening before the deadline (first: ${h.name} ${h.address}:${h.port})\n${tail(h.readLog())}`,
      );
    }
    await sleep(pending.length > 20 ? 100 : 25);
  }
}
