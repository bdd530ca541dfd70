import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Args, Command, Flags } from '@oclif/core';
import { stringify } from 'yaml';
import { projectFlags, runFlags } from './flags.js';

export default class Exec extends Command {
  static override summary = 'Run one module ad hoc on the hosts matching a pattern (like the `ansible` command).';
  static override examples = [
    "<%= config.bin %> exec all -m command -a 'uptime'",
    "<%= config.bin %> exec kube_control_plane -i inventory/ceph -m service -a 'name=haproxy state=restarted' --become",
    "<%= config.bin %> exec compute1 -m copy -a 'src=/etc/hosts dest=/tmp/hosts mode=0644' --check --diff",
  ];
  static override args = { pattern: Args.string({ required: true, description: 'host pattern: all, a group, a host, a:b, a:!b …' }) };
  static override flags = {
    ...projectFlags,
    ...runFlags,
    module: Flags.string({ char: 'm', description: 'module name', default: 'command' }),
    args: Flags.string({ char: 'a', description: 'module arguments: free form or key=value pairs' }),
    become: Flags.boolean({ char: 'b', description: 'run with sudo' }),
    facts: Flags.boolean({ description: 'gather facts first (modules that need them gather on demand anyway)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Exec);
    const { runPlaybookFile } = await import('../app/playbook.js');
    // An ad-hoc run is a one-task play: the same loader validates the module and its arguments.
    const dir = mkdtempSync(join(tmpdir(), 'run-exec-'));
    const file = join(dir, 'adhoc.yml');
    const task: Record<string, unknown> = { name: `${flags.module}${flags.args ? ' ' + flags.args : ''}`, [flags.module]: flags.args ?? {} };
    writeFileSync(file, stringify([{ name: `Ad hoc: ${args.pattern}`, hosts: args.pattern, gather_facts: Boolean(flags.facts), become: Boolean(flags.become), tasks: [task] }]), { mode: 0o600 });
    try {
      const out = await runPlaybookFile(file, { ...flags, verbose: Math.max(1, flags.verbose ?? 0) }, { command: 'exec', write: (l) => process.stdout.write(l + '\n') });
      if (out.exitCode !== 0) this.exit(out.exitCode);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
