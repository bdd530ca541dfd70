/** run.cfg plus the vault passwords from every source the flags and run.cfg name (one place for both uses). */
import { loadRunConfig, type RunConfig } from '../config/config.js';
import { VaultSecrets } from '../vault/secrets.js';

export interface SecretFlagValues {
  config?: string;
  'vault-password-file'?: string[];
  'vault-id'?: string[];
  'ask-vault-pass'?: boolean;
}

export async function configAndSecrets(flags: SecretFlagValues, opts: { newPassword?: boolean } = {}): Promise<{ config: RunConfig; secrets: VaultSecrets }> {
  const config = loadRunConfig({ configPath: flags.config });
  // Sources from run.cfg are lazy: a missing .vaultpass only matters when a vaulted value is read.
  const secrets = await VaultSecrets.load({
    config,
    vaultIds: flags['vault-id'],
    passwordFiles: flags['vault-password-file'],
    askVaultPass: flags['ask-vault-pass'],
    newPassword: opts.newPassword,
  });
  return { config, secrets };
}
