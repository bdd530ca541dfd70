import { Command, Flags } from '@oclif/core';
import { projectFlags } from './flags.js';

export default class Ping extends Command {
  static override summary = 'Check that every host answers over its connection (parallel, one line per host with latency).';
  static override description =
    'Connects to each selected host (ssh, or local for ansible_connection=local) and runs a tiny POSIX sh probe. ' +
    'Failures are named: connection refused, timeout, name resolution, auth failed, host key mismatch, sudo failed. ' +
    '--become also checks sudo; --checks also checks that the remote hostname matches the inventory name and that the clock is within --max-skew of this machine. ' +
    'Exit 0 when all answer, 3 when any host is unreachable, 2 when sudo or a check failed.';
  static override examples = [
    '<%= config.bin %> ping',
    '<%= config.bin %> ping -i inventory/ceph --limit kube_control_plane',
    "<%= config.bin %> ping -i inventory/ceph --limit 'all:!storage' --become --checks",
    '<%= config.bin %> ping --json | jq .summary',
  ];
  static override flags = {
    ...projectFlags,
    limit: Flags.string({ char: 'l', description: 'host pattern: group, host, a:b, a:&b, a:!b, g[0:2], web*, ~regex, @file' }),
    become: Flags.boolean({ char: 'b', description: 'run the probe through sudo (ansible_become_password / ansible_become_user)' }),
    checks: Flags.boolean({ description: 'QA checks: remote hostname = inventory name, clock skew vs this machine' }),
    'max-skew': Flags.integer({ description: 'largest clock difference accepted by --checks, seconds', default: 2, min: 0 }),
    json: Flags.boolean({ description: 'print one JSON document instead of lines' }),
    forks: Flags.integer({ char: 'f', description: 'hosts contacted in parallel (default: run.cfg forks)', min: 1 }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Ping);
    // Heavy modules are loaded only now (oclif loads every command class at start-up).
    const { runPingCommand } = await import('../app/ping-command.js');
    const code = await runPingCommand(flags, (s) => process.stdout.write(s));
    if (code !== 0) this.exit(code);
  }
}
