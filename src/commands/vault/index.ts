/** The vault command family, spread into the CLI's command map (src/commands/index.ts). */
import Vault from '../vault.js';
import VaultDecrypt from './decrypt.js';
import VaultEdit from './edit.js';
import VaultEncrypt from './encrypt.js';
import VaultEncryptString from './encrypt-string.js';
import VaultGet from './get.js';
import VaultRekey from './rekey.js';
import VaultView from './view.js';

export const VAULT_COMMANDS = {
  vault: Vault,
  'vault:view': VaultView,
  'vault:edit': VaultEdit,
  'vault:encrypt': VaultEncrypt,
  'vault:decrypt': VaultDecrypt,
  'vault:rekey': VaultRekey,
  'vault:encrypt-string': VaultEncryptString,
  'vault:get': VaultGet,
};
