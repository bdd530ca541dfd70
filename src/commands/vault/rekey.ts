import { Args, Command, Flags } from '@oclif/core';
import { commonFlags, note, setup, vaultSourceFlags } from './common.js';

export default class VaultRekey extends Command {
  static override summary = 'Re-encrypt vault files with a new password (atomic; the plaintext stays in memory).';
  static override description =
    'The current password comes from the usual sources; the new one from --new-vault-password-file, --new-vault-id ' +
    'LABEL@SOURCE, or a prompt (asked twice). The vault id stays unless --new-vault-id names another.';
  static override examples = [
    '<%= config.bin %> vault rekey group_vars/all/vault.yml',
    '<%= config.bin %> vault rekey --new-vault-password-file new.pass group_vars/all/vault.yml',
    '<%= config.bin %> vault rekey --vault-id prod@old.pass --new-vault-id prod@new.pass secrets/prod.yml',
  ];
  static override strict = false;
  static override args = { file: Args.string({ required: true, description: 'vault-encrypted file(s)' }) };
  static override flags = {
    ...vaultSourceFlags,
    ...commonFlags,
    'new-vault-password-file': Flags.string({ description: 'file (or executable) with the new password', exclusive: ['new-vault-id'] }),
    'new-vault-id': Flags.string({ description: 'new vault identity LABEL@SOURCE (SOURCE: file, executable, prompt)' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(VaultRekey);
    const files = argv as string[];
    const { config, secrets } = await setup(flags);
    const { VaultSecrets, parseVaultId } = await import('../../vault/secrets.js');
    const { rekeyFile } = await import('../../vault/ops.js');
    const newId = flags['new-vault-id'];
    const newFile = flags['new-vault-password-file'];
    const fresh = await VaultSecrets.load({
      ignoreConfig: true,
      newPassword: true,
      vaultIds: newId ? [newId] : [],
      passwordFiles: newFile ? [newFile] : [],
      askVaultPass: !newId && !newFile,
    });
    const newSecret = fresh.encryptionSecret();
    const newLabel = newId && newId.includes('@') ? parseVaultId(newId).label : undefined;
    for (const f of files) {
      const r = rekeyFile(f, { secrets, logDir: config.get('log_path') }, newSecret, newLabel);
      note(`rekeyed ${f} (vault id '${r.from}'${r.to !== r.from ? ` → '${r.to}'` : ''})`);
    }
  }
}
