import { Args, Command } from '@oclif/core';
import { playbookFlags } from './flags.js';

export default class Playbook extends Command {
  static override summary = 'Run any Ansible-syntax playbook (operation playbooks, a site\'s own) with the runner\'s engine.';
  static override description =
    'Same options as ansible-playbook where they exist. Output is Ansible-style (PLAY / TASK / PLAY RECAP); every run also writes ' +
    '<log_path>/<time>-playbook-<pid>/events.ndjson and console.log. Exit codes: 0 ok, 2 a host failed, 3 a host unreachable, 4 parse error, 5 bad options, 99 interrupted.';
  static override examples = [
    '<%= config.bin %> playbook playbooks/site-check.yml',
    '<%= config.bin %> playbook ops.yml -i inventory/ceph --limit control1 --tags chrony -e ntp_servers=[]',
    '<%= config.bin %> playbook ops.yml --check --diff -vv',
  ];
  static override args = { file: Args.string({ required: true, description: 'playbook file' }) };
  static override flags = playbookFlags;

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Playbook);
    const { runPlaybookFile } = await import('../app/playbook.js');
    const out = await runPlaybookFile(args.file, flags, { command: 'playbook', write: (l) => process.stdout.write(l + '\n') });
    if (out.exitCode !== 0) this.exit(out.exitCode);
  }
}
