/**
 * Filters and tests: Ansible's (ansible.builtin, ansible.utils ipaddr family, community.general json_query)
 * and the Jinja2 built-ins where MiniJinja's behaviour differs from Jinja2's (join/string print Python
 * values, int takes a base, indent/replace/round take Jinja2's arguments, split returns a list, …).
 *
 * Calling convention (minijinja-js 2.11): `(value, ...args)`; keyword arguments arrive as a trailing Map;
 * dicts arrive as Maps and None as `undefined`. `def()` below turns that into named parameters; a trailing
 * Map whose keys are all parameter names is taken as keyword arguments (a dict passed positionally whose keys
 * all happen to be parameter names would be misread — documented).
 */
import { createHash, randomInt } from 'node:crypto';
import jmespath from 'jmespath';
import YAML from 'yaml';
import { randomSalt, sha512Crypt } from './crypt.js';
import { UNDEF_MARK, type PluginFn } from './engine.js';
import { PluginError, TemplateError } from './errors.js';
import { ipaddrFilter, networkInUsable } from './ipaddr.js';
import { isPlainObject, plain, pyRepr, pyStr, truthy } from './pyvalue.js';
import { pyRegex, pyReplacement } from './pyregex.js';
import { pyyamlDump } from './pyyaml.js';

type Params = Record<string, unknown>;

export const FILTERS = new Map<string, PluginFn>();
export const TESTS = new Map<string, PluginFn>();

/** Split minijinja-js arguments into named parameters (positional first, then a trailing kwargs Map). */
export function bindArgs(name: string, names: string[], args: unknown[], varargs = false): { p: Params; rest: unknown[] } {
  let kw: Map<unknown, unknown> | undefined;
  const last = args[args.length - 1];
  if (last instanceof Map && last.size > 0 && [...last.keys()].every((k) => typeof k === 'string' && names.includes(k))) {
    kw = last;
    args = args.slice(0, -1);
  }
  const p: Params = {};
  const rest: unknown[] = [];
  args.forEach((a, i) => {
    if (i < names.length && !varargs) p[names[i]!] = plain(a);
    else if (varargs) rest.push(plain(a));
    else throw new PluginError(`${name}() takes at most ${names.length} argument${names.length === 1 ? '' : 's'} (${args.length} given)`);
  });
  if (kw) for (const [k, v] of kw) p[k as string] = plain(v);
  return { p, rest };
}

function def(name: string, names: string[], fn: (v: unknown, p: Params, rest: unknown[]) => unknown, varargs = false): void {
  FILTERS.set(name, (value: unknown, ...args: unknown[]) => {
    const { p, rest } = bindArgs(name, names, args, varargs);
    return fn(plain(value), p, rest);
  });
}

function test(name: string, names: string[], fn: (v: unknown, p: Params) => boolean): void {
  TESTS.set(name, (value: unknown, ...args: unknown[]) => {
    const { p } = bindArgs(name, names, args);
    return fn(plain(value), p);
  });
}

const isNone = (v: unknown): boolean => v === null || v === undefined;
const str = (v: unknown): string => pyStr(v);

function toList(v: unknown, what: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (isPlainObject(v)) return Object.keys(v);
  throw new PluginError(`${what} expects a list, got ${typeName(v)}`);
}

export function typeName(v: unknown): string {
  if (isNone(v)) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'dict';
  return typeof v;
}

/** Python equality (1 == True, lists and dicts by value). */
export function pyEq(a: unknown, b: unknown): boolean {
  if (isNone(a) || isNone(b)) return isNone(a) && isNone(b);
  if (typeof a === 'boolean' || typeof b === 'boolean') {
    const na = typeof a === 'boolean' ? +a : a;
    const nb = typeof b === 'boolean' ? +b : b;
    return typeof na === 'number' && typeof nb === 'number' && na === nb;
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => pyEq(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && pyEq(a[k], b[k]));
  }
  return a === b;
}

function uniq(xs: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const x of xs) if (!out.some((y) => pyEq(x, y))) out.push(x);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Jinja2 built-ins that MiniJinja gets wrong for our purposes

def('int', ['default', 'base'], (v, p) => {
  const dflt = p.default ?? 0;
  const base = (p.base as number | undefined) ?? 10;
  if (typeof v === 'boolean') return +v;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : dflt;
  if (typeof v === 'string') {
    const s = v.trim().replace(/_/g, '');
    if (base === 10 && /^[+-]?\d+$/.test(s)) return Number(s);
    if (base !== 10) {
      const m = /^([+-]?)(0[xXoObB])?([0-9a-zA-Z]+)$/.exec(s);
      const b = base === 0 ? (m?.[2] ? { x: 16, o: 8, b: 2 }[m[2][1]!.toLowerCase() as 'x' | 'o' | 'b'] : 10) : base;
      if (m && [...m[3]!].every((c) => parseInt(c, b) < b)) return (m[1] === '-' ? -1 : 1) * parseInt(m[3]!, b);
      return dflt;
    }
    // Jinja2 falls back to int(float(s))
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Math.trunc(Number(s));
    return dflt;
  }
  return dflt;
});

def('join', ['d', 'attribute'], (v, p) => {
  const d = p.d === undefined || p.d === null ? '' : str(p.d);
  let xs = toList(v, 'join');
  if (p.attribute !== undefined && p.attribute !== null) xs = xs.map((x) => attr(x, String(p.attribute)));
  return xs.map(str).join(d);
});

def('string', [], (v) => str(v));

def('split', ['sep', 'maxsplit'], (v, p) => pySplit(str(v), p.sep as string | null | undefined, (p.maxsplit as number | undefined) ?? -1));

export function pySplit(s: string, sep: string | null | undefined, maxsplit = -1): string[] {
  if (sep === null || sep === undefined) {
    const out: string[] = [];
    let rest = s.replace(/^\s+/, '');
    while (rest) {
      if (maxsplit >= 0 && out.length >= maxsplit) {
        out.push(rest.replace(/\s+$/, ''));
        break;
      }
      const m = /\s+/.exec(rest);
      if (!m) {
        out.push(rest);
        break;
      }
      out.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    return out;
  }
  if (sep === '') throw new PluginError('empty separator');
  const parts = s.split(sep);
  if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
  return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(sep)];
}

def('indent', ['width', 'first', 'blank'], (v, p) => {
  const width = p.width ?? 4;
  const ind = typeof width === 'string' ? width : ' '.repeat(Number(width));
  const s = str(v) + '\n';
  const lines = pySplitlines(s);
  let rv: string;
  if (p.blank) rv = lines.join('\n' + ind);
  else {
    rv = lines.shift() ?? '';
    if (lines.length) rv += '\n' + lines.map((l) => (l ? ind + l : l)).join('\n');
  }
  return p.first ? ind + rv : rv;
});

/** Python str.splitlines() (without keepends). */
export function pySplitlines(s: string): string[] {
  // eslint-disable-next-line no-control-regex -- Python's line/character classes include control characters
  const out = s.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (out.length && out[out.length - 1] === '') out.pop();
  return out;
}

def('replace', ['old', 'new', 'count'], (v, p) => {
  const s = str(v);
  const old = str(p.old);
  const nw = str(p.new);
  const count = isNone(p.count) ? -1 : Number(p.count);
  if (count < 0) return old === '' ? [...s].map((c) => nw + c).join('') + nw : s.split(old).join(nw);
  let out = '';
  let rest = s;
  for (let i = 0; i < count; i++) {
    const k = rest.indexOf(old);
    if (k < 0) break;
    out += rest.slice(0, k) + nw;
    rest = rest.slice(k + old.length);
  }
  return out + rest;
});

def('round', ['precision', 'method'], (v, p) => {
  const precision = Number(p.precision ?? 0);
  const method = (p.method as string | undefined) ?? 'common';
  const x = Number(v);
  const f = 10 ** precision;
  if (method === 'common') return pyRound(x, precision);
  if (method === 'ceil') return Math.ceil(x * f) / f;
  if (method === 'floor') return Math.floor(x * f) / f;
  throw new PluginError('method must be common, ceil or floor');
});

/** Python's round(x, n): rounds the exact binary value, exact ties to even. */
export function pyRound(x: number, n: number): number {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e15) return x;
  if (n < 0) {
    const f = 10 ** -n;
    return pyRound(x / f, 0) * f;
  }
  const exact = Math.abs(x).toFixed(Math.min(100, n + 60));
  const [ip, fp = ''] = exact.split('.') as [string, string?];
  const keep = fp.slice(0, n);
  const next = fp[n] ?? '0';
  const tail = fp.slice(n + 1);
  const digits = ip + keep;
  const lastOdd = Number(digits[digits.length - 1]) % 2 === 1;
  const up = next > '5' || (next === '5' && (/[1-9]/.test(tail) || lastOdd));
  let d = BigInt(digits);
  if (up) d += 1n;
  const ds = d.toString().padStart(n + 1, '0');
  const r = Number(n ? `${ds.slice(0, ds.length - n)}.${ds.slice(ds.length - n)}` : ds);
  return x < 0 ? -r : r;
}

def('center', ['width'], (v, p) => {
  const s = str(v);
  const width = Number(p.width ?? 80);
  if (width <= s.length) return s;
  const total = width - s.length;
  const left = Math.floor(total / 2) + (total & width & 1);
  return ' '.repeat(left) + s + ' '.repeat(total - left);
});

def('unique', ['case_sensitive', 'attribute'], (v, p) => {
  const xs = toList(v, 'unique');
  const key = (x: unknown): unknown => {
    let k = isNone(p.attribute) ? x : attr(x, String(p.attribute));
    if (!p.case_sensitive && typeof k === 'string') k = k.toLowerCase();
    return k;
  };
  const seen: unknown[] = [];
  const out: unknown[] = [];
  for (const x of xs) {
    const k = key(x);
    if (seen.some((y) => pyEq(y, k))) continue;
    seen.push(k);
    out.push(x);
  }
  return out;
});

def('bool', [], (v) => {
  if (isNone(v) || typeof v === 'boolean') return v ?? null;
  const a = typeof v === 'string' ? v.toLowerCase() : v;
  return a === 'yes' || a === 'on' || a === '1' || a === 'true' || a === 1;
});

def('__num', ['default'], (v, p) => {
  const dflt = p.default ?? 0;
  if (typeof v === 'boolean') return +v;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const s = v.trim().replace(/_/g, '');
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
    if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (/^[+-]?nan$/i.test(s)) return NaN;
  }
  return dflt;
});

def('tojson', ['indent'], (v, p) =>
  pyJson(v, { sortKeys: true, indent: isNone(p.indent) ? undefined : Number(p.indent) })
    .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/'/g, '\\u0027'),
);

def('__dget', ['key', 'default'], (v, p) => {
  if (isPlainObject(v)) return Object.hasOwn(v, String(p.key)) ? v[String(p.key)] : (p.default ?? null);
  throw new PluginError(`'${typeName(v)}' object has no attribute 'get'`);
});

def('wordcount', [], (v) => (str(v).match(/[\p{L}\p{N}_]+/gu) ?? []).length);

const HTML_ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
def('escape', [], (v) => str(v).replace(/[&<>"']/g, (c) => HTML_ESC[c]!));
FILTERS.set('e', FILTERS.get('escape')!);

// ---------------------------------------------------------------------------------------------------------------
// Ansible core filters

def('ternary', ['true_val', 'false_val', 'none_val'], (v, p) => {
  if (isNone(v) && !isNone(p.none_val)) return p.none_val;
  return truthy(v) ? p.true_val : p.false_val;
});

def('basename', [], (v) => pyBasename(str(v)));
def('dirname', [], (v) => pyDirname(str(v)));

export function pyBasename(p: string): string {
  const i = p.lastIndexOf('/') + 1;
  return p.slice(i);
}

export function pyDirname(p: string): string {
  const i = p.lastIndexOf('/') + 1;
  let head = p.slice(0, i);
  if (head && head !== '/'.repeat(head.length)) head = head.replace(/\/+$/, '');
  return head;
}

def('splitext', [], (v) => {
  const s = str(v);
  const b = pyBasename(s);
  const dot = b.lastIndexOf('.');
  if (dot <= 0 || /^\.+$/.test(b.slice(0, dot + 1))) return [s, ''];
  const cut = s.length - (b.length - dot);
  return [s.slice(0, cut), s.slice(cut)];
});

def('extract', ['container', 'morekeys'], (v, p) => {
  let cur = getItem(p.container, v, 'extract');
  if (!isNone(p.morekeys)) {
    const keys = Array.isArray(p.morekeys) ? p.morekeys : [p.morekeys];
    for (const k of keys) cur = getItem(cur, k, 'extract');
  }
  return cur;
});

function getItem(container: unknown, key: unknown, what: string): unknown {
  if (Array.isArray(container)) {
    const i = Number(key);
    if (!Number.isInteger(i)) throw new PluginError(`${what}: list indices must be integers, not ${typeName(key)}`);
    const v = container[i < 0 ? container.length + i : i];
    if (v === undefined) throw new PluginError(`${what}: list index ${i} out of range`);
    return v;
  }
  if (isPlainObject(container)) {
    const k = String(key);
    if (!(k in container)) throw new PluginError(`${what}: '${typeName(container)} object' has no attribute '${k}'`);
    return container[k];
  }
  throw new PluginError(`${what}: '${typeName(container)}' object is not subscriptable`);
}

function attr(x: unknown, path: string): unknown {
  let cur = x;
  for (const part of path.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(part)) cur = cur[Number(part)];
    else if (isPlainObject(cur)) cur = cur[part];
    else return undefined;
  }
  return cur;
}

// PyYAML's YAML 1.1 booleans: yes/no/true/false/on/off, but not y/n (the yaml library's 1.1 schema has y/n).
const BOOL_TAG = 'tag:yaml.org,2002:bool';
const pyBools = [
  { identify: (v: unknown) => v === true, default: true, tag: BOOL_TAG, test: /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/, resolve: () => true },
  { identify: (v: unknown) => v === false, default: true, tag: BOOL_TAG, test: /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/, resolve: () => false },
];
const YAML_OPTS = {
  version: '1.1' as const,
  customTags: (tags: YAML.Tags) => [...pyBools, ...tags.filter((t) => (t as { tag?: string }).tag !== BOOL_TAG)] as YAML.Tags,
};

def('from_yaml', [], (v) => {
  if (typeof v !== 'string') return v;
  try {
    return YAML.parse(v, YAML_OPTS) ?? null;
  } catch (e) {
    throw new PluginError(`from_yaml: ${(e as Error).message.split('\n')[0]}`);
  }
});
def('from_yaml_all', [], (v) => {
  if (typeof v !== 'string') return v;
  return YAML.parseAllDocuments(v, YAML_OPTS).map((d) => d.toJS() ?? null);
});

def('from_json', [], (v) => {
  try {
    return JSON.parse(str(v));
  } catch (e) {
    throw new PluginError(`from_json: ${(e as Error).message}`);
  }
});

/** Python json.dumps (ensure_ascii, default separators). */
export function pyJson(v: unknown, o: { indent?: number; sortKeys?: boolean; separators?: [string, string]; ensureAscii?: boolean } = {}): string {
  const [itemSep, keySep] = o.separators ?? (o.indent !== undefined ? [',', ': '] : [', ', ': ']);
  const ascii = o.ensureAscii ?? true;
  const enc = (s: string): string => {
    let out = '"';
    for (const ch of s) {
      const cp = ch.codePointAt(0)!;
      if (ch === '"') out += '\\"';
      else if (ch === '\\') out += '\\\\';
      else if (ch === '\n') out += '\\n';
      else if (ch === '\r') out += '\\r';
      else if (ch === '\t') out += '\\t';
      else if (ch === '\b') out += '\\b';
      else if (ch === '\f') out += '\\f';
      else if (cp < 0x20 || (ascii && cp > 0x7e)) {
        if (cp > 0xffff) {
          const h = Math.floor((cp - 0x10000) / 0x400) + 0xd800;
          const l = ((cp - 0x10000) % 0x400) + 0xdc00;
          out += `\\u${h.toString(16)}\\u${l.toString(16)}`;
        } else out += `\\u${cp.toString(16).padStart(4, '0')}`;
      } else out += ch;
    }
    return out + '"';
  };
  const walk = (x: unknown, level: number): string => {
    if (isNone(x)) return 'null';
    if (x === true) return 'true';
    if (x === false) return 'false';
    if (typeof x === 'number') {
      if (Number.isNaN(x)) return 'NaN';
      if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
      return Number.isInteger(x) ? x.toFixed(0) : pyRepr(x);
    }
    if (typeof x === 'string') return enc(x);
    const nl = o.indent !== undefined ? '\n' + ' '.repeat(o.indent * (level + 1)) : '';
    const close = o.indent !== undefined ? '\n' + ' '.repeat(o.indent * level) : '';
    if (Array.isArray(x)) {
      if (!x.length) return '[]';
      return '[' + nl + x.map((y) => walk(y, level + 1)).join(itemSep + nl) + close + ']';
    }
    if (typeof x === 'object') {
      let entries = Object.entries(x as object);
      if (!entries.length) return '{}';
      if (o.sortKeys) entries = entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return '{' + nl + entries.map(([k, y]) => enc(k) + keySep + walk(y, level + 1)).join(itemSep + nl) + close + '}';
    }
    throw new PluginError(`Object of type ${typeof x} is not JSON serializable`);
  };
  return walk(v, 0);
}

def('to_json', ['indent', 'sort_keys', 'ensure_ascii', 'separators'], (v, p) =>
  pyJson(v, {
    indent: isNone(p.indent) ? undefined : Number(p.indent),
    sortKeys: !!p.sort_keys,
    ensureAscii: p.ensure_ascii === undefined ? true : !!p.ensure_ascii,
    separators: Array.isArray(p.separators) ? (p.separators as [string, string]) : undefined,
  }),
);
def('to_nice_json', ['indent', 'sort_keys'], (v, p) =>
  pyJson(v, { indent: isNone(p.indent) ? 4 : Number(p.indent), sortKeys: p.sort_keys === undefined ? true : !!p.sort_keys, separators: [',', ': '] }),
);
def('to_yaml', ['indent', 'default_flow_style'], (v, p) => pyyamlDump(v, { indent: isNone(p.indent) ? 2 : Number(p.indent), flow: p.default_flow_style === false ? 'block' : 'auto' }));
def('to_nice_yaml', ['indent'], (v, p) => pyyamlDump(v, { indent: isNone(p.indent) ? 4 : Number(p.indent), flow: 'block' }));

def('json_query', ['expr'], (v, p) => {
  try {
    return jmespath.search(v as object, String(p.expr)) ?? null;
  } catch (e) {
    throw new PluginError(`JMESPathError in json_query filter plugin: ${(e as Error).message}`);
  }
});

function b64(s: string, enc: BufferEncoding): string {
  return Buffer.from(s, enc).toString('base64');
}
def('b64encode', ['encoding', 'errors'], (v, p) => b64(str(v), (p.encoding as BufferEncoding | undefined) ?? 'utf8'));
def('b64decode', ['encoding', 'errors'], (v, p) => {
  const s = str(v).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) throw new PluginError('Incorrect padding');
  if (s.length % 4 !== 0) throw new PluginError('Incorrect padding');
  return Buffer.from(s, 'base64').toString((p.encoding as BufferEncoding | undefined) ?? 'utf8');
});

def('regex_replace', ['pattern', 'replacement', 'ignorecase', 'multiline'], (v, p) => {
  const re = pyRegex(str(p.pattern ?? ''), { ignorecase: !!p.ignorecase, multiline: !!p.multiline, global: true });
  return str(v).replace(re, pyReplacement(str(p.replacement ?? '')));
});

// regex_search takes extra positional group references: re-register with varargs after the named ones
FILTERS.set('regex_search', (value: unknown, ...args: unknown[]) => {
  let kw: Map<unknown, unknown> | undefined;
  const last = args[args.length - 1];
  if (last instanceof Map) {
    kw = last;
    args = args.slice(0, -1);
  }
  const [regex, ...groups] = args.map(plain);
  const flags = { ignorecase: !!kw?.get('ignorecase'), multiline: !!kw?.get('multiline') };
  const re = pyRegex(str(regex), flags);
  const m = re.exec(str(plain(value)));
  if (!m) return null;
  if (!groups.length) return m[0];
  return groups.map((g) => {
    const gs = str(g);
    const num = /^\\(\d+)$/.exec(gs);
    if (num) return m[Number(num[1])] ?? null;
    const named = /^\\g<(\w+)>$/.exec(gs);
    if (named) return m.groups?.[named[1]!] ?? null;
    throw new PluginError(`Unknown argument ${gs}`);
  });
});

def('regex_findall', ['regex', 'multiline', 'ignorecase'], (v, p) => {
  const re = pyRegex(str(p.regex), { ignorecase: !!p.ignorecase, multiline: !!p.multiline, global: true });
  const out: unknown[] = [];
  for (const m of str(v).matchAll(re)) out.push(m.length > 2 ? m.slice(1).map((x) => x ?? '') : m.length === 2 ? (m[1] ?? '') : m[0]);
  return out;
});

def('regex_escape', ['re_type'], (v) => str(v).replace(/[^A-Za-z0-9_]/g, (c) => (c.charCodeAt(0) > 127 ? c : '\\' + c)));

// math
def('pow', ['y'], (v, p) => Math.pow(Number(v), Number(p.y)));
def('log', ['base'], (v, p) => (isNone(p.base) ? Math.log(Number(v)) : Math.log(Number(v)) / Math.log(Number(p.base))));
def('root', ['base'], (v, p) => (isNone(p.base) || Number(p.base) === 2 ? Math.sqrt(Number(v)) : Math.pow(Number(v), 1 / Number(p.base))));

def('product', [], (v, _p, rest) => {
  const lists = [toList(v, 'product'), ...rest.map((r) => toList(r, 'product'))];
  let out: unknown[][] = [[]];
  for (const l of lists) out = out.flatMap((pre) => l.map((x) => [...pre, x]));
  return out;
}, true);

def('union', ['b'], (v, p) => uniq([...toList(v, 'union'), ...toList(p.b, 'union')]));
def('intersect', ['b'], (v, p) => {
  const b = toList(p.b, 'intersect');
  return uniq(toList(v, 'intersect').filter((x) => b.some((y) => pyEq(x, y))));
});
def('difference', ['b'], (v, p) => {
  const b = toList(p.b, 'difference');
  return uniq(toList(v, 'difference').filter((x) => !b.some((y) => pyEq(x, y))));
});
def('symmetric_difference', ['b'], (v, p) => {
  const a = toList(v, 'symmetric_difference');
  const b = toList(p.b, 'symmetric_difference');
  return uniq([...a.filter((x) => !b.some((y) => pyEq(x, y))), ...b.filter((x) => !a.some((y) => pyEq(x, y)))]);
});

def('flatten', ['levels', 'skip_nulls'], (v, p) => {
  const skip = p.skip_nulls === undefined ? true : !!p.skip_nulls;
  const go = (xs: unknown[], levels: number | null): unknown[] => {
    const out: unknown[] = [];
    for (const x of xs) {
      if (skip && (x === null || x === undefined || x === 'None')) continue;
      if (Array.isArray(x) && (levels === null || levels > 0)) out.push(...go(x, levels === null ? null : levels - 1));
      else out.push(x);
    }
    return out;
  };
  return go(toList(v, 'flatten'), isNone(p.levels) ? null : Number(p.levels) - 0);
});

def('random', ['start', 'step', 'seed'], (v, p) => {
  if (typeof v === 'number') {
    const start = Number(p.start ?? 0);
    const step = Number(p.step ?? 1);
    const n = Math.max(0, Math.ceil((v - start) / step));
    if (n <= 0) throw new PluginError('empty range for randrange()');
    return start + randomInt(n) * step;
  }
  const xs = toList(v, 'random');
  if (!xs.length) throw new PluginError('Cannot choose from an empty sequence');
  return xs[randomInt(xs.length)];
});

def('shuffle', ['seed'], (v) => {
  const xs = [...toList(v, 'shuffle')];
  for (let i = xs.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
});

// dicts
function combineTwo(a: Record<string, unknown>, b: Record<string, unknown>, recursive: boolean, listMerge: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, bv] of Object.entries(b)) {
    const av = out[k];
    if (recursive && isPlainObject(av) && isPlainObject(bv)) out[k] = combineTwo(av, bv, recursive, listMerge);
    else if (Array.isArray(av) && Array.isArray(bv) && listMerge !== 'replace') {
      if (listMerge === 'keep') out[k] = av;
      else if (listMerge === 'append') out[k] = [...av, ...bv];
      else if (listMerge === 'prepend') out[k] = [...bv, ...av];
      else if (listMerge === 'append_rp') out[k] = [...av.filter((x) => !bv.some((y) => pyEq(x, y))), ...bv];
      else if (listMerge === 'prepend_rp') out[k] = [...bv, ...av.filter((x) => !bv.some((y) => pyEq(x, y)))];
      else throw new PluginError(`'${listMerge}' is not a valid list_merge value`);
    } else out[k] = bv;
  }
  return out;
}

FILTERS.set('combine', (value: unknown, ...args: unknown[]) => {
  let kw: Map<unknown, unknown> | undefined;
  const last = args[args.length - 1];
  if (last instanceof Map && last.size > 0 && [...last.keys()].every((k) => k === 'recursive' || k === 'list_merge')) {
    kw = last;
    args = args.slice(0, -1);
  }
  const recursive = !!kw?.get('recursive');
  const listMerge = (kw?.get('list_merge') as string | undefined) ?? 'replace';
  const dicts = [plain(value), ...args.map(plain)].flatMap((d) => (Array.isArray(d) ? d : [d]));
  let out: Record<string, unknown> = {};
  for (const d of dicts) {
    if (!isPlainObject(d)) throw new PluginError(`failed to combine variables, expected dicts but got a '${typeName(d)}'`);
    out = combineTwo(out, d, recursive, listMerge);
  }
  return out;
});

def('dict2items', ['key_name', 'value_name'], (v, p) => {
  if (!isPlainObject(v)) throw new PluginError(`dict2items requires a dictionary, got ${typeName(v)} instead.`);
  const kn = String(p.key_name ?? 'key');
  const vn = String(p.value_name ?? 'value');
  return Object.entries(v).map(([k, x]) => ({ [kn]: k, [vn]: x }));
});
def('items2dict', ['key_name', 'value_name'], (v, p) => {
  const kn = String(p.key_name ?? 'key');
  const vn = String(p.value_name ?? 'value');
  if (!Array.isArray(v)) throw new PluginError(`items2dict requires a list, got ${typeName(v)} instead.`);
  const out: Record<string, unknown> = {};
  for (const it of v) {
    if (!isPlainObject(it)) throw new PluginError(`items2dict requires a list of dictionaries, got ${typeName(it)} instead.`);
    if (!(kn in it) || !(vn in it)) throw new PluginError(`items2dict requires each dictionary to have keys '${kn}' and '${vn}'`);
    out[str(it[kn])] = it[vn];
  }
  return out;
});

def('zip', [], (v, _p, rest) => {
  const lists = [toList(v, 'zip'), ...rest.map((r) => toList(r, 'zip'))];
  const n = Math.min(...lists.map((l) => l.length));
  return Array.from({ length: n }, (_, i) => lists.map((l) => l[i]));
}, true);

def('type_debug', [], (v) => typeName(v));

// hashing and passwords
def('hash', ['hashtype'], (v, p) => {
  const algo = String(p.hashtype ?? 'sha1');
  try {
    return createHash(algo).update(str(v), 'utf8').digest('hex');
  } catch {
    return null;
  }
});
def('checksum', [], (v) => createHash('sha1').update(str(v), 'utf8').digest('hex'));
def('md5', [], (v) => createHash('md5').update(str(v), 'utf8').digest('hex'));
def('sha1', [], (v) => createHash('sha1').update(str(v), 'utf8').digest('hex'));

def('password_hash', ['hashtype', 'salt', 'salt_size', 'rounds', 'ident'], (v, p) => {
  const type = String(p.hashtype ?? 'sha512');
  if (type !== 'sha512' && type !== 'sha512_crypt') {
    throw new PluginError(`password_hash: only sha512 is supported here, got ${type}`);
  }
  let salt = isNone(p.salt) ? randomSalt(isNone(p.salt_size) ? 16 : Number(p.salt_size)) : str(p.salt);
  if (salt.length > 16) throw new PluginError(`invalid salt size, must be at most 16 characters: ${salt.length}`);
  if (!/^[./0-9A-Za-z]*$/.test(salt)) throw new PluginError('invalid characters in sha512_crypt salt');
  salt = salt.slice(0, 16);
  return sha512Crypt(str(v), salt, isNone(p.rounds) ? undefined : Number(p.rounds));
});

def('quote', [], (v) => {
  const s = isNone(v) ? '' : str(v);
  if (s === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return "'" + s.replace(/'/g, `'"'"'`) + "'";
});

// `X | mandatory` arrives as `X | default(UNDEF_MARK + 'X') | mandatory` (engine.ts guardChains).
def('mandatory', ['msg'], (v, p) => {
  if (typeof v !== 'string' || !v.startsWith(UNDEF_MARK)) return v;
  if (!isNone(p.msg)) throw new PluginError(str(p.msg));
  const variable = v.slice(UNDEF_MARK.length) || undefined;
  const name = variable ? /^[A-Za-z_]\w*/.exec(variable)?.[0] : undefined;
  throw new TemplateError(`Mandatory variable ${variable ? `'${variable}' ` : ''}not defined.`, {
    kind: 'undefined', plugin: 'mandatory', variable, name, hint: variable ? `define '${variable}' (the template requires it: | mandatory)` : undefined,
  });
});

FILTERS.set('comment', (value: unknown, ...args: unknown[]) => {
  let kw: Map<unknown, unknown> | undefined;
  const last = args[args.length - 1];
  if (last instanceof Map) {
    kw = last;
    args = args.slice(0, -1);
  }
  const p: Params = {};
  if (kw) for (const [k, v] of kw) p[String(k)] = plain(v);
  return commentFilter(str(plain(value)), args.length ? str(plain(args[0])) : String(p.style ?? 'plain'), p);
});

/** Ansible's comment filter: beginning, prefix line(s), decorated text, postfix line(s), end. */
function commentFilter(text: string, style: string, kw: Params): string {
  const styles: Record<string, Record<string, string>> = {
    plain: { decoration: '# ' },
    erlang: { decoration: '% ' },
    c: { decoration: '// ' },
    cblock: { beginning: '/*', decoration: ' * ', end: ' */' },
    xml: { beginning: '<!--', decoration: ' - ', end: '-->' },
  };
  const sp = styles[style];
  if (!sp) throw new PluginError(`comment: unknown style '${style}'`);
  const prepost = 'decoration' in kw ? str(kw.decoration) : sp.decoration!;
  const p: Record<string, unknown> = {
    newline: '\n', beginning: '', prefix: prepost.trimEnd(), prefix_count: 1, decoration: '', postfix: prepost.trimEnd(), postfix_count: 1, end: '',
    ...sp,
  };
  for (const [k, v] of Object.entries(kw)) if (k !== 'style') p[k] = v;
  const nl = str(p.newline);
  const dec = str(p.decoration);
  const beginning = p.beginning ? `${str(p.beginning)}${nl}` : '';
  let prefix = '';
  if (p.prefix) prefix = (p.prefix !== nl ? `${str(p.prefix)}${nl}` : nl).repeat(Number(p.prefix_count));
  const body = (dec + text.split(nl).join(nl + dec)).split(dec + nl).join(dec.trimEnd() + nl);
  const postfix = ['', ...Array.from({ length: Number(p.postfix_count) }, () => str(p.postfix))].join(nl);
  const end = p.end ? `${nl}${str(p.end)}` : '';
  return `${beginning}${prefix}${body}${postfix}${end}`;
}

// network
def('ipaddr', ['query', 'version', 'alias'], (v, p) => ipaddrFilter(v, p.query ?? '', 0, 'ipaddr'));
def('ipv4', ['query'], (v, p) => ipaddrFilter(v, p.query ?? '', 4, 'ipv4'));
def('ipv6', ['query'], (v, p) => ipaddrFilter(v, p.query ?? '', 6, 'ipv6'));
def('network_in_usable', ['test'], (v, p) => networkInUsable(v, p.test));

// misc
def('to_datetime', ['format'], () => {
  throw new PluginError('to_datetime is not supported');
});

def('subelements', ['subelements', 'skip_missing'], (v, p) => {
  const xs = toList(v, 'subelements');
  const key = String(p.subelements);
  const out: unknown[] = [];
  for (const x of xs) {
    const sub = attr(x, key);
    if (sub === undefined) {
      if (p.skip_missing) continue;
      throw new PluginError(`could not find '${key}' key in iterated item '${pyRepr(x)}'`);
    }
    if (!Array.isArray(sub)) throw new PluginError(`the key ${key} should point to a list, got '${pyRepr(sub)}'`);
    for (const s of sub) out.push([x, s]);
  }
  return out;
});

// ---------------------------------------------------------------------------------------------------------------
// Tests

function result(v: unknown, what: string): Record<string, unknown> {
  if (!isPlainObject(v)) throw new PluginError(`The '${what}' test expects a dictionary`);
  return v;
}
test('changed', [], (v) => {
  const r = result(v, 'changed');
  if ('results' in r && Array.isArray(r.results)) return r.results.some((x) => isPlainObject(x) && truthy(x.changed));
  return truthy(r.changed);
});
test('failed', [], (v) => truthy(result(v, 'failed').failed));
test('succeeded', [], (v) => !truthy(result(v, 'succeeded').failed));
test('success', [], (v) => !truthy(result(v, 'success').failed));
test('skipped', [], (v) => truthy(result(v, 'skipped').skipped));
test('finished', [], (v) => {
  const r = result(v, 'finished');
  return r.finished === undefined ? true : truthy(r.finished);
});
test('any', [], (v) => toList(v, 'any').some(truthy));
test('all', [], (v) => toList(v, 'all').every(truthy));
test('truthy', ['convert_bool'], (v) => truthy(v));
test('falsy', ['convert_bool'], (v) => !truthy(v));

function regexTest(mode: 'match' | 'search' | 'fullmatch') {
  return (v: unknown, p: Params): boolean => {
    if (typeof v !== 'string') return false;
    const pat = str(p.pattern);
    const src = mode === 'match' ? `^(?:${pat})` : mode === 'fullmatch' ? `^(?:${pat})$` : pat;
    const re = pyRegex(src, { ignorecase: !!p.ignorecase, multiline: !!p.multiline });
    return re.test(v);
  };
}
test('match', ['pattern', 'ignorecase', 'multiline'], regexTest('match'));
test('search', ['pattern', 'ignorecase', 'multiline'], regexTest('search'));
test('regex', ['pattern', 'ignorecase', 'multiline', 'match_type'], (v, p) => regexTest((p.match_type as 'match' | 'search' | 'fullmatch' | undefined) ?? 'search')(v, p));
test('contains', ['seed'], (v, p) => toList(v, 'contains').some((x) => pyEq(x, p.seed)));
test('subset', ['b'], (v, p) => toList(v, 'subset').every((x) => toList(p.b, 'subset').some((y) => pyEq(x, y))));
test('superset', ['b'], (v, p) => toList(p.b, 'superset').every((x) => toList(v, 'superset').some((y) => pyEq(x, y))));
test('version', ['version', 'operator', 'strict', 'version_type'], (v, p) => versionCompare(str(v), str(p.version), String(p.operator ?? 'eq')));
test('version_compare', ['version', 'operator', 'strict', 'version_type'], (v, p) => versionCompare(str(v), str(p.version), String(p.operator ?? 'eq')));

/** LooseVersion-style comparison (numbers numerically, words lexically). */
export function versionCompare(a: string, b: string, op: string): boolean {
  const parts = (s: string): (number | string)[] => (s.match(/\d+|[a-z]+/gi) ?? []).map((x) => (/^\d+$/.test(x) ? Number(x) : x));
  const pa = parts(a);
  const pb = parts(b);
  let c = 0;
  for (let i = 0; i < Math.max(pa.length, pb.length) && c === 0; i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) c = -1;
    else if (y === undefined) c = 1;
    else if (typeof x === typeof y) c = x < y ? -1 : x > y ? 1 : 0;
    else c = typeof x === 'number' ? 1 : -1;
  }
  const ops: Record<string, boolean> = {
    '<': c < 0, lt: c < 0, '<=': c <= 0, le: c <= 0, '>': c > 0, gt: c > 0, '>=': c >= 0, ge: c >= 0, '==': c === 0, '=': c === 0, eq: c === 0, '!=': c !== 0, '<>': c !== 0, ne: c !== 0,
  };
  if (!(op in ops)) throw new PluginError(`Invalid operator type (${op})`);
  return ops[op]!;
}
