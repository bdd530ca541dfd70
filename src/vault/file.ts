/**
 * Vault files on disk: read, decrypt, parse. YAML errors in decrypted text are reported by position and
 * error code only: the yaml package's messages quote the offending source line, which here is secret.
 */
import { readFileSync } from 'node:fs';
import { ParseError, RunError } from '../core/errors.js';
import { isVaultText } from './codec.js';
import { VaultNotEncryptedError } from './errors.js';
import { parseYamlWithVault } from './inline.js';
import { registerSecretsIn } from './redact.js';
import type { DecryptResult, VaultSecrets } from './secrets.js';

export function readFileOrThrow(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RunError('file not found', { pos: { file: path } });
    if (code === 'EISDIR') throw new RunError('is a directory, not a file', { pos: { file: path } });
    throw new RunError(`cannot read the file: ${code ?? (e as Error).message}`, { pos: { file: path } });
  }
}

/** Decrypt a whole vault file; a plaintext file is an error naming the file. */
export function decryptFile(path: string, secrets: VaultSecrets): DecryptResult {
  const data = readFileOrThrow(path);
  if (!isVaultText(data)) {
    throw new VaultNotEncryptedError('not vault-encrypted (no $ANSIBLE_VAULT header)', { pos: { file: path }, hint: 'encrypt it with ./run vault encrypt' });
  }
  return secrets.decrypt(data.toString('latin1'), { file: path });
}

/**
 * Parse decrypted (secret) YAML. Every string value is registered with the redactor. A syntax error reports
 * file:line:col and the error code, never the text around it.
 */
export function parseSecretYaml(text: string, file: string, register = true): unknown {
  const { doc } = parseYamlWithVault(text, file);
  const err = doc.errors[0];
  if (err) {
    const at = err.linePos?.[0];
    throw new ParseError(`invalid YAML in the decrypted content (${err.code}); the text is not shown because it is secret`, {
      pos: { file, line: at?.line, col: at?.col },
      hint: 'fix it with ./run vault edit',
    });
  }
  const value = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  if (register) registerSecretsIn(value);
  return value;
}

/**
 * Read a YAML vars file that may be vault-encrypted as a whole; returns the data and the vault id used.
 * The strings of an encrypted file are registered as secrets; those of a plaintext file are not.
 */
export function loadVaultYaml(path: string, secrets: VaultSecrets): { value: unknown; encrypted: boolean; label?: string } {
  const data = readFileOrThrow(path);
  if (!isVaultText(data)) return { value: parseSecretYaml(data.toString('utf8'), path, false), encrypted: false };
  const r = secrets.decrypt(data.toString('latin1'), { file: path });
  const text = r.plaintext.toString('utf8');
  r.plaintext.fill(0);
  return { value: parseSecretYaml(text, path), encrypted: true, label: r.secret.label };
}
