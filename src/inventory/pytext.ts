/**
 * Small pieces of Python's str semantics the INI plugin relies on: str.splitlines(), str.strip(),
 * int() and shlex.split(posix=True, comments=True). Written by hand: the differences from JS (which
 * characters are whitespace or line breaks, how shlex treats `#` and backslashes) decide how a line
 * is read, so they must be Python's exactly.
 */

/** str.isspace() characters (what str.strip() and the `\s` of Python regexes remove). */
export const PY_WS = '\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';
export const PY_WS_CLASS = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/** str.splitlines(): every line break Python knows, no terminators kept. */
export function pySplitlines(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if ('\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029'.includes(c)) {
      out.push(s.slice(start, i));
      if (c === '\r' && s[i + 1] === '\n') i++;
      start = i + 1;
    }
  }
  if (start < s.length) out.push(s.slice(start));
  return out;
}

/** str.strip(); also returns how many characters were removed on the left. */
export function pyStrip(s: string): { text: string; offset: number } {
  let a = 0;
  let b = s.length;
  while (a < b && PY_WS.includes(s[a]!)) a++;
  while (b > a && PY_WS.includes(s[b - 1]!)) b--;
  return { text: s.slice(a, b), offset: a };
}

export class PyValueError extends Error {}

/** Python int(x) for the values inventories feed it (str, number, bool); throws PyValueError like Python. */
export function pyInt(x: unknown): number {
  if (typeof x === 'boolean') return x ? 1 : 0;
  if (typeof x === 'number') {
    if (Number.isNaN(x)) throw new PyValueError('cannot convert float NaN to integer');
    if (!Number.isFinite(x)) throw new PyValueError('cannot convert float infinity to integer');
    return Math.trunc(x);
  }
  if (typeof x === 'string') {
    const t = pyStrip(x).text;
    if (/^[+-]?[0-9]+(?:_[0-9]+)*$/.test(t)) return Number(BigInt(t.replace(/_/g, '').replace(/^\+/, '')));
    throw new PyValueError(`invalid literal for int() with base 10: ${JSON.stringify(x).replace(/^"|"$/g, "'")}`);
  }
  const t = x === null || x === undefined ? 'NoneType' : Array.isArray(x) ? 'list' : typeof x === 'object' ? 'dict' : typeof x;
  throw new PyValueError(`int() argument must be a string, a bytes-like object or a real number, not '${t}'`);
}

export interface ShlexToken {
  value: string;
  /** index in the input where the token starts */
  start: number;
}

export class ShlexError extends Error {
  /** index of the unterminated quote or dangling backslash */
  readonly index: number;
  constructor(message: string, index: number) {
    super(message);
    this.index = index;
  }
}

/**
 * shlex.split(s, comments=True) (posix mode, whitespace_split): quotes are removed, `#` starts a comment
 * even in the middle of a word, a backslash escapes the next character (inside double quotes only `"`
 * and `\`), an unterminated quote raises "No closing quotation".
 */
export function shlexSplit(s: string): ShlexToken[] {
  const WS = ' \t\r\n';
  const out: ShlexToken[] = [];
  type St = ' ' | 'a' | "'" | '"' | '\\';
  let state = ' ' as St;
  let escapedState = 'a' as St;
  let token = '';
  let quoted = false;
  let start = -1;
  let quoteAt = -1;
  let escAt = -1;
  const emit = (): void => {
    if (token || quoted) out.push({ value: token, start });
    token = '';
    quoted = false;
    start = -1;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (state === ' ') {
      if (WS.includes(c)) continue;
      if (c === '#') return finish(out, emit, state, quoteAt, escAt);
      start = i;
      if (c === '\\') {
        escapedState = 'a';
        state = '\\';
        escAt = i;
      } else if (c === "'" || c === '"') {
        state = c;
        quoteAt = i;
      } else {
        token = c;
        state = 'a';
      }
    } else if (state === "'" || state === '"') {
      quoted = true;
      if (c === state) state = 'a';
      else if (c === '\\' && state === '"') {
        escapedState = state;
        state = '\\';
        escAt = i;
      } else token += c;
    } else if (state === '\\') {
      if ((escapedState === "'" || escapedState === '"') && c !== '\\' && c !== escapedState) token += '\\';
      token += c;
      state = escapedState;
    } else {
      // word state
      if (WS.includes(c)) {
        state = ' ';
        emit();
      } else if (c === '#') {
        return finish(out, emit, ' ', quoteAt, escAt);
      } else if (c === "'" || c === '"') {
        state = c;
        quoteAt = i;
      } else if (c === '\\') {
        escapedState = 'a';
        state = '\\';
        escAt = i;
      } else token += c;
    }
  }
  return finish(out, emit, state, quoteAt, escAt);
}

function finish(out: ShlexToken[], emit: () => void, state: string, quoteAt: number, escAt: number): ShlexToken[] {
  if (state === "'" || state === '"') throw new ShlexError('No closing quotation', quoteAt);
  if (state === '\\') throw new ShlexError('No escaped character', escAt);
  emit();
  return out;
}
