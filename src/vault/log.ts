/**
 * Vault diagnostics. Two channels, both redacted:
 * - debug lines on stderr when RUN_DEBUG is set (or `--debug`): which password sources were loaded, which vault
 *   id was tried on which file, timings. Never a password or a decrypted value.
 * - an audit trail, `<log_path>/vault.log`, one JSON object per line for every change to a vault file
 *   (who, when, which file, which vault id, what happened). Appended with a single write to an O_APPEND file,
 *   mode 0600.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { redact } from './redact.js';

let forced = false;

export function setVaultDebug(on: boolean): void {
  forced = on;
}

export function debugEnabled(): boolean {
  const v = process.env.RUN_DEBUG;
  return forced || (v !== undefined && v !== '' && v !== '0');
}

export function debug(message: string): void {
  if (debugEnabled()) process.stderr.write(`${redact(`[vault debug] ${message}`)}\n`);
}

function whoami(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export type AuditEntry = Record<string, string | number | boolean | undefined>;

/** Append one line to `<logDir>/vault.log`. Failing to log never fails the vault operation (it is reported in debug). */
export function audit(logDir: string | undefined, entry: AuditEntry): void {
  if (!logDir) return;
  try {
    mkdirSync(logDir, { recursive: true, mode: 0o700 });
    const line = redact(JSON.stringify({ time: new Date().toISOString(), user: whoami(), ...entry }));
    appendFileSync(join(logDir, 'vault.log'), `${line}\n`, { mode: 0o600 });
  } catch (e) {
    debug(`cannot write the vault audit log in ${logDir}: ${(e as Error).message}`);
  }
}
