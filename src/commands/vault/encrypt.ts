import { Args, Command, Flags } from '@oclif/core';
import { commonFlags, encryptIdFlag, note, setup, vaultSourceFlags, writeOut } from './common.js';

export default class VaultEncrypt extends Command {
  static override summary = 'Encrypt plaintext files in place (atomic, mode 0600).';
  static override examples = [
    '<%= config.bin %> vault encrypt group_vars/all/extra-secrets.yml',
    '<%= config.bin %> vault encrypt --vault-id prod@prompt secrets.yml',
    '<%= config.bin %> vault encrypt secrets.yml --output secrets.vault.yml',
  ];
  static override strict = false;
  static override args = { file: Args.string({ required: true, description: 'plaintext file(s)' }) };
  static override flags = {
    ...vaultSourceFlags,
    ...encryptIdFlag,
    ...commonFlags,
    output: Flags.string({ description: "write the result here instead of in place ('-' = stdout); one input file only" }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(VaultEncrypt);
    const files = argv as string[];
    const { UsageError } = await import('../../core/errors.js');
    if (flags.output && files.length > 1) throw new UsageError('--output works with one input file only');
    const { config, secrets } = await setup(flags, { newPassword: true });
    const { encryptFile } = await import('../../vault/ops.js');
    for (const f of files) {
      const r = encryptFile(f, { secrets, logDir: config.get('log_path') }, { encryptVaultId: flags['encrypt-vault-id'], output: flags.output });
      if (r.envelope !== undefined) await writeOut(r.envelope);
      else note(`encrypted ${r.written} (vault id '${r.label}')`);
    }
  }
}
