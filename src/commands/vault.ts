import { Command, Flags } from '@oclif/core';
import { commonFlags, note } from './vault/common.js';

export default class Vault extends Command {
  static override summary = 'Generate the cluster secrets into group_vars/all/vault.yml (encrypted) and create .vaultpass.';
  static override description =
    'Asks for the user password (SSH and sudo) and the OpenStack admin password, each twice without echo, generates ' +
    'every other secret (service passwords, barbican KEK, ceph secret UUID, nova SSH key pair, PowerFlex admin password ' +
    'and LIA token), encrypts the file in memory and writes only ciphertext. Refuses when .vaultpass exists. ' +
    'Without a terminal, the two passwords come from RUN_VAULT_USER_PASSWORD / RUN_VAULT_ADMIN_PASSWORD or from ' +
    'two lines on stdin. Other vault operations: ./run vault view|edit|encrypt|decrypt|rekey|encrypt-string|get.';
  static override examples = [
    '<%= config.bin %> vault',
    '<%= config.bin %> vault --user clex',
    "printf '%s\\n%s\\n' \"$USER_PW\" \"$ADMIN_PW\" | <%= config.bin %> vault",
    'RUN_VAULT_USER_PASSWORD=… RUN_VAULT_ADMIN_PASSWORD=… <%= config.bin %> vault',
  ];
  static override flags = {
    ...commonFlags,
    user: Flags.string({ description: 'user name shown in the first prompt (default: $USER)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Vault);
    const { loadRunConfig } = await import('../config/config.js');
    const { setVaultDebug } = await import('../vault/log.js');
    const { createVault, refuseIfPasswordFileExists, checkGivenPassword } = await import('../vault/create.js');
    const { readNewSecret, readStdin } = await import('../vault/prompt.js');
    const { registerSecret } = await import('../vault/redact.js');
    const { UsageError } = await import('../core/errors.js');
    if (flags.debug) setVaultDebug(true);
    const config = loadRunConfig({ configPath: flags.config });
    const passwordFile = config.get('vault_password_file');
    // Refuse before asking anything.
    refuseIfPasswordFileExists(passwordFile);
    const user = flags.user ?? process.env.USER ?? process.env.LOGNAME ?? 'user';

    // Environment first (taken out of the environment at once, so no child process inherits them).
    let userPassword = process.env.RUN_VAULT_USER_PASSWORD;
    let adminPassword = process.env.RUN_VAULT_ADMIN_PASSWORD;
    delete process.env.RUN_VAULT_USER_PASSWORD;
    delete process.env.RUN_VAULT_ADMIN_PASSWORD;
    for (const v of [userPassword, adminPassword]) if (v) registerSecret(v);

    if (userPassword === undefined || adminPassword === undefined) {
      if (!process.stdin.isTTY) {
        // Automation: the missing values, in order, one per line on stdin.
        const text = (await readStdin(64 * 1024)).toString('utf8');
        const lines = text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
        if (userPassword === undefined) userPassword = lines.shift();
        if (adminPassword === undefined) adminPassword = lines.shift();
        if (userPassword === undefined || adminPassword === undefined) {
          throw new UsageError('not enough lines on stdin', {
            hint: 'give the user password and the OpenStack admin password on two lines, or set RUN_VAULT_USER_PASSWORD / RUN_VAULT_ADMIN_PASSWORD',
          });
        }
      } else {
        if (userPassword === undefined) userPassword = await readNewSecret(`${user} password: `, `${user} password (again): `, { strip: false });
        if (adminPassword === undefined) {
          adminPassword = await readNewSecret('openstack admin password: ', 'openstack admin password (again): ', { strip: false });
        }
      }
    }
    registerSecret(userPassword);
    registerSecret(adminPassword);
    checkGivenPassword(`${user} password`, userPassword);
    checkGivenPassword('openstack admin password', adminPassword);

    const r = createVault({ config, userPassword, adminPassword });
    if (r.replacedVaultFile) note(`replaced the previous ${r.vaultFile}`);
    this.log(`wrote ${r.vaultFile} (vault-encrypted, mode 0600) with ${r.keys.length} secrets:`);
    for (const k of r.keys) this.log(`  ${k}`);
    this.log(`wrote ${r.passwordFile} (the vault password, mode 0400) — keep a copy somewhere safe; without it the secrets are lost`);
  }
}
