/** Opens the project (config + inventory + vars + vault) from command-line flags. */
import { loadRunConfig } from '../config/config.js';
import type { ProjectFlagValues } from '../commands/flags.js';
import { loadProject, type Project } from '../vars/project.js';
import { VaultedValue, VaultSecrets, vaultVarsOptions } from '../vault/index.js';

export async function openProject(flags: ProjectFlagValues): Promise<Project> {
  const config = loadRunConfig({ configPath: flags.config });
  // Vault sources from run.cfg are lazy: a missing .vaultpass only matters when a vaulted value is read.
  const secrets = await VaultSecrets.load({
    config,
    vaultIds: flags['vault-id'],
    passwordFiles: flags['vault-password-file'],
    askVaultPass: flags['ask-vault-pass'],
  });
  return loadProject({
    config,
    inventoryPath: flags.inventory,
    extraVars: flags['extra-vars'],
    varsFileOptions: {
      ...vaultVarsOptions(secrets),
      // `!vault` values in vars files and inventories stay encrypted until read (VarScope reveals them).
      scalarTags: { '!vault': (text, pos) => new VaultedValue(text, pos, undefined, secrets) },
    },
  });
}
