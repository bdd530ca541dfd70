/**
 * Python's `ast.literal_eval` for one INI value, the way Ansible's INI plugin types values: the text is
 * evaluated as a Python literal; if it is not one (any SyntaxError or "malformed node"), the value stays
 * the original string. Written by hand because no JS library evaluates Python literals; it covers
 * exactly what literal_eval (CPython 3.11) accepts: numbers (incl. 0x/0o/0b, underscores, floats),
 * str/bytes literals with prefixes, escapes and implicit concatenation, True/False/None, tuples, lists,
 * dicts, sets, `set()`, unary +/- on numbers, and `real ± imaginary`.
 *
 * Result mapping to JS: int → number (precision beyond 2^53 is lost), float → number, str/bytes →
 * string, None → null, list → array, tuple → array marked with markTuple, dict → plain object (keys as
 * Python's json.dumps writes them). Values ansible-inventory cannot serialise (complex, set, Ellipsis,
 * unhashable keys) are reported as PyLiteralError, as they make Ansible fail too.
 */
import { markTuple, setOwn } from './types.js';
import { pyFloatRepr } from './pyrepr.js';

export class PyLiteralError extends Error {}

type PyVal =
  | { t: 'int'; v: bigint }
  | { t: 'float'; v: number }
  | { t: 'complex' }
  | { t: 'str'; v: string }
  | { t: 'bytes'; v: number[] }
  | { t: 'bool'; v: boolean }
  | { t: 'none' }
  | { t: 'ellipsis' }
  | { t: 'tuple'; v: PyVal[] }
  | { t: 'list'; v: PyVal[] }
  | { t: 'set'; v: PyVal[] }
  | { t: 'dict'; v: [PyVal, PyVal][] };

/** AST nodes of the subset we parse; anything else is "not a literal". */
type Node =
  | { k: 'const'; v: PyVal }
  | { k: 'tuple' | 'list' | 'set'; items: Node[] }
  | { k: 'dict'; items: [Node, Node][] }
  | { k: 'setcall' }
  | { k: 'unary'; op: '+' | '-'; operand: Node }
  | { k: 'binop'; op: '+' | '-'; left: Node; right: Node };

class NotLiteral extends Error {}
const fail = (): never => {
  throw new NotLiteral();
};

type Tok =
  | { k: 'num'; v: PyVal }
  | { k: 'str'; bytes: boolean; v: string | number[]; fstring: boolean }
  | { k: 'name'; v: string }
  | { k: 'op'; v: string }
  | { k: 'end' };

const MAXLEVEL = 200; // CPython tokenizer: "too many nested parentheses"

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isIdStart = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{Nl}_]/u.test(c);
const isIdChar = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}_]/u.test(c);

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let level = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\f') {
      i++;
      continue;
    }
    if (c === '#') break;
    if (c === '\\') fail(); // line continuation cannot occur in one line
    if (isDigit(c) || (c === '.' && isDigit(src[i + 1]))) {
      const [tok, end] = readNumber(src, i);
      toks.push(tok);
      i = end;
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdChar(src[j])) j++;
      const word = src.slice(i, j);
      if ((src[j] === "'" || src[j] === '"') && /^(?:[rRuUbBfF]|[bB][rR]|[rR][bB]|[fF][rR]|[rR][fF])$/.test(word)) {
        const [tok, end] = readString(src, j, word.toLowerCase());
        toks.push(tok);
        i = end;
        continue;
      }
      toks.push({ k: 'name', v: word });
      i = j;
      continue;
    }
    if (c === "'" || c === '"') {
      const [tok, end] = readString(src, i, '');
      toks.push(tok);
      i = end;
      continue;
    }
    if (src.startsWith('...', i)) {
      toks.push({ k: 'op', v: '...' });
      i += 3;
      continue;
    }
    if ('([{'.includes(c)) {
      if (level >= MAXLEVEL) fail();
      level++;
      toks.push({ k: 'op', v: c });
      i++;
      continue;
    }
    if (')]}'.includes(c)) {
      level--;
      toks.push({ k: 'op', v: c });
      i++;
      continue;
    }
    if (',:+-'.includes(c)) {
      // `+=`, `->`, `:=` etc. are not part of any literal
      const next = src[i + 1];
      if (c !== ',' && (next === '=' || next === '>')) fail();
      toks.push({ k: 'op', v: c });
      i++;
      continue;
    }
    fail(); // any other operator or character: not a literal (or not Python)
  }
  toks.push({ k: 'end' });
  return toks;
}

/** digitpart: digit (["_"] digit)* */
function digitPart(src: string, i: number, ok: (c: string | undefined) => boolean): number {
  if (!ok(src[i])) return -1;
  i++;
  for (;;) {
    if (src[i] === '_') {
      if (!ok(src[i + 1])) fail();
      i += 2;
    } else if (ok(src[i])) i++;
    else return i;
  }
}

function readNumber(src: string, start: number): [Tok, number] {
  let i = start;
  const c0 = src[i];
  const c1 = src[i + 1]?.toLowerCase();
  const afterNumber = (j: number): number => {
    if (isIdChar(src[j]) || src[j] === '.') fail(); // "invalid decimal literal" and friends
    return j;
  };
  if (c0 === '0' && (c1 === 'x' || c1 === 'o' || c1 === 'b')) {
    const ok =
      c1 === 'x' ? (c: string | undefined) => c !== undefined && /[0-9a-fA-F]/.test(c) : c1 === 'o' ? (c: string | undefined) => c !== undefined && /[0-7]/.test(c) : (c: string | undefined) => c === '0' || c === '1';
    i += 2;
    if (src[i] === '_') i++;
    const end = digitPart(src, i, ok);
    if (end < 0) fail();
    const digits = src.slice(start + 2, end).replace(/_/g, '');
    return [{ k: 'num', v: { t: 'int', v: BigInt(`0${c1}${digits}`) } }, afterNumber(end)];
  }
  let isFloat = false;
  let intEnd = -1;
  if (c0 !== '.') {
    intEnd = digitPart(src, i, isDigit);
    i = intEnd;
  }
  if (src[i] === '.') {
    isFloat = true;
    i++;
    if (isDigit(src[i])) i = digitPart(src, i, isDigit);
  }
  if (src[i] === 'e' || src[i] === 'E') {
    let j = i + 1;
    if (src[j] === '+' || src[j] === '-') j++;
    const e = digitPart(src, j, isDigit);
    if (e >= 0) {
      isFloat = true;
      i = e;
    }
  }
  const text = src.slice(start, i).replace(/_/g, '');
  if (src[i] === 'j' || src[i] === 'J') return [{ k: 'num', v: { t: 'complex' } }, afterNumber(i + 1)];
  if (!isFloat) {
    // decimal integers may not have leading zeros, except all-zero ("00", "0_0")
    if (text.length > 1 && text[0] === '0' && /[1-9]/.test(text)) fail();
    return [{ k: 'num', v: { t: 'int', v: BigInt(text) } }, afterNumber(i)];
  }
  return [{ k: 'num', v: { t: 'float', v: Number.parseFloat(text.startsWith('.') ? '0' + text : text) } }, afterNumber(i)];
}

function readString(src: string, q: number, prefix: string): [Tok, number] {
  const raw = prefix.includes('r');
  const bytes = prefix.includes('b');
  const fstring = prefix.includes('f');
  const quote = src[q]!;
  const triple = src.startsWith(quote.repeat(3), q);
  const close = triple ? quote.repeat(3) : quote;
  let i = q + close.length;
  let body = '';
  for (;;) {
    if (i >= src.length) fail(); // unterminated string
    if (src.startsWith(close, i)) break;
    const c = src[i]!;
    if (c === '\\') {
      if (i + 1 >= src.length) fail();
      body += c + src[i + 1];
      i += 2;
      continue;
    }
    if (!triple && (c === '\n' || c === '\r')) fail();
    body += c;
    i++;
  }
  const end = i + close.length;
  if (fstring) return [{ k: 'str', bytes: false, v: '', fstring: true }, end];
  if (bytes) {
    if ([...body].some((ch) => ch.charCodeAt(0) > 0x7f)) fail(); // bytes can only contain ASCII literal characters
    const text = raw ? body : decodeEscapes(body, true);
    return [{ k: 'str', bytes: true, v: [...text].map((ch) => ch.charCodeAt(0)), fstring: false }, end];
  }
  return [{ k: 'str', bytes: false, v: raw ? body : decodeEscapes(body, false), fstring: false }, end];
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\n': '',
};

function decodeEscapes(body: string, bytes: boolean): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i]!;
    if (e in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[e];
    } else if (e >= '0' && e <= '7') {
      let j = i;
      while (j < i + 3 && body[j]! >= '0' && body[j]! <= '7') j++;
      const code = Number.parseInt(body.slice(i, j), 8);
      if (bytes && code > 0o377) fail();
      out += String.fromCodePoint(code);
      i = j - 1;
    } else if (e === 'x') {
      const h = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) fail();
      out += String.fromCharCode(Number.parseInt(h, 16));
      i += 2;
    } else if (!bytes && (e === 'u' || e === 'U')) {
      const len = e === 'u' ? 4 : 8;
      const h = body.slice(i + 1, i + 1 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h)) fail();
      const cp = Number.parseInt(h, 16);
      if (cp > 0x10ffff) fail();
      out += cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
      i += len;
    } else if (!bytes && e === 'N') {
      // \N{NAME} needs the Unicode character name database, which JS does not have: refuse loudly
      // rather than keep a value Python would have decoded
      throw new PyLiteralError('\\N{…} escapes are not supported here: write the character itself');
    } else {
      out += '\\' + e; // unknown escapes are kept as written
    }
  }
  return out;
}

class Parser {
  private i = 0;
  private readonly toks: Tok[];
  constructor(toks: Tok[]) {
    this.toks = toks;
  }

  private peek(): Tok {
    return this.toks[this.i]!;
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t.k === 'op' && t.v === v;
  }
  private expectOp(v: string): void {
    if (!this.isOp(v)) fail();
    this.i++;
  }

  parseTop(): Node {
    if (this.peek().k === 'end') fail();
    const first = this.element();
    let node: Node = first;
    if (this.isOp(',')) {
      const items = [first];
      while (this.isOp(',')) {
        this.i++;
        if (this.peek().k === 'end') break;
        items.push(this.element());
      }
      node = { k: 'tuple', items };
    }
    if (this.peek().k !== 'end') fail();
    return node;
  }

  /** operand, optionally `operand (+|-) operand` */
  private element(): Node {
    const left = this.operand();
    if (this.isOp('+') || this.isOp('-')) {
      const op = (this.peek() as { v: string }).v as '+' | '-';
      this.i++;
      const right = this.operand();
      if (this.isOp('+') || this.isOp('-')) fail(); // chained: left operand is a BinOp → malformed
      return { k: 'binop', op, left, right };
    }
    return left;
  }

  private operand(): Node {
    if (this.isOp('+') || this.isOp('-')) {
      const op = (this.peek() as { v: string }).v as '+' | '-';
      this.i++;
      if (this.isOp('+') || this.isOp('-')) fail(); // nested unary: malformed
      return { k: 'unary', op, operand: this.atom() };
    }
    return this.atom();
  }

  private atom(): Node {
    const t = this.peek();
    this.i++;
    switch (t.k) {
      case 'num':
        return { k: 'const', v: t.v };
      case 'str': {
        let fstring = t.fstring;
        const parts: Tok[] = [t];
        while (this.peek().k === 'str') {
          const s = this.peek() as Extract<Tok, { k: 'str' }>;
          if (s.bytes !== t.bytes && !s.fstring && !fstring) fail(); // cannot mix bytes and str
          fstring ||= s.fstring;
          parts.push(s);
          this.i++;
        }
        if (fstring) fail(); // f-strings are JoinedStr: malformed for literal_eval
        if (t.bytes) return { k: 'const', v: { t: 'bytes', v: parts.flatMap((p) => (p as { v: number[] }).v) } };
        return { k: 'const', v: { t: 'str', v: parts.map((p) => (p as { v: string }).v).join('') } };
      }
      case 'name':
        if (t.v === 'True' || t.v === 'False') return { k: 'const', v: { t: 'bool', v: t.v === 'True' } };
        if (t.v === 'None') return { k: 'const', v: { t: 'none' } };
        if (t.v === 'set' && this.isOp('(')) {
          this.i++;
          this.expectOp(')');
          return { k: 'setcall' };
        }
        return fail();
      case 'op':
        if (t.v === '...') return { k: 'const', v: { t: 'ellipsis' } };
        if (t.v === '(') {
          if (this.isOp(')')) {
            this.i++;
            return { k: 'tuple', items: [] };
          }
          const first = this.element();
          if (this.isOp(')')) {
            this.i++;
            return first;
          }
          const items = [first];
          while (this.isOp(',')) {
            this.i++;
            if (this.isOp(')')) break;
            items.push(this.element());
          }
          this.expectOp(')');
          return { k: 'tuple', items };
        }
        if (t.v === '[') {
          const items: Node[] = [];
          while (!this.isOp(']')) {
            items.push(this.element());
            if (!this.isOp(',')) break;
            this.i++;
          }
          this.expectOp(']');
          return { k: 'list', items };
        }
        if (t.v === '{') {
          if (this.isOp('}')) {
            this.i++;
            return { k: 'dict', items: [] };
          }
          const first = this.element();
          if (this.isOp(':')) {
            this.i++;
            const items: [Node, Node][] = [[first, this.element()]];
            while (this.isOp(',')) {
              this.i++;
              if (this.isOp('}')) break;
              const k = this.element();
              this.expectOp(':');
              items.push([k, this.element()]);
            }
            this.expectOp('}');
            return { k: 'dict', items };
          }
          const items = [first];
          while (this.isOp(',')) {
            this.i++;
            if (this.isOp('}')) break;
            items.push(this.element());
          }
          this.expectOp('}');
          return { k: 'set', items };
        }
        return fail();
      default:
        return fail();
    }
  }
}

/** literal_eval's _convert: raises NotLiteral for "malformed node" */
function convert(n: Node): PyVal {
  switch (n.k) {
    case 'const':
      return n.v;
    case 'tuple':
    case 'list':
    case 'set':
      return { t: n.k, v: n.items.map(convert) };
    case 'setcall':
      return { t: 'set', v: [] };
    case 'dict':
      return { t: 'dict', v: n.items.map(([k, v]) => [convert(k), convert(v)] as [PyVal, PyVal]) };
    case 'unary':
      return signedNum(n);
    case 'binop': {
      const left = signedNum(n.left);
      const right = num(n.right);
      if ((left.t === 'int' || left.t === 'float') && right.t === 'complex') return { t: 'complex' };
      return fail();
    }
  }
}

function num(n: Node): PyVal {
  if (n.k !== 'const' || !['int', 'float', 'complex'].includes(n.v.t)) fail();
  return (n as { v: PyVal }).v;
}

function signedNum(n: Node): PyVal {
  if (n.k === 'unary') {
    const v = num(n.operand);
    if (n.op === '+') return v;
    if (v.t === 'int') return { t: 'int', v: -v.v };
    if (v.t === 'float') return { t: 'float', v: -v.v };
    return v;
  }
  return num(n);
}

function hashable(v: PyVal): boolean {
  if (v.t === 'list' || v.t === 'dict' || v.t === 'set') return false;
  if (v.t === 'tuple') return v.v.every(hashable);
  return true;
}

const PY_TYPE: Record<PyVal['t'], string> = {
  int: 'int', float: 'float', complex: 'complex', str: 'str', bytes: 'bytes', bool: 'bool', none: 'NoneType',
  ellipsis: 'ellipsis', tuple: 'tuple', list: 'list', set: 'set', dict: 'dict',
};

function bytesToText(b: number[]): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(b));
  } catch {
    // Python's surrogateescape: undecodable bytes become U+DC80..U+DCFF
    return b.map((x) => String.fromCharCode(x < 0x80 ? x : 0xdc00 + x)).join('');
  }
}

function intToNumber(v: bigint): number {
  return Number(v);
}

/** Equality of dict keys as Python hashes them (numbers and bools by value, tuples by content). */
function keyIdentity(k: PyVal): string {
  switch (k.t) {
    case 'int':
      return 'n:' + Number(k.v);
    case 'float':
      return 'n:' + k.v;
    case 'bool':
      return k.v ? 'n:1' : 'n:0';
    case 'tuple':
      return 't:(' + k.v.map(keyIdentity).join(',') + ')';
    case 'str':
      return 's:' + k.v;
    default:
      return k.t;
  }
}

/** Python json.dumps turns non-string dict keys into strings like this. */
function dictKey(k: PyVal): string {
  switch (k.t) {
    case 'str':
      return k.v;
    case 'int':
      return k.v.toString();
    case 'float':
      return pyFloatRepr(k.v);
    case 'bool':
      return k.v ? 'true' : 'false';
    case 'none':
      return 'null';
    default:
      throw new PyLiteralError(`a dict key of type ${PY_TYPE[k.t]} cannot be written as JSON (Ansible fails on it too)`);
  }
}

function toJs(v: PyVal): unknown {
  switch (v.t) {
    case 'int':
      return intToNumber(v.v);
    case 'float':
      return v.v;
    case 'str':
      return v.v;
    case 'bytes':
      return bytesToText(v.v);
    case 'bool':
      return v.v;
    case 'none':
      return null;
    case 'list':
      return v.v.map(toJs);
    case 'tuple':
      return markTuple(v.v.map(toJs));
    case 'dict': {
      // Python keeps the first of equal keys (1 == 1.0 == True) and the last value
      const keys = new Map<string, string>();
      const o: Record<string, unknown> = {};
      for (const [k, val] of v.v) {
        if (!hashable(k)) throw new PyLiteralError(`unhashable type: '${PY_TYPE[k.t]}' used as a dict key`);
        const id = keyIdentity(k);
        const name = keys.get(id) ?? dictKey(k);
        keys.set(id, name);
        setOwn(o, name, toJs(val));
      }
      return o;
    }
    case 'set':
      for (const x of v.v) if (!hashable(x)) throw new PyLiteralError(`unhashable type: '${PY_TYPE[x.t]}' in a set`);
      throw new PyLiteralError('a Python set literal cannot be written as JSON (ansible-inventory fails on it too)');
    case 'complex':
      throw new PyLiteralError('a Python complex number cannot be written as JSON (ansible-inventory fails on it too)');
    case 'ellipsis':
      throw new PyLiteralError('a Python Ellipsis (...) cannot be written as JSON (ansible-inventory fails on it too)');
  }
}

/**
 * Ansible's INI `_parse_value`: the Python literal the text denotes, or the text itself when it is not a
 * literal. Throws PyLiteralError for literals Ansible cannot use (see module comment).
 */
export function pyParseValue(text: string): unknown {
  let node: Node;
  let val: PyVal;
  try {
    const src = text.replace(/^[ \t]+/, ''); // literal_eval lstrips spaces and tabs
    if (src.includes('\0')) return text;
    node = new Parser(tokenize(src)).parseTop();
    val = convert(node);
  } catch (e) {
    if (e instanceof NotLiteral) return text;
    throw e;
  }
  return toJs(val);
}
