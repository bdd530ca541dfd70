/**
 * Ansible's `k=v` argument strings (`copy: src=a dest="b c"`, `command: chdir=/tmp ls -l`).
 *
 * Written by hand because the syntax is Ansible's own, not a shell's: words split on blanks except inside
 * quotes and Jinja blocks (`{{ a | b }}` stays one word), quotes are kept in free-form text but removed
 * from values, `\=` escapes an equals sign, and for command-like modules only a few keys are arguments.
 */
export class KvError extends Error {}

/** Split into words, keeping quotes and Jinja blocks intact; each word keeps the blanks that followed it. */
export function splitArgs(s: string): { word: string; trail: string }[] {
  const out: { word: string; trail: string }[] = [];
  let i = 0;
  const n = s.length;
  while (i < n && /\s/.test(s[i]!)) i++;
  while (i < n) {
    let word = '';
    let quote: string | undefined;
    let depth = 0; // open {{ / {% / {# blocks
    while (i < n) {
      const c = s[i]!;
      const two = s.slice(i, i + 2);
      if (quote) {
        if (c === '\\' && i + 1 < n) {
          word += two;
          i += 2;
          continue;
        }
        if (c === quote) quote = undefined;
        word += c;
        i++;
        continue;
      }
      if (two === '{{' || two === '{%' || two === '{#') {
        depth++;
        word += two;
        i += 2;
        continue;
      }
      if (depth > 0 && (two === '}}' || two === '%}' || two === '#}')) {
        depth--;
        word += two;
        i += 2;
        continue;
      }
      if (depth === 0 && /\s/.test(c)) break;
      if ((c === '"' || c === "'") && (i === 0 || s[i - 1] !== '\\')) quote = c;
      if (c === '\\' && i + 1 < n && depth === 0 && !quote) {
        word += two;
        i += 2;
        continue;
      }
      word += c;
      i++;
    }
    if (quote || depth > 0) {
      throw new KvError(`unbalanced ${quote ? 'quotes' : 'Jinja block'} in: ${s}`);
    }
    let trail = '';
    while (i < n && /\s/.test(s[i]!)) trail += s[i++];
    out.push({ word, trail });
  }
  return out;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"' };

/** Python-style escapes in an argument word (`\n`, `\t`, `\x41`, `\u00e9` …). */
export function decodeEscapes(s: string): string {
  return s.replace(/\\(U[0-9a-fA-F]{8}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[\\'"abfnrtv])/g, (_m, e: string) => {
    if (e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16));
    return ESCAPES[e] ?? e;
  });
}

export function unquote(s: string): string {
  if (s.length >= 2 && (s[0] === '"' || s[0] === "'") && s[s.length - 1] === s[0]) return s.slice(1, -1);
  return s;
}

export interface ParsedKv {
  args: Record<string, string>;
  /** the words that are not `k=v` (or not split off), joined back with their original spacing */
  raw?: string;
}

/**
 * Parse `k=v` words. `keepRawKeys` (command-like modules): only these keys become arguments; other `k=v`
 * words stay in the free-form text.
 */
export function parseKv(s: string, keepRawKeys?: readonly string[]): ParsedKv {
  const words = splitArgs(s);
  const args: Record<string, string> = {};
  const raw: { word: string; trail: string }[] = [];
  for (const w of words) {
    const x = decodeEscapes(w.word);
    let eq = -1;
    for (let p = 1; p < x.length; p++) {
      if (x[p] === '=' && x[p - 1] !== '\\') {
        eq = p;
        break;
      }
    }
    if (eq < 0) {
      raw.push({ word: x.includes('\\=') ? w.word.replace(/\\=/g, '=') : w.word, trail: w.trail });
      continue;
    }
    const key = x.slice(0, eq);
    if (keepRawKeys && !keepRawKeys.includes(key)) {
      raw.push(w);
      continue;
    }
    args[key.trim()] = unquote(x.slice(eq + 1).trim());
  }
  const out: ParsedKv = { args };
  if (raw.length) {
    let r = '';
    raw.forEach((w, i) => {
      r += w.word;
      if (i < raw.length - 1) r += w.trail.includes('\n') ? '\n' : w.trail || ' ';
    });
    out.raw = r;
  }
  return out;
}
