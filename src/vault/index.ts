/**
 * The vault layer's public surface for the rest of the runner (vars, renderers, commands).
 *
 * For the vars layer:
 *   const secrets = await VaultSecrets.load({ config, vaultIds, passwordFiles, askVaultPass });
 *   loadProject({ config, varsFileOptions: vaultVarsOptions(secrets) })
 * gives `!vault` values bound to `secrets` (lazy: `value.reveal()` decrypts on first read) and decrypts
 * whole-file vaults, registering every decrypted string with the redactor.
 * For renderers and loggers: `redact(text)`.
 */
import { isVaultText } from './codec.js';
import { parseSecretYaml } from './file.js';
import { makeVaultTag } from './inline.js';
import type { VaultSecrets } from './secrets.js';

export { isVaultText, encryptVault, parseEnvelope, VAULT_HEADER, DEFAULT_VAULT_ID } from './codec.js';
export * from './errors.js';
export { VaultedValue, isVaultedValue, vaultTag, makeVaultTag, attachVaultPositions, parseYamlWithVault, VAULTED_MARKER, type RevealContext } from './inline.js';
export { redact, registerSecret, registerSecretsIn, containsSecret, REDACTED } from './redact.js';
export { VaultSecrets, VaultSecret, parseVaultId, type LoadVaultSecretsOptions, type DecryptResult } from './secrets.js';
export { loadVaultYaml, decryptFile } from './file.js';

/** Options for the vars layer's YAML loading: the bound `!vault` tag and the whole-file decryptor. */
export function vaultVarsOptions(secrets: VaultSecrets): {
  customTags: ReturnType<typeof makeVaultTag>[];
  decryptFile: (text: string, file: string) => string;
} {
  return {
    customTags: [makeVaultTag(secrets)],
    decryptFile(text: string, file: string): string {
      if (!isVaultText(text)) return text;
      const r = secrets.decrypt(text, { file });
      const plain = r.plaintext.toString('utf8');
      r.plaintext.fill(0);
      // Register every value of the file as a secret. A syntax error is left for the caller's parser to report.
      try {
        parseSecretYaml(plain, file);
      } catch {
        /* reported by the caller */
      }
      return plain;
    },
  };
}
