/**
 * A small Jinja2 source scanner. It does not parse Jinja: it splits a template into text, `{{ }}`, `{% %}`,
 * `{# #}` and `{% raw %}` segments the way Jinja2's lexer delimits them (string literals and bracket balance
 * inside tags respected), so the templar can
 *  - rewrite custom delimiters (`#jinja2: variable_start_string: '[['`) into MiniJinja's fixed ones,
 *  - wrap every `{{ expr }}` so values print as Python's `str()` would (see engine.ts),
 *  - double backslashes in string literals inside `{{ }}` as Ansible does for templated strings,
 *  - find the names an expression reads and the last filter it applies.
 */

export interface Delimiters {
  blockStart: string;
  blockEnd: string;
  varStart: string;
  varEnd: string;
  commentStart: string;
  commentEnd: string;
}

export const STANDARD_DELIMITERS: Delimiters = {
  blockStart: '{%',
  blockEnd: '%}',
  varStart: '{{',
  varEnd: '}}',
  commentStart: '{#',
  commentEnd: '#}',
};

export type Segment =
  | { kind: 'text'; text: string }
  /** `{{ inner }}`; `lead`/`trail` are the whitespace-control marks (`-`, `+` or ``). */
  | { kind: 'var'; inner: string; lead: string; trail: string; offset: number }
  | { kind: 'block'; inner: string; lead: string; trail: string; offset: number }
  | { kind: 'comment'; raw: string }
  /** `{% raw %}…{% endraw %}`: the tags (whitespace marks kept) and the verbatim body. */
  | { kind: 'raw'; open: Segment & { kind: 'block' }; body: string; close: Segment & { kind: 'block' } };

export class LexError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** 1-based line and column of an offset. */
export function lineCol(src: string, offset: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < src.length; i++) {
    if (src.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, col: offset - last };
}

/** Index of the end delimiter of a tag whose body starts at `from`, honouring strings and bracket balance. */
function findTagEnd(src: string, from: number, end: string): number {
  let depth = 0;
  let i = from;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === "'" || c === '"') {
      i++;
      while (i < n && src[i] !== c) i += src[i] === '\\' ? 2 : 1;
      if (i >= n) return -1;
      i++;
      continue;
    }
    if (depth === 0) {
      if (src.startsWith(end, i)) return i;
      if ((c === '-' || c === '+') && src.startsWith(end, i + 1)) return i;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--;
    i++;
  }
  return -1;
}

const RAW_OPEN = /^\s*raw\s*$/;

/** Split a template into segments. Throws LexError for an unclosed tag. */
export function scan(src: string, d: Delimiters = STANDARD_DELIMITERS): Segment[] {
  const out: Segment[] = [];
  let pos = 0;
  let text = '';
  const n = src.length;
  const starts: [string, 'var' | 'block' | 'comment'][] = [
    [d.varStart, 'var'],
    [d.blockStart, 'block'],
    [d.commentStart, 'comment'],
  ];
  while (pos < n) {
    // next tag start
    let best = -1;
    let kind: 'var' | 'block' | 'comment' = 'var';
    let open = '';
    for (const [s, k] of starts) {
      const i = src.indexOf(s, pos);
      if (i >= 0 && (best < 0 || i < best || (i === best && s.length > open.length))) {
        best = i;
        kind = k;
        open = s;
      }
    }
    if (best < 0) {
      text += src.slice(pos);
      break;
    }
    text += src.slice(pos, best);
    const tagStart = best;
    let p = best + open.length;
    if (kind === 'comment') {
      const e = src.indexOf(d.commentEnd, p);
      if (e < 0) throw new LexError('missing end of comment tag', tagStart);
      if (text) out.push({ kind: 'text', text });
      text = '';
      out.push({ kind: 'comment', raw: src.slice(tagStart, e + d.commentEnd.length) });
      pos = e + d.commentEnd.length;
      continue;
    }
    let lead = '';
    if (src[p] === '-' || src[p] === '+') lead = src[p++]!;
    const endDelim = kind === 'var' ? d.varEnd : d.blockEnd;
    const e = findTagEnd(src, p, endDelim);
    if (e < 0) throw new LexError(kind === 'var' ? 'unexpected end of template, expected end of print statement' : 'unexpected end of template, expected end of block', tagStart);
    let trail = '';
    const inner = src.slice(p, e);
    let after = e + endDelim.length;
    if (src[e] === '-' || src[e] === '+') {
      trail = src[e]!;
      after = e + 1 + endDelim.length;
    }
    if (text) out.push({ kind: 'text', text });
    text = '';
    if (kind === 'block' && RAW_OPEN.test(inner)) {
      // body runs to the first `{% endraw %}` (any whitespace marks)
      const re = new RegExp(`${escapeRe(d.blockStart)}([-+]?)(\\s*endraw\\s*)([-+]?)${escapeRe(d.blockEnd)}`, 'g');
      re.lastIndex = after;
      const m = re.exec(src);
      if (!m) throw new LexError('missing end of raw directive', tagStart);
      const openSeg = { kind: 'block' as const, inner, lead, trail, offset: tagStart };
      const closeSeg = { kind: 'block' as const, inner: m[2]!, lead: m[1]!, trail: m[3]!, offset: m.index };
      out.push({ kind: 'raw', open: openSeg, body: src.slice(after, m.index), close: closeSeg });
      pos = m.index + m[0].length;
      continue;
    }
    out.push(kind === 'var' ? { kind: 'var', inner, lead, trail, offset: tagStart } : { kind: 'block', inner, lead, trail, offset: tagStart });
    pos = after;
  }
  if (text) out.push({ kind: 'text', text });
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------------------------
// Expression tokens

export type Tok = { t: 'name' | 'str' | 'num' | 'op'; v: string; i: number };

const OPS = ['**', '//', '==', '!=', '>=', '<=', '(', ')', '[', ']', '{', '}', ',', '.', ':', '|', '~', '+', '-', '*', '/', '%', '<', '>', '=', '!'];

/** Tokenize a Jinja expression (or statement body). Unknown characters become single-char operators. */
export function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const st = i++;
      while (i < n && s[i] !== c) i += s[i] === '\\' ? 2 : 1;
      i++;
      out.push({ t: 'str', v: s.slice(st, i), i: st });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const st = i;
      while (i < n && /\w/.test(s[i]!)) i++;
      out.push({ t: 'name', v: s.slice(st, i), i: st });
      continue;
    }
    if (/\d/.test(c)) {
      const m = /^(\d[\d_]*(\.\d[\d_]*)?([eE][+-]?\d+)?)/.exec(s.slice(i))!;
      out.push({ t: 'num', v: m[1]!, i });
      i += m[1]!.length;
      continue;
    }
    const op = OPS.find((o) => s.startsWith(o, i)) ?? c;
    out.push({ t: 'op', v: op, i });
    i += op.length;
  }
  return out;
}

const KEYWORDS = new Set([
  'and', 'or', 'not', 'in', 'is', 'if', 'else', 'elif', 'endif', 'for', 'endfor', 'true', 'false', 'none', 'True',
  'False', 'None', 'set', 'endset', 'raw', 'endraw', 'block', 'endblock', 'macro', 'endmacro', 'call', 'endcall',
  'filter', 'endfilter', 'with', 'endwith', 'recursive', 'loop', 'range', 'dict', 'namespace', 'lipsum', 'cycler',
  'joiner', 'super', 'self', 'varargs', 'kwargs', 'caller', 'include', 'import', 'from', 'as', 'extends',
  'do', 'break', 'continue', 'lookup', 'query', 'q', 'omit',
  // Not listed: `ignore`, `missing`, `context`, `without` are keywords only inside include/import tags and are
  // ordinary variable names everywhere else (`register: missing` … `{{ missing.rc }}`).
]);

/**
 * Names an expression or statement reads from the context: identifiers not after `.`, not filter or test
 * names, not keyword-argument names, not Jinja keywords. Names bound by `for`/`set`/`macro` are reported
 * too (over-approximation: callers look them up and ignore the missing ones).
 */
export function namesIn(expr: string, out: Set<string>): void {
  const toks = tokenize(expr);
  for (let k = 0; k < toks.length; k++) {
    const tk = toks[k]!;
    if (tk.t !== 'name') continue;
    const prev = toks[k - 1];
    const next = toks[k + 1];
    if (prev && prev.t === 'op' && (prev.v === '.' || prev.v === '|')) continue;
    if (prev && prev.t === 'name' && prev.v === 'is') continue;
    if (prev && prev.t === 'name' && prev.v === 'not' && toks[k - 2]?.v === 'is') continue;
    if (next && next.t === 'op' && next.v === '=' ) continue;
    if (KEYWORDS.has(tk.v)) continue;
    out.add(tk.v);
  }
}

/** Names a template may read (see namesIn), over every tag of the template. */
export function templateNames(src: string): Set<string> {
  const out = new Set<string>();
  let segs: Segment[];
  try {
    segs = scan(src);
  } catch {
    return out;
  }
  for (const s of segs) if (s.kind === 'var' || s.kind === 'block') namesIn(s.inner, out);
  return out;
}

/** The name of the last filter applied at the top level of an expression (`a | b(1) | c` → `c`). */
export function lastFilter(expr: string): string | undefined {
  const toks = tokenize(expr);
  let depth = 0;
  let last: string | undefined;
  for (let k = 0; k < toks.length; k++) {
    const tk = toks[k]!;
    if (tk.t === 'op') {
      if (tk.v === '(' || tk.v === '[' || tk.v === '{') depth++;
      else if (tk.v === ')' || tk.v === ']' || tk.v === '}') depth--;
      else if (tk.v === '|' && depth === 0) {
        const nm = toks[k + 1];
        last = nm && nm.t === 'name' ? nm.v : undefined;
        continue;
      }
    }
    // anything after a top-level filter other than its name/args/dotted name ends the chain
    if (depth === 0 && last !== undefined && tk.t === 'name' && ['if', 'else', 'and', 'or', 'is', 'in', 'not'].includes(tk.v)) last = undefined;
    if (depth === 0 && last !== undefined && tk.t === 'op' && ['+', '-', '*', '/', '//', '%', '**', '~', '==', '!=', '<', '>', '<=', '>='].includes(tk.v)) last = undefined;
  }
  return last;
}

/** `true` when the expression is a single string literal (`'x'`). */
export function isStringLiteral(expr: string): boolean {
  const toks = tokenize(expr);
  return toks.length > 0 && toks.every((t) => t.t === 'str');
}

/** `true` when an expression has a comma at bracket depth 0 (a tuple without parentheses). */
export function hasTopLevelComma(expr: string): boolean {
  let depth = 0;
  for (const tk of tokenize(expr)) {
    if (tk.t !== 'op') continue;
    if (tk.v === '(' || tk.v === '[' || tk.v === '{') depth++;
    else if (tk.v === ')' || tk.v === ']' || tk.v === '}') depth--;
    else if (tk.v === ',' && depth === 0) return true;
  }
  return false;
}

/** Ansible's `_escape_backslashes`: double every backslash inside string literals of an expression. */
export function doubleBackslashesInStrings(expr: string): string {
  if (!expr.includes('\\')) return expr;
  let out = '';
  let last = 0;
  for (const tk of tokenize(expr)) {
    if (tk.t !== 'str') continue;
    out += expr.slice(last, tk.i) + tk.v.replace(/\\/g, '\\\\');
    last = tk.i + tk.v.length;
  }
  return out + expr.slice(last);
}

// ---------------------------------------------------------------------------------------------------------------
// `#jinja2:` header

export interface HeaderOverrides {
  trim_blocks?: boolean;
  lstrip_blocks?: boolean;
  keep_trailing_newline?: boolean;
  newline_sequence?: string;
  variable_start_string?: string;
  variable_end_string?: string;
  block_start_string?: string;
  block_end_string?: string;
  comment_start_string?: string;
  comment_end_string?: string;
}

const HEADER_KEYS = new Set([
  'trim_blocks', 'lstrip_blocks', 'keep_trailing_newline', 'newline_sequence', 'variable_start_string',
  'variable_end_string', 'block_start_string', 'block_end_string', 'comment_start_string', 'comment_end_string',
]);

export class HeaderError extends Error {}

/**
 * Ansible's `#jinja2:` first line: `#jinja2: key: value, key: value` with Python literal values. Returns the
 * overrides and the template without that line (as Ansible does: everything up to and including the first
 * newline is removed).
 */
export function parseHeader(src: string, literal: (s: string) => unknown): { overrides: HeaderOverrides; body: string } {
  if (!src.startsWith('#jinja2:')) return { overrides: {}, body: src };
  const eol = src.indexOf('\n');
  // Ansible: `data.find('\n')` = -1 → line loses its last char and the body is the whole string.
  const line = src.slice('#jinja2:'.length, eol < 0 ? src.length - 1 : eol);
  const body = eol < 0 ? src : src.slice(eol + 1);
  const overrides: Record<string, unknown> = {};
  for (const pair of line.split(',')) {
    const c = pair.indexOf(':');
    if (c < 0) {
      throw new HeaderError(`failed to parse jinja2 override '${pair.trim()}'. Did you use something different from colon as key-value separator?`);
    }
    const key = pair.slice(0, c).trim();
    const raw = pair.slice(c + 1).trim();
    let val: unknown;
    try {
      val = literal(raw);
    } catch {
      throw new HeaderError(`jinja2 override ${key}: ${raw} is not a Python literal (use True/False or a quoted string)`);
    }
    if (!HEADER_KEYS.has(key)) continue; // Ansible sets unknown attributes without effect
    const wantsBool = key === 'trim_blocks' || key === 'lstrip_blocks' || key === 'keep_trailing_newline';
    if (wantsBool ? typeof val !== 'boolean' : typeof val !== 'string') {
      throw new HeaderError(`jinja2 override ${key} must be ${wantsBool ? 'True or False' : 'a quoted string'}, got ${raw}`);
    }
    overrides[key] = val;
  }
  return { overrides: overrides as HeaderOverrides, body };
}

export function delimitersOf(o: HeaderOverrides): Delimiters {
  return {
    blockStart: o.block_start_string ?? '{%',
    blockEnd: o.block_end_string ?? '%}',
    varStart: o.variable_start_string ?? '{{',
    varEnd: o.variable_end_string ?? '}}',
    commentStart: o.comment_start_string ?? '{#',
    commentEnd: o.comment_end_string ?? '#}',
  };
}

export function isStandard(d: Delimiters): boolean {
  return (
    d.blockStart === '{%' && d.blockEnd === '%}' && d.varStart === '{{' && d.varEnd === '}}' && d.commentStart === '{#' && d.commentEnd === '#}'
  );
}
