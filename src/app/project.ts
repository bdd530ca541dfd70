/** Opens the project (config + inventory + vars + vault) from command-line flags. */
import type { ProjectFlagValues } from '../commands/flags.js';
import { loadProject, type Project } from '../vars/project.js';
import { VaultedValue, vaultVarsOptions } from '../vault/index.js';
import { configAndSecrets } from './secrets.js';

export async function openProject(flags: ProjectFlagValues): Promise<Project> {
  const { config, secrets } = await configAndSecrets(flags);
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
