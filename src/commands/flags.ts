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
