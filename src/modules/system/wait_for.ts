/**
 * `wait_for`: wait, from the target, until a TCP port accepts connections (or stops), a file exists (or is
 * gone), optionally until `search_regex` matches the file's content or what the port sends — or simply
 * sleep `timeout` seconds when neither is given.
 *
 * The loop runs on the controller: one short probe per attempt (`sleep` seconds apart, default 1), bounded by
 * `timeout` (default 300) and ended early by the run's abort signal. Each probe has its own bound, so a
 * hanging target cannot stretch the wait. TCP probes use bash's /dev/tcp (`nc -z` when bash is missing),
 * under `timeout` from coreutils. The regex is Python's (`(?P<name>…)` works) with re.MULTILINE, as Ansible.
 *
 * Result (Ansible's): `elapsed`, `state`, `port`/`path`, `search_regex`, `match_groups`, `match_groupdict`;
 * on timeout: failed with "Timeout when waiting for 127.0.0.1:8080" (or `msg`).
 */
import type { ModuleContext } from '../types.js';
import { defineModule, Fail, pyRegex, sh, shq, sleep } from './common.js';

/** sh that exits 0 when host:port accepts a TCP connection within `secs`. */
export function portProbe(host: string, port: number, secs: number): string {
  const h = shq(host);
  const t = Math.max(1, Math.ceil(secs));
  return [
    `if command -v bash >/dev/null 2>&1; then`,
    `  timeout ${t} bash -c 'exec 3<>"/dev/tcp/$0/$1"' ${h} ${port} 2>/dev/null`,
    `elif command -v nc >/dev/null 2>&1; then`,
    `  timeout ${t} nc -z ${h} ${port} 2>/dev/null`,
    `else echo 'wait_for needs bash or nc on the target' >&2; exit 90; fi`,
  ].join('\n');
}

/** sh that connects and prints what the peer sends for up to `secs` seconds (rc 1 = could not connect). */
export function portReadProbe(host: string, port: number, secs: number): string {
  const t = Math.max(1, Math.ceil(secs));
  return `command -v bash >/dev/null 2>&1 || { echo 'wait_for search_regex on a port needs bash on the target' >&2; exit 90; }
timeout ${t} bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1; cat <&3' ${shq(host)} ${port} 2>/dev/null; r=$?; [ $r -eq 124 ] && exit 0; exit $r`;
}

function match(re: RegExp, text: string): { groups: string[]; dict: Record<string, string> } | undefined {
  const m = re.exec(text);
  if (!m) return undefined;
  return { groups: m.slice(1).map((g) => g ?? ''), dict: { ...(m.groups ?? {}) } as Record<string, string> };
}

export const waitFor = defineModule({
  name: 'wait_for',
  spec: {
    host: { type: 'str', default: '127.0.0.1' },
    port: { type: 'int' },
    path: { type: 'path' },
    state: { type: 'str', default: 'started', choices: ['absent', 'drained', 'present', 'started', 'stopped'] },
    timeout: { type: 'int', default: 300 },
    connect_timeout: { type: 'int', default: 5 },
    delay: { type: 'int', default: 0 },
    sleep: { type: 'int', default: 1 },
    search_regex: { type: 'str' },
    msg: { type: 'str' },
    exclude_hosts: { type: 'list' },
    active_connection_states: { type: 'list' },
  },
  async run(a, ctx: ModuleContext) {
    const host = a.str('host')!;
    const port = a.int('port');
    const path = a.str('path');
    const state = a.str('state')!;
    const timeout = Math.max(0, a.int('timeout')!);
    const delay = Math.max(0, a.int('delay')!);
    const pause = Math.max(0.1, a.int('sleep')!);
    const connectTimeout = Math.max(1, a.int('connect_timeout')!);
    const regexText = a.str('search_regex');
    if (port !== undefined && path) throw new Fail('port and path parameter can not both be passed to wait_for');
    if (path && state === 'stopped') throw new Fail('state=stopped should only be used for checking a port in the wait_for module');
    if (path && state === 'drained') throw new Fail('state=drained should only be used for checking a port in the wait_for module');
    if (state === 'drained') throw new Fail('state=drained is not supported by this runner (wait for the port to stop instead)');
    if (port !== undefined && (port < 1 || port > 65535)) throw new Fail(`invalid port ${port}`);
    if (regexText && (state === 'absent' || state === 'stopped')) throw new Fail(`search_regex cannot be used with state=${state}`);
    const re = regexText ? pyRegex(regexText, 'm') : undefined;

    const t0 = Date.now();
    const deadline = t0 + timeout * 1000;
    const elapsed = (): number => Math.floor((Date.now() - t0) / 1000);
    const base = { changed: false, state, port: port ?? null, path: path ?? null, search_regex: regexText ?? null, match_groups: [] as string[], match_groupdict: {} };
    if (delay && !(await sleep(delay * 1000, ctx.signal))) throw new Fail('wait_for interrupted');

    if (port === undefined && !path) {
      // nothing to wait for: Ansible sleeps for `timeout`
      if (!(await sleep(Math.max(0, deadline - Date.now()), ctx.signal))) throw new Fail('wait_for interrupted');
      return { changed: false, elapsed: elapsed(), state, port: null, path: null, search_regex: null, match_groups: [], match_groupdict: {} };
    }

    const waitingFor = port !== undefined ? `${host}:${port}` : `file ${path}`;
    const timeoutMsg =
      a.str('msg') ??
      (state === 'stopped' ? `Timeout when waiting for ${host}:${port} to stop.` : state === 'absent' ? `Timeout when waiting for ${path} to be absent.` : regexText ? `Timeout when waiting for search string ${regexText} in ${waitingFor}` : `Timeout when waiting for ${waitingFor}`);

    for (let attempt = 0; attempt < 1_000_000; attempt++) {
      const left = (deadline - Date.now()) / 1000;
      const probeBound = Math.max(1, Math.min(connectTimeout, Math.ceil(left)));
      let done = false;
      let found: ReturnType<typeof match> | undefined;
      if (port !== undefined) {
        if (re) {
          const r = await sh(ctx, portReadProbe(host, port, Math.max(1, Math.min(left, 5))), { timeout: Math.ceil(Math.max(1, Math.min(left, 5))) + 10 });
          if (r.rc === 90) throw new Fail(r.stderr.trim());
          if (r.rc === 0) {
            found = match(re, r.stdout);
            done = found !== undefined;
          }
        } else {
          const r = await sh(ctx, portProbe(host, port, probeBound), { timeout: probeBound + 10 });
          if (r.rc === 90) throw new Fail(r.stderr.trim());
          done = state === 'stopped' ? r.rc !== 0 : r.rc === 0;
        }
      } else {
        const p = shq(path!);
        if (state === 'absent') {
          const r = await sh(ctx, `[ ! -e ${p} ] && [ ! -L ${p} ]`, { timeout: 30 });
          done = r.rc === 0;
        } else if (re) {
          const r = await sh(ctx, `[ -e ${p} ] || exit 3; head -c 16777216 ${p}`, { timeout: 60 });
          if (r.rc === 0) {
            found = match(re, r.stdout);
            done = found !== undefined;
          }
        } else {
          const r = await sh(ctx, `[ -e ${p} ]`, { timeout: 30 });
          done = r.rc === 0;
        }
      }
      if (done) {
        return { ...base, elapsed: elapsed(), match_groups: found?.groups ?? [], match_groupdict: found?.dict ?? {} };
      }
      // one last probe at the deadline, as Ansible's loop does: the wait lasts the whole `timeout`
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      if (!(await sleep(Math.min(pause * 1000, remaining), ctx.signal))) throw new Fail('wait_for interrupted', { elapsed: elapsed() });
    }
    throw new Fail(timeoutMsg, { elapsed: elapsed() });
  },
});
