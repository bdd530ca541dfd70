/**
 * Vault errors. Each failure a user can meet has its own class, message shape and exit code, so a script can
 * tell "wrong password" from "damaged file" from "no password for that vault id" from "password file missing"
 * without parsing text. Messages name the file (and line / variable for inline values) and the vault id, never
 * a secret: every message and hint is passed through `redact()` as a last line of defence.
 */
import { ExitCode, RunError, type RunErrorOptions, type SourcePos } from '../core/errors.js';
import { redact } from './redact.js';

/**
 * Exit codes of vault failures (documented in docs/vault.md). They sit above ansible-playbook's codes
 * (0-5, 99, 250) so they never collide with a host failure; they are part of `ExitCode` in src/core.
 */
export const VaultExit = {
  /** no given password decrypts the file; the envelope is intact */
  wrongPassword: ExitCode.vaultWrongPassword,
  /** the envelope is malformed, or a password decrypts it but the HMAC does not match (altered after encryption) */
  corrupted: ExitCode.vaultCorrupted,
  /** the file names a vault id we have no password for, and none of the other passwords fits */
  unknownVaultId: ExitCode.vaultUnknownId,
  /** a password source is missing or failed: file not found, script failed, empty password, no terminal to ask */
  passwordSource: ExitCode.vaultPasswordSource,
  /** the file is not vault-encrypted (view/decrypt/edit/rekey) or already is (encrypt) */
  notVault: ExitCode.vaultNotEncrypted,
  /** `vault get`: the path does not exist in the document */
  pathNotFound: ExitCode.vaultPathNotFound,
} as const;


/** What was being decrypted, for messages: the file, where in it (inline values), and the variable. */
export interface VaultContext {
  file: string;
  line?: number;
  col?: number;
  /** variable name (inline `!vault` values), e.g. `vault_keystone_password` or `db.password` */
  name?: string;
}

export function ctxPos(ctx: VaultContext): SourcePos {
  return { file: ctx.file, line: ctx.line, col: ctx.col };
}

/** "variable 'x' in" prefix for inline values, empty for whole files. */
export function what(ctx: VaultContext): string {
  return ctx.name ? `variable '${ctx.name}': ` : '';
}

export class VaultError extends RunError {
  constructor(message: string, exit: ExitCode, opts: Omit<RunErrorOptions, 'exitCode'> = {}) {
    super(redact(message), { ...opts, hint: opts.hint === undefined ? undefined : redact(opts.hint), exitCode: exit });
  }
}

export class VaultWrongPasswordError extends VaultError {
  constructor(message: string, opts: Omit<RunErrorOptions, 'exitCode'> = {}) {
    super(message, VaultExit.wrongPassword, opts);
  }
}

export class VaultCorruptError extends VaultError {
  constructor(message: string, opts: Omit<RunErrorOptions, 'exitCode'> = {}) {
    super(message, VaultExit.corrupted, opts);
  }
}

export class VaultUnknownIdError extends VaultError {
  constructor(message: string, opts: Omit<RunErrorOptions, 'exitCode'> = {}) {
    super(message, VaultExit.unknownVaultId, opts);
  }
}

export class VaultPasswordSourceError extends VaultError {
  constructor(message: string, opts: Omit<RunErrorOptions, 'exitCode'> = {}) {
    super(message, VaultExit.passwordSource, opts);
  }
}

export class VaultNotEncryptedError extends VaultError {
  constructor(message: string, opts: Omit<RunErrorOptions, 'exitCode'> = {}) {
    super(message, VaultExit.notVault, opts);
  }
}

export class VaultPathNotFoundError extends VaultError {
  constructor(message: string, opts: Omit<RunErrorOptions, 'exitCode'> = {}) {
    super(message, VaultExit.pathNotFound, opts);
  }
}

/** Ctrl-C at a prompt or a signal during `vault edit`: exit 99 like ansible-playbook. */
export class VaultInterruptedError extends RunError {
  constructor(message = 'interrupted') {
    super(message, { exitCode: ExitCode.interrupted });
  }
}
