/**
 * Typed, user-facing errors. Every error a user can cause carries where it happened (file:line:col),
 * optionally the host, and what to do about it. The CLI maps error kinds to exit codes that match
 * ansible-playbook's, so wrappers written for Ansible keep working.
 */

export const ExitCode = {
  ok: 0,
  /** generic failure that is not a host failure (e.g. a refused step, a vault error) */
  error: 1,
  hostFailed: 2,
  unreachable: 3,
  parse: 4,
  usage: 5,
  interrupted: 99,
  unexpected: 250,
  // Vault failures (docs/vault.md), above ansible-playbook's codes so they never read as a host failure.
  vaultWrongPassword: 20,
  vaultCorrupted: 21,
  vaultUnknownId: 22,
  vaultPasswordSource: 23,
  vaultNotEncrypted: 24,
  vaultPathNotFound: 25,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A position in a user-editable source file. Lines and columns are 1-based. */
export interface SourcePos {
  file: string;
  line?: number;
  col?: number;
}

export function formatPos(pos: SourcePos): string {
  let s = pos.file;
  if (pos.line !== undefined) {
    s += `:${pos.line}`;
    if (pos.col !== undefined) s += `:${pos.col}`;
  }
  return s;
}

export interface RunErrorOptions {
  pos?: SourcePos;
  host?: string;
  hint?: string;
  exitCode?: ExitCode;
  cause?: unknown;
}

/** Base class of every error that is the user's to fix (bad input, refused action). Never shows a stack. */
export class RunError extends Error {
  readonly pos?: SourcePos;
  readonly host?: string;
  readonly hint?: string;
  readonly exitCode: ExitCode;

  constructor(message: string, opts: RunErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.pos = opts.pos;
    this.host = opts.host;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? ExitCode.error;
  }
}

/** Malformed inventory, vars, config, playbook or template (exit 4, as ansible-playbook). */
export class ParseError extends RunError {
  constructor(message: string, opts: RunErrorOptions = {}) {
    super(message, { ...opts, exitCode: opts.exitCode ?? ExitCode.parse });
  }
}

/** Bad command-line usage or option values (exit 5, as ansible-playbook). */
export class UsageError extends RunError {
  constructor(message: string, opts: RunErrorOptions = {}) {
    super(message, { ...opts, exitCode: opts.exitCode ?? ExitCode.usage });
  }
}

/** Renders a RunError for a terminal: `file:line:col: host: message` then `  hint: …`. */
export function formatRunError(e: RunError): string {
  const head: string[] = [];
  if (e.pos) head.push(formatPos(e.pos));
  if (e.host) head.push(`host ${e.host}`);
  let s = `ERROR: ${head.length ? head.join(': ') + ': ' : ''}${e.message}`;
  if (e.hint) s += `\n  hint: ${e.hint}`;
  return s;
}

export function isRunError(e: unknown): e is RunError {
  return e instanceof RunError;
}
