/** One oclif command per install step, made from the step registry (order, summary, examples). */
import { Command, Flags } from '@oclif/core';
import { STEPS, type StepDef } from '../steps/registry.js';
import { playbookFlags } from './flags.js';

export function stepCommand(step: StepDef, index: number): typeof Command {
  return class StepCommand extends Command {
    static override summary = `Step ${index + 1}: ${step.summary}.`;
    static override description =
      `Runs playbooks/${step.playbook}. It starts only when every earlier step that applies to this site succeeded for the ` +
      'current inventory and variables; it succeeds only when every host it targets completed it and its verify checks passed. ' +
      'Results go to .run/state.json (./run status). Ctrl-C once: finish commands in flight and stop (exit 99); twice: stop now.';
    static override examples = [
      `<%= config.bin %> ${step.name}`,
      `<%= config.bin %> ${step.name} -i inventory/ceph --check --diff`,
      `<%= config.bin %> ${step.name} --resume            # after a failure: only the failed hosts, from the play that failed`,
      `<%= config.bin %> ${step.name} --limit compute1 --tags ntp`,
    ];
    static override flags = {
      ...playbookFlags,
      force: Flags.boolean({ description: 'start even if earlier steps have not succeeded (recorded in the journal)' }),
      resume: Flags.boolean({ description: 'after a failure or interrupt: re-run only the failed/unreachable hosts, from the start of the play they stopped in' }),
    };

    async run(): Promise<void> {
      const { flags } = await this.parse(StepCommand);
      const { runStep } = await import('../app/step.js');
      const code = await runStep(step.name, flags, (l) => process.stdout.write(l + '\n'));
      if (code !== 0) this.exit(code);
    }
  };
}

export const STEP_COMMANDS: Record<string, typeof Command> = Object.fromEntries(STEPS.map((s, i) => [s.name, stepCommand(s, i)]));
