/**
 * `systemd` (and the engine behind `service`, ./service.ts): manage a unit with `systemctl`.
 *
 * The unit is read first (`systemctl show -p …`, `systemctl is-enabled`) so `changed` is honest: `started`
 * only starts an inactive unit, `stopped` only stops an active one, `enabled: true` only enables a disabled
 * one; `restarted` / `reloaded` always act (starting an inactive unit), as in Ansible. `daemon_reload` runs
 * first and does not by itself count as a change (Ansible's behaviour). Check mode plans without acting.
 * Result: `name`, `state`, `enabled`, `status` (the properties read), `changed`.
 */
import type { ModuleContext, ModuleResult } from '../types.js';
import { argvLine, defineModule, Fail, sh, tail, type Args, type ArgSpec } from './common.js';

export const SHOW_PROPS = ['Id', 'Names', 'Description', 'LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'MainPID', 'FragmentPath'];

/** `systemctl show` output (`Key=Value` lines) → map. */
export function parseShow(out: string): Record<string, string> {
  const m: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) m[line.slice(0, i)] = line.slice(i + 1);
  }
  return m;
}

/** is-enabled answers that count as enabled (rc 0 of `systemctl is-enabled`). */
const ENABLED_STATES = new Set(['enabled', 'enabled-runtime', 'static', 'indirect', 'alias', 'generated', 'transient', 'linked', 'linked-runtime']);

export interface SystemdRequest {
  name?: string;
  state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
  enabled?: boolean;
  masked?: boolean;
  daemonReload: boolean;
  daemonReexec: boolean;
  scope: 'system' | 'user' | 'global';
  noBlock: boolean;
  force: boolean;
}

function base(req: SystemdRequest): string[] {
  const b = ['systemctl'];
  if (req.scope !== 'system') b.push(`--${req.scope}`);
  return b;
}

/** The systemd planner/actor shared by `systemd` and `service`. */
export async function runSystemd(req: SystemdRequest, ctx: ModuleContext): Promise<ModuleResult> {
  const sc = base(req);
  const env = { LC_ALL: 'C', SYSTEMD_PAGER: '' };
  const run = async (argv: string[], what: string): Promise<void> => {
    const r = await sh(ctx, argvLine([...sc, ...argv]), { env });
    if (r.rc !== 0) throw new Fail(`${what}: ${tail(r.stderr || r.stdout) || `systemctl rc ${r.rc}`}`, { rc: r.rc, stdout: r.stdout, stderr: r.stderr });
  };
  if (req.daemonReload && !ctx.check) await run(['daemon-reload'], 'failure during daemon-reload');
  if (req.daemonReexec && !ctx.check) await run(['daemon-reexec'], 'failure during daemon-reexec');
  const name = req.name;
  if (!name) {
    if (req.state || req.enabled !== undefined || req.masked !== undefined) throw new Fail('missing required arguments: name (needed with state, enabled or masked)');
    return { changed: false };
  }

  const show = await sh(ctx, argvLine([...sc, 'show', name, '--no-pager', `--property=${SHOW_PROPS.join(',')}`]), { env });
  if (show.rc !== 0) throw new Fail(`Error loading unit information for ${name}: ${tail(show.stderr) || `systemctl rc ${show.rc}`}`, { rc: show.rc });
  const status = parseShow(show.stdout);
  const found = status.LoadState !== undefined && status.LoadState !== 'not-found';
  const result: ModuleResult = { changed: false, name, status };

  // masked
  if (req.masked !== undefined) {
    const masked = status.LoadState === 'masked' || status.UnitFileState === 'masked' || status.UnitFileState === 'masked-runtime';
    if (masked !== req.masked) {
      result.changed = true;
      if (!ctx.check) await run([req.masked ? 'mask' : 'unmask', ...(req.force ? ['--force'] : []), name], `Unable to ${req.masked ? 'mask' : 'unmask'} service ${name}`);
    }
  }

  if (!found && (req.state || req.enabled !== undefined) && !(req.masked === false && result.changed)) {
    throw new Fail(`Could not find the requested service ${name}: host`, { name, status });
  }

  // enabled
  if (req.enabled !== undefined) {
    const ie = await sh(ctx, argvLine([...sc, 'is-enabled', name]), { env });
    const word = ie.stdout.trim().split('\n')[0] ?? '';
    const isEnabled = ie.rc === 0 || ENABLED_STATES.has(word);
    if (word === 'masked' && req.enabled) throw new Fail(`Unable to enable service ${name}: the unit is masked`, { name, status });
    if (isEnabled !== req.enabled) {
      result.changed = true;
      if (!ctx.check) await run([req.enabled ? 'enable' : 'disable', ...(req.force ? ['--force'] : []), name], `Unable to ${req.enabled ? 'enable' : 'disable'} service ${name}`);
    }
    result.enabled = req.enabled;
  }

  // state
  if (req.state) {
    const active = status.ActiveState === 'active' || status.ActiveState === 'activating' || status.ActiveState === 'reloading';
    const deactivating = status.ActiveState === 'deactivating';
    let action: string | undefined;
    if (req.state === 'started') action = active ? undefined : 'start';
    else if (req.state === 'stopped') action = active || deactivating ? 'stop' : undefined;
    else if (req.state === 'restarted') action = active ? 'restart' : 'start';
    else action = active ? 'reload' : 'start';
    if (action) {
      result.changed = true;
      if (!ctx.check) {
        const argv = [action, name];
        if (req.noBlock) argv.unshift('--no-block');
        await run(argv, `Unable to ${action} service ${name}`);
      }
    }
    result.state = req.state;
  }
  if (result.changed && !ctx.check) {
    const again = await sh(ctx, argvLine([...sc, 'show', name, '--no-pager', `--property=${SHOW_PROPS.join(',')}`]), { env });
    if (again.rc === 0) result.status = parseShow(again.stdout);
  }
  return result;
}

export const SYSTEMD_SPEC: ArgSpec = {
  name: { type: 'str', aliases: ['service', 'unit'] },
  state: { type: 'str', choices: ['reloaded', 'restarted', 'started', 'stopped'] },
  enabled: { type: 'bool' },
  masked: { type: 'bool' },
  daemon_reload: { type: 'bool', default: false, aliases: ['daemon-reload'] },
  daemon_reexec: { type: 'bool', default: false, aliases: ['daemon-reexec'] },
  scope: { type: 'str', default: 'system', choices: ['system', 'user', 'global'] },
  no_block: { type: 'bool', default: false },
  force: { type: 'bool' },
};

export function systemdRequest(a: Args): SystemdRequest {
  const req: SystemdRequest = {
    daemonReload: a.bool('daemon_reload'),
    daemonReexec: a.bool('daemon_reexec'),
    scope: a.str('scope') as SystemdRequest['scope'],
    noBlock: a.bool('no_block'),
    force: a.bool('force'),
  };
  const name = a.str('name');
  if (name) req.name = name;
  const st = a.str('state');
  if (st) req.state = st as SystemdRequest['state'];
  const en = a.optBool('enabled');
  if (en !== undefined) req.enabled = en;
  const mk = a.optBool('masked');
  if (mk !== undefined) req.masked = mk;
  return req;
}

export const systemd = defineModule({
  name: 'systemd',
  spec: SYSTEMD_SPEC,
  run: (a, ctx) => runSystemd(systemdRequest(a), ctx),
});

/** `systemd_service` is the newer name of the same module. */
export const systemdService = defineModule({
  name: 'systemd_service',
  spec: SYSTEMD_SPEC,
  run: (a, ctx) => runSystemd(systemdRequest(a), ctx),
});
