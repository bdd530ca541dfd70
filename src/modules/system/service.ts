/**
 * `service`: Ansible's generic service module. The targets of this runner use systemd, so the work is done
 * by the systemd engine (./systemd.ts) — chosen from the facts (`ansible_service_mgr`), or when `systemctl`
 * is present on a host whose PID 1 is something else (containers). Arguments only other service managers
 * use (`pattern`, `runlevel`, `arguments`, `sleep`) are ignored with a warning, as Ansible does for systemd.
 */
import { defineModule, Fail, sh } from './common.js';
import { runSystemd } from './systemd.js';

export const service = defineModule({
  name: 'service',
  spec: {
    name: { type: 'str', required: true },
    state: { type: 'str', choices: ['reloaded', 'restarted', 'started', 'stopped'] },
    enabled: { type: 'bool' },
    use: { type: 'str', default: 'auto' },
    sleep: { type: 'int' },
    pattern: { type: 'str' },
    runlevel: { type: 'str' },
    arguments: { type: 'str', aliases: ['args'] },
  },
  async run(a, ctx) {
    for (const k of ['sleep', 'pattern', 'runlevel', 'arguments']) {
      if (a.has(k)) ctx.warn(`Ignoring "${k}" as it is not used in "systemd"`);
    }
    const use = a.str('use')!;
    if (use !== 'auto' && use !== 'systemd') throw new Fail(`service: the service manager '${use}' is not supported (only systemd)`);
    if (use === 'auto') {
      const mgr = String((await ctx.facts()).ansible_service_mgr ?? 'unknown');
      if (mgr !== 'systemd') {
        const probe = await sh(ctx, 'command -v systemctl');
        if (probe.rc !== 0) throw new Fail(`service: this host's service manager is '${mgr}' and systemctl is not installed; only systemd is supported`);
      }
    }
    const req: Parameters<typeof runSystemd>[0] = { name: a.req('name'), daemonReload: false, daemonReexec: false, scope: 'system', noBlock: false, force: false };
    const st = a.str('state');
    if (st) req.state = st as NonNullable<typeof req.state>;
    const en = a.optBool('enabled');
    if (en !== undefined) req.enabled = en;
    if (!req.state && req.enabled === undefined) throw new Fail('one of the following is required: state, enabled');
    return runSystemd(req, ctx);
  },
});
