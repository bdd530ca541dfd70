import { Args, Command, Flags } from '@oclif/core';
import { commonFlags, setup, vaultSourceFlags, writeOut } from './common.js';

export default class VaultGet extends Command {
  static override summary = 'Print one value of a vault file by path (BOSH `int --path` style), decrypted in memory.';
  static override description =
    'PATH: /key, /list/0, /list/name=value, a trailing ? makes a segment optional (missing → empty output, exit 0), ' +
    '~1 and ~0 escape / and ~. Strings print raw, maps and lists as YAML. Default file: group_vars/all/vault.yml.';
  static override examples = [
    '<%= config.bin %> vault get /vault_keystone_password',
    'PW=$(<%= config.bin %> vault get /vault_mariadb_root_password)',
    '<%= config.bin %> vault get /vault_pfx_lia_token? --file group_vars/all/vault.yml',
  ];
  static override args = { path: Args.string({ required: true, description: 'path, e.g. /vault_keystone_password' }) };
  static override flags = {
    ...vaultSourceFlags,
    ...commonFlags,
    file: Flags.string({ char: 'f', description: 'vault file (default: <project>/group_vars/all/vault.yml)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(VaultGet);
    const { config, secrets } = await setup(flags);
    const { getPath } = await import('../../vault/ops.js');
    const { defaultVaultFile } = await import('../../vault/create.js');
    const file = flags.file ?? defaultVaultFile(config);
    const v = getPath(file, args.path, { secrets, logDir: config.get('log_path') });
    if (v !== undefined) await writeOut(`${v}\n`);
  }
}
