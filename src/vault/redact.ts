/**
 * Process-wide registry of secret strings. Every value revealed from a vault is registered here, and every
 * renderer or logger passes text through `redact()` before it leaves the process, so a secret that slipped
 * into a message, a command line or a module result shows as `********`.
 *
 * Strings shorter than MIN_SECRET_LENGTH are not registered: replacing every "on" or "42" in the output would
 * make it unreadable and would itself hint at the secret. Multi-line secrets (private keys) are also registered
 * line by line, so one line of a key printed on its own is caught too.
 */

export const REDACTED = '********';
export const MIN_SECRET_LENGTH = 4;
/** Lines of a multi-line secret shorter than this are not registered alone (e.g. `-----END …-----` is fine). */
const MIN_LINE_LENGTH = 16;

const registry = new Set<string>();
let pattern: RegExp | null = null;

function add(s: string): void {
  if (s.length < MIN_SECRET_LENGTH || registry.has(s)) return;
  registry.add(s);
  pattern = null;
}

/** Register one secret (and the forms it takes in JSON / multi-line output). */
export function registerSecret(value: string): void {
  if (typeof value !== 'string') return;
  add(value);
  const trimmed = value.trim();
  if (trimmed !== value) add(trimmed);
  // The same secret inside a JSON string (JSON logs, event files): quotes, backslashes, newlines escaped.
  const json = JSON.stringify(value).slice(1, -1);
  if (json !== value) add(json);
  if (value.includes('\n')) {
    for (const line of value.split(/\r?\n/)) {
      const l = line.trim();
      if (l.length >= MIN_LINE_LENGTH && !/^-----(BEGIN|END) [A-Z ]+-----$/.test(l)) add(l);
    }
  }
}

/** Register every string leaf of a decrypted document (a vault file's values are all secrets). */
export function registerSecretsIn(value: unknown, depth = 0): void {
  if (depth > 64) return;
  if (typeof value === 'string') registerSecret(value);
  else if (Array.isArray(value)) for (const v of value) registerSecretsIn(v, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) registerSecretsIn(v, depth + 1);
  else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value as Record<string, unknown>)) registerSecretsIn(v, depth + 1);
  }
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Replace every registered secret in `text` with `********` (longest first, so a secret containing another wins). */
export function redact(text: string): string {
  if (registry.size === 0 || typeof text !== 'string' || text === '') return text;
  if (!pattern) {
    const all = [...registry].sort((a, b) => b.length - a.length).map(escapeRe);
    pattern = new RegExp(all.join('|'), 'g');
  }
  return text.replace(pattern, REDACTED);
}

/** True when `text` contains a registered secret (for assertions and guards). */
export function containsSecret(text: string): boolean {
  return redact(text) !== text;
}

export function secretCount(): number {
  return registry.size;
}

/** Forget every registered secret (tests only). */
export function clearSecrets(): void {
  registry.clear();
  pattern = null;
}
