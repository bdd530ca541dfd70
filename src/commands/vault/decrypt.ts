import { Args, Command, Flags } from '@oclif/core';
import { commonFlags, note, setup, vaultSourceFlags, writeOut } from './common.js';

export default class VaultDecrypt extends Command {
  static override summary = 'Decrypt vault files in place (atomic, mode 0600), or to stdout with --output -.';
  static override description = 'In place, the plaintext is on disk afterwards: prefer `vault view`, `vault get` or `--output -`.';
  static override examples = [
    '<%= config.bin %> vault decrypt --output - group_vars/all/vault.yml | grep keystone',
    '<%= config.bin %> vault decrypt old-secrets.yml',
  ];
  static override strict = false;
  static override args = { file: Args.string({ required: true, description: 'vault-encrypted file(s)' }) };
  static override flags = {
    ...vaultSourceFlags,
    ...commonFlags,
    output: Flags.string({ description: "write the plaintext here instead of in place ('-' = stdout); one input file only" }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(VaultDecrypt);
    const files = argv as string[];
    const { UsageError } = await import('../../core/errors.js');
    if (flags.output && files.length > 1) throw new UsageError('--output works with one input file only');
    const { config, secrets } = await setup(flags);
    const { decryptFileOp } = await import('../../vault/ops.js');
    for (const f of files) {
      const r = decryptFileOp(f, { secrets, logDir: config.get('log_path') }, { output: flags.output });
      if (r.plaintext) {
        await writeOut(r.plaintext);
        r.plaintext.fill(0);
      } else note(`decrypted ${f} → ${r.written} (plaintext on disk, mode 0600)`);
    }
  }
}
