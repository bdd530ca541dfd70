/**
 * Python value semantics the templar needs on the JavaScript side:
 *  - `pyStr`/`pyRepr`: what Python's `str()`/`repr()` print (Jinja2 prints values with `str()`),
 *  - `literalEval`: Python's `ast.literal_eval` with Ansible's JSON names (`true`, `false`, `null`), used for
 *    Ansible's "looks like a list/dict/bool" conversion and for `#jinja2:` header values,
 *  - `plain`: MiniJinja hands dicts to JavaScript as `Map`s; templates and callers want plain objects.
 *
 * JavaScript has one number type: a float with an integral value (2.0) cannot be told from an int here.
 * The engine prints top-level floats itself (it knows their type there); inside containers they print as
 * ints. See docs/templates.md.
 */

/** Python's repr() of a float. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // shortest round-trip digits, as Python's repr uses
  const [mant, expS] = x.toExponential().split('e') as [string, string];
  const exp = Number(expS);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let s: string;
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    s = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp < 0) {
    s = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    s = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  } else {
    s = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return neg ? `-${s}` : s;
}

/** Python number printing for a JS number whose Python type is unknown: integral → int, else float. */
export function pyNumber(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e21) return Object.is(x, -0) ? '0' : x.toFixed(0);
  return pyFloat(x);
}

// Python's str.isprintable(): false for categories Cc, Cf, Cs, Co, Cn, Zl, Zp, Zs (except the ASCII space).
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Python's repr() of a str. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch !== ' ' && NON_PRINTABLE.test(ch)) {
      if (cp < 0x100) out += '\\x' + cp.toString(16).padStart(2, '0');
      else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
      else out += '\\U' + cp.toString(16).padStart(8, '0');
    } else out += ch;
  }
  return out + quote;
}

/** Python's repr() of a value as MiniJinja hands it over (Maps for dicts, undefined for None). */
export function pyRepr(v: unknown, depth = 0): string {
  if (depth > 200) return '...';
  if (v === undefined || v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return pyNumber(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return pyStrRepr(v);
  if (Array.isArray(v)) return `[${v.map((x) => pyRepr(x, depth + 1)).join(', ')}]`;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${pyRepr(k, depth + 1)}: ${pyRepr(x, depth + 1)}`).join(', ')}}`;
  if (v instanceof Set) return v.size ? `{${[...v].map((x) => pyRepr(x, depth + 1)).join(', ')}}` : 'set()';
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${pyStrRepr(k)}: ${pyRepr(x, depth + 1)}`).join(', ')}}`;
  return String(v);
}

/** Python's str(): strings as they are, everything else as repr(). */
export function pyStr(v: unknown): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

/** Maps (MiniJinja dicts) to plain objects, recursively; `undefined` (MiniJinja's none) to null. */
export function plain(v: unknown): unknown {
  if (v === undefined) return null;
  if (Array.isArray(v)) {
    let changed = false;
    const out = v.map((x) => {
      const y = plain(x);
      if (y !== x) changed = true;
      return y;
    });
    return changed ? out : v;
  }
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) o[String(k)] = plain(x);
    return o;
  }
  return v;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** Python truthiness. */
export function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// ast.literal_eval

export class LiteralError extends Error {}

/**
 * Python `ast.literal_eval` for the literal subset: strings (with escapes, implicit concatenation, r/b/u
 * prefixes), ints (incl. 0x/0o/0b, underscores), floats, True/False/None (and Ansible's true/false/null),
 * lists, tuples (→ arrays), dicts, sets (→ arrays), unary minus/plus. Throws LiteralError otherwise.
 */
export function literalEval(src: string): unknown {
  const p = new LiteralParser(src);
  p.ws();
  const v = p.value();
  p.ws();
  if (p.i < src.length) throw new LiteralError(`unexpected ${JSON.stringify(src.slice(p.i, p.i + 10))}`);
  return v;
}

const NAMES: Record<string, unknown> = { True: true, False: false, None: null, true: true, false: false, null: null };

class LiteralParser {
  i = 0;
  constructor(private readonly s: string) {}

  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  private fail(): never {
    throw new LiteralError(`malformed literal at ${this.i}`);
  }

  value(depth = 0): unknown {
    if (depth > 100) this.fail();
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) this.fail();
    if (c === '[') return this.seq(']', depth);
    if (c === '(') {
      // tuple or parenthesised value
      this.i++;
      this.ws();
      if (this.s[this.i] === ')') {
        this.i++;
        return [];
      }
      const first = this.value(depth + 1);
      this.ws();
      if (this.s[this.i] === ')') {
        this.i++;
        return first;
      }
      const items = [first];
      while (this.s[this.i] === ',') {
        this.i++;
        this.ws();
        if (this.s[this.i] === ')') break;
        items.push(this.value(depth + 1));
        this.ws();
      }
      if (this.s[this.i] !== ')') this.fail();
      this.i++;
      return items;
    }
    if (c === '{') return this.dict(depth);
    if (c === '-' || c === '+') {
      this.i++;
      const v = this.value(depth + 1);
      if (typeof v !== 'number') this.fail();
      return c === '-' ? -v : v;
    }
    if (/[0-9.]/.test(c)) return this.num();
    const m = /^([rRbBuU]{0,2})(['"])/.exec(this.s.slice(this.i, this.i + 4));
    if (m) {
      let out = '';
      while (true) {
        this.ws();
        const mm = /^([rRbBuU]{0,2})(['"])/.exec(this.s.slice(this.i, this.i + 4));
        if (!mm) break;
        out += this.str(mm[1]!.toLowerCase().includes('r'), mm[1]!.length);
      }
      return out;
    }
    const nm = /^[A-Za-z_]\w*/.exec(this.s.slice(this.i));
    if (nm && nm[0] in NAMES) {
      this.i += nm[0].length;
      return NAMES[nm[0]];
    }
    return this.fail();
  }

  private seq(close: string, depth: number): unknown[] {
    this.i++;
    const out: unknown[] = [];
    this.ws();
    while (this.s[this.i] !== close) {
      out.push(this.value(depth + 1));
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        this.ws();
      } else if (this.s[this.i] !== close) this.fail();
    }
    this.i++;
    return out;
  }

  private dict(depth: number): unknown {
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return {};
    }
    const first = this.value(depth + 1);
    this.ws();
    if (this.s[this.i] !== ':') {
      // a set
      const items = [first];
      while (this.s[this.i] === ',') {
        this.i++;
        this.ws();
        if (this.s[this.i] === '}') break;
        items.push(this.value(depth + 1));
        this.ws();
      }
      if (this.s[this.i] !== '}') this.fail();
      this.i++;
      return items;
    }
    const out: Record<string, unknown> = {};
    let key = first;
    while (true) {
      if (this.s[this.i] !== ':') this.fail();
      this.i++;
      const v = this.value(depth + 1);
      if (typeof key === 'object' && key !== null) this.fail(); // unhashable
      out[key === null ? 'None' : key === true ? 'True' : key === false ? 'False' : String(key)] = v;
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        this.ws();
      }
      if (this.s[this.i] === '}') {
        this.i++;
        return out;
      }
      key = this.value(depth + 1);
      this.ws();
    }
  }

  private num(): number {
    const rest = this.s.slice(this.i);
    let m = /^0[xX][0-9a-fA-F_]+|^0[oO][0-7_]+|^0[bB][01_]+/.exec(rest);
    if (m) {
      this.i += m[0].length;
      return Number(m[0].replace(/_/g, '').toLowerCase());
    }
    m = /^(\d[\d_]*)?(\.[\d_]*)?([eE][+-]?\d+)?[jJ]?/.exec(rest);
    if (!m || !m[0] || m[0] === '.' || /[jJ]$/.test(m[0])) this.fail();
    if (!m[2] && !m[3] && /^0\d/.test(m[1] ?? '') && !/^0+$/.test(m[1]!.replace(/_/g, ''))) this.fail(); // 0123 is invalid
    this.i += m[0].length;
    return Number(m[0].replace(/_/g, ''));
  }

  private str(raw: boolean, prefixLen: number): string {
    this.i += prefixLen;
    const q = this.s[this.i]!;
    const triple = this.s.startsWith(q.repeat(3), this.i);
    const end = triple ? q.repeat(3) : q;
    this.i += end.length;
    let out = '';
    while (true) {
      if (this.i >= this.s.length) this.fail();
      if (this.s.startsWith(end, this.i)) {
        this.i += end.length;
        return out;
      }
      const c = this.s[this.i]!;
      if (c === '\n' && !triple) this.fail();
      if (c !== '\\') {
        out += c;
        this.i++;
        continue;
      }
      const n = this.s[this.i + 1];
      if (n === undefined) this.fail();
      if (raw) {
        out += c + n;
        this.i += 2;
        continue;
      }
      this.i += 2;
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '' };
      if (n in simple) out += simple[n];
      else if (n === 'x' || n === 'u' || n === 'U') {
        const len = n === 'x' ? 2 : n === 'u' ? 4 : 8;
        const hex = this.s.slice(this.i, this.i + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) this.fail();
        out += String.fromCodePoint(parseInt(hex, 16));
        this.i += len;
      } else if (/[0-7]/.test(n)) {
        const m = /^[0-7]{1,3}/.exec(this.s.slice(this.i - 1))!;
        out += String.fromCodePoint(parseInt(m[0], 8));
        this.i += m[0].length - 1;
      } else out += '\\' + n;
    }
  }
}
