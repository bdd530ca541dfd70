/**
 * `./run ping`: every selected host answers a tiny shell probe over its transport, in parallel (forks),
 * one line per host with latency as results come in, then a summary. Failure reasons are told apart
 * (refused, timeout, name resolution, auth, host key, sudo), and `--checks` adds QA checks: the remote
 * hostname matches the inventory name, and the clock skew against the controller is small.
 *
 * Exit code: 0 all answered; 3 when any host is unreachable; 2 when a host answered but sudo or a check failed.
 */
import { ExitCode, isRunError } from '../core/errors.js';
import { TransportError, isTransportError } from '../transport/errors.js';
import type { Connections } from '../transport/index.js';
import type { BecomeOptions, FailureReason } from '../transport/types.js';

export type PingStatus = 'ok' | 'unreachable' | 'failed';

export interface CheckResult {
  ok: boolean;
  skipped?: string;
  detail: string;
}

export interface PingResult {
  host: string;
  status: PingStatus;
  /** milliseconds from the start of this host's ping to its answer (includes connecting) */
  latencyMs: number;
  reason?: FailureReason | 'check' | 'probe';
  message?: string;
  hint?: string;
  connection: 'ssh' | 'local';
  checks?: { hostname?: CheckResult; clock?: CheckResult & { skewSeconds?: number } };
}

export interface PingHost {
  name: string;
  vars: Record<string, unknown>;
}

export interface PingOptions {
  hosts: PingHost[];
  connections: Connections;
  forks: number;
  become?: boolean;
  checks?: boolean;
  /** largest tolerated clock difference in seconds (--checks) */
  maxSkew?: number;
  /** per-command timeout in seconds for the probe (0 = none) */
  commandTimeout?: number;
  onResult?: (r: PingResult) => void;
}

const IP_LIKE = /^(\d{1,3}\.){3}\d{1,3}$|^[0-9a-f:]+:[0-9a-f:]*$/i;

function hostnameCheck(inventoryName: string, remote: string, kind: 'ssh' | 'local'): CheckResult {
  if (kind === 'local') return { ok: true, skipped: 'local connection', detail: `controller is ${remote}` };
  if (IP_LIKE.test(inventoryName)) return { ok: true, skipped: 'inventory name is an address', detail: `remote hostname ${remote}` };
  const a = inventoryName.toLowerCase();
  const b = remote.toLowerCase();
  const short = (s: string) => s.split('.')[0]!;
  const ok = a === b || short(a) === short(b);
  return { ok, detail: ok ? `hostname ${remote}` : `remote hostname is ${JSON.stringify(remote)}, inventory name is ${JSON.stringify(inventoryName)}` };
}

function withDeadline<T>(p: Promise<T>, seconds: number | undefined, host: string): Promise<T> {
  if (!seconds || seconds <= 0) return p;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TransportError('command-timeout', `the probe did not answer within ${seconds}s`, { host, exitCode: ExitCode.hostFailed })),
      seconds * 1000,
    );
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

async function pingOne(h: PingHost, opts: PingOptions): Promise<PingResult> {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  let kind: 'ssh' | 'local' = 'ssh';
  try {
    const handle = opts.connections.forHost(h.name, h.vars);
    kind = handle.transport.kind;
    // --become, or ansible_become=true on the host (as Ansible's ping module would run)
    const useBecome = opts.become === true || handle.connection.becomeByDefault;
    const become: BecomeOptions | undefined = useBecome ? handle.become : undefined;
    const parts = ['echo pong'];
    if (useBecome) parts.push('id -un');
    if (opts.checks) parts.push('uname -n', 'date -u +%s');
    const cmd = parts.join('; ');
    await handle.transport.connect();
    const sent = Date.now();
    // The probe is bounded on the controller only: a remote watchdog (a background sleep per host)
    // would cost more than the probe itself, and the probe holds nothing that outlives the connection.
    const r = await withDeadline(handle.transport.exec(cmd, { become }), opts.commandTimeout, h.name);
    const recv = Date.now();
    const lines = r.stdout.split('\n');
    if (r.rc !== 0 || lines[0] !== 'pong') {
      return {
        host: h.name,
        status: 'failed',
        latencyMs: ms(),
        connection: kind,
        reason: 'probe',
        message: `probe failed (rc ${r.rc}): ${(r.stderr || r.stdout).trim().slice(0, 300) || 'no output'}`,
      };
    }
    const res: PingResult = { host: h.name, status: 'ok', latencyMs: ms(), connection: kind };
    let i = 1;
    if (useBecome) {
      const want = become?.user ?? 'root';
      const got = lines[i++] ?? '';
      if (got !== want) {
        res.status = 'failed';
        res.reason = 'become';
        res.message = `sudo ran the probe as ${JSON.stringify(got)}, expected ${want}`;
      }
    }
    if (opts.checks) {
      const remoteName = (lines[i++] ?? '').trim();
      const remoteSecs = Number(lines[i++]);
      const hostname = hostnameCheck(h.name, remoteName, kind);
      let clock: CheckResult & { skewSeconds?: number };
      if (!Number.isFinite(remoteSecs)) clock = { ok: false, detail: 'remote `date -u +%s` gave no number' };
      else {
        // The remote time was read between send and receive; `date +%s` truncates, so +0.5 s on average.
        const skew = remoteSecs + 0.5 - (sent + recv) / 2000;
        const max = opts.maxSkew ?? 2;
        const rounded = Math.round(skew * 10) / 10;
        clock = {
          ok: Math.abs(skew) <= max,
          skewSeconds: rounded,
          detail: `clock ${rounded >= 0 ? '+' : ''}${rounded.toFixed(1)}s vs controller${Math.abs(skew) > max ? ` (more than ${max}s)` : ''}`,
        };
      }
      res.checks = { hostname, clock };
      if (res.status === 'ok' && (!hostname.ok || !clock.ok)) {
        res.status = 'failed';
        res.reason = 'check';
        res.message = [hostname.ok ? '' : hostname.detail, clock.ok ? '' : clock.detail].filter(Boolean).join('; ');
      }
    }
    return res;
  } catch (e) {
    if (isTransportError(e)) {
      const unreachable = e.exitCode === ExitCode.unreachable;
      return {
        host: h.name,
        status: unreachable ? 'unreachable' : 'failed',
        latencyMs: ms(),
        connection: kind,
        reason: e.reason,
        message: e.message,
        hint: e.hint,
      };
    }
    if (isRunError(e)) {
      // e.g. a connection variable that does not evaluate (undefined template, vault not unlocked)
      return { host: h.name, status: 'failed', latencyMs: ms(), connection: kind, reason: 'config', message: e.message, hint: e.hint };
    }
    throw e;
  }
}

/** Pings every host, at most `forks` at a time; results in completion order through onResult, all at the end in input order. */
export async function runPing(opts: PingOptions): Promise<PingResult[]> {
  const results: PingResult[] = new Array(opts.hosts.length);
  let next = 0;
  const worker = async () => {
    while (next < opts.hosts.length) {
      const i = next++;
      const r = await pingOne(opts.hosts[i]!, opts);
      results[i] = r;
      opts.onResult?.(r);
    }
  };
  const n = Math.max(1, Math.min(opts.forks, opts.hosts.length));
  await Promise.all(Array.from({ length: n }, worker));
  return results;
}

export interface Style {
  color: boolean;
}

/** Colour only on a terminal, and never with NO_COLOR set or TERM=dumb. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

const paint = (on: boolean, code: number, s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

const REASON_LABEL: Record<string, string> = {
  refused: 'connection refused',
  timeout: 'timeout',
  dns: 'name resolution',
  auth: 'auth failed',
  hostkey: 'host key',
  unreachable: 'unreachable',
  lost: 'connection lost',
  become: 'sudo failed',
  'command-timeout': 'command timeout',
  config: 'bad settings',
  check: 'check failed',
  probe: 'probe failed',
  remote: 'remote error',
};

export function formatLine(r: PingResult, nameWidth: number, style: Style): string {
  const name = r.host.padEnd(nameWidth);
  const lat = `${r.latencyMs} ms`.padStart(8);
  if (r.status === 'ok') {
    const extra: string[] = [];
    if (r.checks?.hostname) extra.push(r.checks.hostname.skipped ? `hostname check skipped (${r.checks.hostname.skipped})` : r.checks.hostname.detail);
    if (r.checks?.clock) extra.push(r.checks.clock.detail);
    return `${name}  ${paint(style.color, 32, 'ok'.padEnd(11))} ${lat}${extra.length ? '  ' + extra.join(', ') : ''}`;
  }
  const label = r.status === 'unreachable' ? 'UNREACHABLE' : 'FAILED';
  const color = r.status === 'unreachable' ? 31 : 33;
  let s = `${name}  ${paint(style.color, color, label.padEnd(11))} ${lat}  ${REASON_LABEL[r.reason ?? ''] ?? r.reason}: ${r.message ?? ''}`;
  if (r.hint) s += `\n${' '.repeat(nameWidth)}  hint: ${r.hint}`;
  return s;
}

export function pingExitCode(results: PingResult[]): number {
  if (results.some((r) => r.status === 'unreachable')) return ExitCode.unreachable;
  if (results.some((r) => r.status === 'failed')) return ExitCode.hostFailed;
  return ExitCode.ok;
}

export function summarize(results: PingResult[], elapsedMs: number): { ok: number; unreachable: number; failed: number; total: number; seconds: number } {
  return {
    total: results.length,
    ok: results.filter((r) => r.status === 'ok').length,
    unreachable: results.filter((r) => r.status === 'unreachable').length,
    failed: results.filter((r) => r.status === 'failed').length,
    seconds: Math.round(elapsedMs) / 1000,
  };
}

export function formatSummary(results: PingResult[], elapsedMs: number, style: Style): string {
  const s = summarize(results, elapsedMs);
  const parts = [paint(style.color && s.ok > 0, 32, `${s.ok} ok`)];
  parts.push(paint(style.color && s.unreachable > 0, 31, `${s.unreachable} unreachable`));
  parts.push(paint(style.color && s.failed > 0, 33, `${s.failed} failed`));
  return `ping: ${s.total} host${s.total === 1 ? '' : 's'}: ${parts.join(', ')} in ${s.seconds.toFixed(2)}s`;
}
