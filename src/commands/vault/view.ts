import { Args, Command } from '@oclif/core';
import { commonFlags, setup, vaultSourceFlags, writeOut } from './common.js';

export default class VaultView extends Command {
  static override summary = 'Print the decrypted content of a vault file (decrypted in memory, nothing written).';
  static override examples = [
    '<%= config.bin %> vault view group_vars/all/vault.yml',
    '<%= config.bin %> vault view --vault-id prod@prompt secrets/prod.yml | less',
  ];
  static override args = { file: Args.string({ required: true, description: 'vault-encrypted file' }) };
  static override flags = { ...vaultSourceFlags, ...commonFlags };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(VaultView);
    const { config, secrets } = await setup(flags);
    const { viewFile } = await import('../../vault/ops.js');
    const plain = viewFile(args.file, { secrets, logDir: config.get('log_path') });
    await writeOut(plain);
    plain.fill(0);
  }
}
