import { ExitCode, RunError, type RunErrorOptions } from '../core/errors.js';
import type { ExecResult, FailureReason } from './types.js';

/** A host could not be reached, or the link broke (exit 3, as Ansible's UNREACHABLE). */
export class TransportError extends RunError {
  readonly reason: FailureReason;
  constructor(reason: FailureReason, message: string, opts: RunErrorOptions = {}) {
    super(message, { ...opts, exitCode: opts.exitCode ?? ExitCode.unreachable });
    this.reason = reason;
  }
}

/** Privilege escalation failed: wrong password, password required, requiretty, not in sudoers (exit 2). */
export class BecomeError extends TransportError {
  constructor(message: string, opts: RunErrorOptions = {}) {
    super('become', message, { ...opts, exitCode: opts.exitCode ?? ExitCode.hostFailed });
  }
}

/** The per-command timeout expired; the remote process group was killed (exit 2: the host is still reachable). */
export class CommandTimeoutError extends TransportError {
  readonly partial: ExecResult;
  constructor(message: string, partial: ExecResult, opts: RunErrorOptions = {}) {
    super('command-timeout', message, { ...opts, exitCode: opts.exitCode ?? ExitCode.hostFailed });
    this.partial = partial;
  }
}

export function isTransportError(e: unknown): e is TransportError {
  return e instanceof TransportError;
}
