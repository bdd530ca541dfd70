/** Flags shared by every command that reads the inventory and variables. */
import { Flags } from '@oclif/core';

export const projectFlags = {
  inventory: Flags.string({ char: 'i', description: 'inventory file or directory (default: run.cfg `inventory`)' }),
  'extra-vars': Flags.string({
    char: 'e',
    multiple: true,
    description: 'extra variables, highest precedence: key=value, JSON/YAML, or @file (repeatable)',
  }),
  config: Flags.string({ description: 'config file (default: $RUN_CONFIG, ./run.cfg, <install dir>/run.cfg)' }),
  'vault-password-file': Flags.string({ multiple: true, description: 'vault password file (executable: its stdout)' }),
  'vault-id': Flags.string({ multiple: true, description: 'vault identity label@source (source: file, executable, prompt)' }),
  'ask-vault-pass': Flags.boolean({ description: 'prompt for the vault password' }),
};

export interface ProjectFlagValues {
  inventory?: string;
  'extra-vars'?: string[];
  config?: string;
  'vault-password-file'?: string[];
  'vault-id'?: string[];
  'ask-vault-pass'?: boolean;
}

/** Flags of everything that runs tasks (playbook, steps, exec). */
export const runFlags = {
  limit: Flags.string({ char: 'l', description: 'further limit hosts: group, host, a:b, a:&b, a:!b, g[0:2], web*, ~regex' }),
  tags: Flags.string({ char: 't', multiple: true, description: 'only tasks with these tags (comma separated or repeated)' }),
  'skip-tags': Flags.string({ multiple: true, description: 'skip tasks with these tags' }),
  check: Flags.boolean({ char: 'C', description: 'check mode: report what would change, change nothing' }),
  diff: Flags.boolean({ char: 'D', description: 'show the differences in files being changed' }),
  verbose: Flags.integer({ description: 'verbosity (-v, -vv, -vvv): results, task paths, commands run', default: 0, min: 0, max: 4 }),
  forks: Flags.integer({ char: 'f', description: 'hosts worked on in parallel (default: run.cfg forks)', min: 1 }),
};

export const playbookFlags = {
  ...projectFlags,
  ...runFlags,
  'start-at-task': Flags.string({ description: 'start at the task with this name (or file:line)' }),
};
