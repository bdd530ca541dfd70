/** Flags and set-up shared by the `vault` commands (not a command itself). */
import { Flags } from '@oclif/core';
import type { RunConfig } from '../../config/config.js';
import type { VaultSecrets } from '../../vault/secrets.js';

/** Password sources, as ansible-vault spells them. `multipleNonGreedy` keeps them from eating FILE arguments. */
export const vaultSourceFlags = {
  'vault-id': Flags.string({
    multiple: true,
    multipleNonGreedy: true,
    description: 'vault identity LABEL@SOURCE, SOURCE = password file, executable (its stdout) or "prompt" (repeatable)',
  }),
  'vault-password-file': Flags.string({
    multiple: true,
    multipleNonGreedy: true,
    aliases: ['vault-pass-file'],
    description: 'vault password file, or an executable printing it (= --vault-id default@FILE; repeatable)',
  }),
  'ask-vault-pass': Flags.boolean({ char: 'J', aliases: ['ask-vault-password'], description: 'ask for the vault password on the terminal (no echo)' }),
};

export const commonFlags = {
  config: Flags.string({ description: 'config file (default: $RUN_CONFIG, ./run.cfg, <install dir>/run.cfg)' }),
  debug: Flags.boolean({ description: 'debug lines on stderr (same as RUN_DEBUG=1); never shows a secret' }),
};

export const encryptIdFlag = {
  'encrypt-vault-id': Flags.string({ description: 'the vault id to encrypt with when several are given' }),
};

export interface SourceFlagValues {
  'vault-id'?: string[];
  'vault-password-file'?: string[];
  'ask-vault-pass'?: boolean;
  config?: string;
  debug?: boolean;
}

/** Config + secrets for a vault command. Heavy modules load here, not at CLI start-up. */
export async function setup(flags: SourceFlagValues, opts: { newPassword?: boolean } = {}): Promise<{ config: RunConfig; secrets: VaultSecrets }> {
  const { setVaultDebug } = await import('../../vault/log.js');
  const { configAndSecrets } = await import('../../app/secrets.js');
  if (flags.debug) setVaultDebug(true);
  return configAndSecrets(flags, opts);
}

/** Write to stdout and wait until it is flushed (large outputs into a pipe). */
export function writeOut(data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(data, (e) => (e ? reject(e) : resolve())));
}

export const note = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};
