import { Args, Command } from '@oclif/core';
import { commonFlags, note, setup, vaultSourceFlags } from './common.js';

export default class VaultEdit extends Command {
  static override summary = 'Edit a vault file in $EDITOR; the decrypted copy lives in a private dir (/dev/shm) and is wiped.';
  static override description =
    'Decrypts to a 0600 file in a fresh 0700 directory (under /dev/shm when available), runs $EDITOR (default vi), ' +
    're-encrypts with the same password and vault id only if the text changed, and wipes the directory afterwards — ' +
    'also when the editor fails or the command is interrupted.';
  static override examples = ['<%= config.bin %> vault edit group_vars/all/vault.yml', 'EDITOR=nano <%= config.bin %> vault edit group_vars/all/vault.yml'];
  static override args = { file: Args.string({ required: true, description: 'vault-encrypted file' }) };
  static override flags = { ...vaultSourceFlags, ...commonFlags };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(VaultEdit);
    const { config, secrets } = await setup(flags);
    const { editVaultFile } = await import('../../vault/edit.js');
    const r = await editVaultFile(args.file, secrets, { logDir: config.get('log_path') });
    note(r.changed ? `saved ${args.file} (re-encrypted, vault id '${r.label}')` : `no changes: ${args.file} left as it was`);
  }
}
