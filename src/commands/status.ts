import { Command, Flags } from '@oclif/core';
import { projectFlags } from './flags.js';

export default class Status extends Command {
  static override summary = "Every step's state: when, how long, recap counts, and what to run next.";
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json | jq .steps.preflight'];
  static override flags = { ...projectFlags, json: Flags.boolean({ description: 'print JSON' }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(Status);
    const { statusReport } = await import('../app/status.js');
    process.stdout.write(await statusReport(flags, Boolean(flags.json)));
  }
}
