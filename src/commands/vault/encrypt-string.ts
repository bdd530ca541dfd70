import { Command, Flags } from '@oclif/core';
import { commonFlags, encryptIdFlag, note, setup, vaultSourceFlags, writeOut } from './common.js';

export default class VaultEncryptString extends Command {
  static override summary = 'Print a `NAME: !vault |` block for one secret value, to paste into a vars file.';
  static override description =
    'The value comes from stdin (one trailing newline is dropped) or, on a terminal, from a hidden prompt asked twice. ' +
    'It is never taken from the command line, where ps and the shell history would show it — unless you insist ' +
    'with --unsafe-value, which warns.';
  static override examples = [
    "printf '%s' \"$DB_PW\" | <%= config.bin %> vault encrypt-string --name vault_db_password >> group_vars/all/vars.yml",
    '<%= config.bin %> vault encrypt-string --name vault_lia_token --vault-id pfx@prompt',
  ];
  static override strict = false;
  static override flags = {
    ...vaultSourceFlags,
    ...encryptIdFlag,
    ...commonFlags,
    name: Flags.string({ char: 'n', description: 'variable name for the block' }),
    'unsafe-value': Flags.string({ description: 'the value itself, on the command line (visible in ps and shell history; warns)' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(VaultEncryptString);
    const { UsageError } = await import('../../core/errors.js');
    if (argv.length) {
      // Not echoed: a positional argument here is most likely the secret itself.
      throw new UsageError(`encrypt-string takes no positional arguments (${argv.length} given; not shown)`, {
        hint: 'pipe the value on stdin or type it at the prompt; the command line is visible in ps and in the shell history',
      });
    }
    const { registerSecret } = await import('../../vault/redact.js');
    if (flags['unsafe-value'] !== undefined) registerSecret(flags['unsafe-value']);
    const { config, secrets } = await setup(flags, { newPassword: true });
    const { readNewSecret, readStdin } = await import('../../vault/prompt.js');
    const { encryptString } = await import('../../vault/ops.js');
    let value: string;
    if (flags['unsafe-value'] !== undefined) {
      note('WARNING: --unsafe-value puts the secret on the command line: it is visible in ps and kept in your shell history');
      value = flags['unsafe-value'];
    } else if (!process.stdin.isTTY) {
      value = (await readStdin()).toString('utf8').replace(/\r?\n$/, '');
    } else {
      value = await readNewSecret('String to encrypt (hidden): ', 'String to encrypt (again): ', { strip: false });
    }
    if (value === '') throw new UsageError('the value to encrypt is empty');
    registerSecret(value);
    const r = encryptString(value, { secrets, logDir: config.get('log_path') }, { name: flags.name, encryptVaultId: flags['encrypt-vault-id'] });
    await writeOut(`${r.block}\n`);
    note(`Encryption successful (vault id '${r.label}')`);
  }
}
