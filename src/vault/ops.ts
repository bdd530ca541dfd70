/**
 * Vault use cases behind `./run vault …` (the commands only parse flags and print). Every file written is
 * written atomically (temp in the same directory, fsync, rename) with mode 0600; decrypted text is only ever
 * returned to the caller (for stdout) or written where the user explicitly asked (`decrypt` in place / --output).
 */
import { resolve } from 'node:path';
import { stringify as yamlStringify } from 'yaml';
import { writeFileAtomic } from '../core/fsutil.js';
import { isVaultText } from './codec.js';
import { VaultNotEncryptedError } from './errors.js';
import { decryptFile, parseSecretYaml, readFileOrThrow } from './file.js';
import { formatInlineVault, isVaultedValue, vaultTag } from './inline.js';
import { audit } from './log.js';
import { lookupPath } from './path.js';
import { registerSecret } from './redact.js';
import type { VaultSecret, VaultSecrets } from './secrets.js';

export interface OpContext {
  secrets: VaultSecrets;
  /** log directory for the audit trail (run.cfg log_path) */
  logDir?: string;
}

/** Decrypted bytes of a vault file (for `view` / `decrypt --output -`). */
export function viewFile(file: string, ctx: OpContext): Buffer {
  const r = decryptFile(file, ctx.secrets);
  audit(ctx.logDir, { op: 'view', file: resolve(file), vault_id: r.fileLabel, result: 'ok' });
  return r.plaintext;
}

/** Encrypt a plaintext file in place (or to `output`; '-' returns the envelope instead of writing). */
export function encryptFile(file: string, ctx: OpContext, opts: { encryptVaultId?: string; output?: string } = {}): { label: string; envelope?: string; written?: string } {
  const data = readFileOrThrow(file);
  if (isVaultText(data)) throw new VaultNotEncryptedError('already vault-encrypted', { pos: { file }, hint: 'use ./run vault rekey to change its password' });
  const secret = ctx.secrets.encryptionSecret(opts.encryptVaultId);
  const envelope = secret.encrypt(data);
  data.fill(0);
  if (opts.output === '-') return { label: secret.label, envelope };
  const dest = opts.output ?? file;
  writeFileAtomic(dest, envelope, 0o600);
  audit(ctx.logDir, { op: 'encrypt', file: resolve(dest), vault_id: secret.label, result: 'ok' });
  return { label: secret.label, written: dest };
}

/** Decrypt in place (or to `output`; '-' returns the plaintext instead of writing). */
export function decryptFileOp(file: string, ctx: OpContext, opts: { output?: string } = {}): { label: string; plaintext?: Buffer; written?: string } {
  const r = decryptFile(file, ctx.secrets);
  if (opts.output === '-') {
    audit(ctx.logDir, { op: 'decrypt', file: resolve(file), output: 'stdout', vault_id: r.fileLabel, result: 'ok' });
    return { label: r.fileLabel, plaintext: r.plaintext };
  }
  const dest = opts.output ?? file;
  writeFileAtomic(dest, r.plaintext, 0o600);
  r.plaintext.fill(0);
  audit(ctx.logDir, { op: 'decrypt', file: resolve(file), output: resolve(dest), vault_id: r.fileLabel, result: 'ok' });
  return { label: r.fileLabel, written: dest };
}

/**
 * Re-encrypt with a new password. The vault id stays unless `newLabel` is given (ansible-vault instead writes
 * the new secret's id, `default` for --new-vault-password-file). The plaintext exists only in memory.
 */
export function rekeyFile(file: string, ctx: OpContext, newSecret: VaultSecret, newLabel?: string): { from: string; to: string } {
  const r = decryptFile(file, ctx.secrets);
  const label = newLabel ?? r.fileLabel;
  const envelope = newSecret.encrypt(r.plaintext, label);
  r.plaintext.fill(0);
  writeFileAtomic(file, envelope, 0o600);
  audit(ctx.logDir, { op: 'rekey', file: resolve(file), vault_id_from: r.fileLabel, vault_id_to: label, result: 'ok' });
  return { from: r.fileLabel, to: label };
}

/** `name: !vault |` block for one value. */
export function encryptString(value: string, ctx: OpContext, opts: { name?: string; encryptVaultId?: string } = {}): { label: string; block: string } {
  registerSecret(value);
  const secret = ctx.secrets.encryptionSecret(opts.encryptVaultId);
  const block = formatInlineVault(secret.encrypt(value), opts.name);
  audit(ctx.logDir, { op: 'encrypt-string', name: opts.name, vault_id: secret.label, result: 'ok' });
  return { label: secret.label, block };
}

/**
 * `vault get /path`: one value out of a vault file, decrypted in memory. Scalars print as their text,
 * maps and lists as YAML; an optional path that is missing gives `undefined` (print nothing, exit 0).
 * A plaintext YAML file is read as is (an inline `!vault` value at the path is decrypted).
 */
export function getPath(file: string, path: string, ctx: OpContext): string | undefined {
  const data = readFileOrThrow(file);
  let text: string;
  let label: string | undefined;
  if (isVaultText(data)) {
    const r = ctx.secrets.decrypt(data.toString('latin1'), { file });
    text = r.plaintext.toString('utf8');
    r.plaintext.fill(0);
    label = r.fileLabel;
  } else {
    text = data.toString('utf8');
  }
  const doc = parseSecretYaml(text, file, label !== undefined);
  const res = lookupPath(doc, path, file);
  audit(ctx.logDir, { op: 'get', file: resolve(file), path, vault_id: label, result: res.found ? 'ok' : 'missing-optional' });
  if (!res.found) return undefined;
  // An inline `!vault` value (in a plaintext vars file) is decrypted; vaulted values inside a map stay
  // `!vault` blocks in the YAML output.
  const v = isVaultedValue(res.value) ? res.value.reveal(ctx.secrets, { name: path }) : res.value;
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v !== 'object') return String(v);
  if (v instanceof Date) return v.toISOString();
  return yamlStringify(v, { version: '1.1', lineWidth: 0, customTags: [vaultTag] }).replace(/\n$/, '');
}
