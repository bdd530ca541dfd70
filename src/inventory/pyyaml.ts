/**
 * YAML read the way Ansible reads it: PyYAML's YAML 1.1 implicit typing (Ansible's AnsibleLoader =
 * PyYAML SafeLoader resolver + Ansible constructors), with the source position of every node.
 *
 * The `yaml` package parses (it keeps positions); typing is done here because its YAML 1.1 schema is
 * not PyYAML's: PyYAML has no y/n booleans, reads `08` and `1e5` as strings, `0644` as octal 420,
 * `1:30` as 90 (sexagesimal), `.5` as a float but `+.5` as a string, dates as dates.
 *
 * Also like Ansible: a text that is valid JSON is read as JSON first (DataLoader tries json.loads);
 * `<<` merge keys; duplicate keys keep the first position and the last value (with a warning);
 * `!unsafe` (UnsafeText), `!vault` (VaultText unless a constructor is supplied), `!!str/int/float/
 * bool/null/timestamp/map/seq`. Dates become their ISO text (what ansible-inventory prints).
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ParseError, type SourcePos } from '../core/errors.js';
import { setOwn, UnsafeText, VaultText } from './types.js';
import { pyFloatRepr } from './pyrepr.js';

export type PNode =
  | { kind: 'scalar'; value: unknown; pos: SourcePos }
  | { kind: 'map'; entries: PEntry[]; pos: SourcePos }
  | { kind: 'seq'; items: PNode[]; pos: SourcePos };

export interface PEntry {
  key: unknown;
  keyPos: SourcePos;
  value: PNode;
}

export type ScalarTagConstructor = (text: string, pos: SourcePos) => unknown;

export interface PyYamlOptions {
  /** constructors for local scalar tags, e.g. `{ '!vault': (text) => … }` from the vault layer */
  scalarTags?: Record<string, ScalarTagConstructor>;
}

export interface PyYamlResult {
  /** null for an empty document */
  root: PNode | null;
  warnings: { message: string; pos: SourcePos }[];
}

const MAX_NODES = 1_000_000;

const BOOL_RE = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const FLOAT_RE =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const INT_RE = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const NULL_RE = /^(?:~|null|Null|NULL|)$/;
const TIMESTAMP_RE =
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/;
const TIMESTAMP_PARTS =
  /^([0-9][0-9][0-9][0-9])-([0-9][0-9]?)-([0-9][0-9]?)(?:(?:[Tt]|[ \t]+)([0-9][0-9]?):([0-9][0-9]):([0-9][0-9])(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9][0-9]?)(?::([0-9][0-9]))?))?)?$/;
const JSON_NUM = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/;

const Y = 'tag:yaml.org,2002:';

class ConstructError extends Error {}

function constructInt(text: string): number {
  let v = text.replace(/_/g, '');
  let sign = 1n;
  if (v[0] === '-') sign = -1n;
  if (v[0] === '-' || v[0] === '+') v = v.slice(1);
  try {
    if (v === '0') return 0;
    if (v.startsWith('0b')) return Number(sign * BigInt(v));
    if (v.startsWith('0x')) return Number(sign * BigInt(v));
    if (v[0] === '0') {
      if (!/^[0-7]+$/.test(v)) throw new Error();
      return Number(sign * BigInt('0o' + v));
    }
    if (v.includes(':')) {
      let n = 0n;
      for (const part of v.split(':')) {
        if (!/^[0-9]+$/.test(part)) throw new Error();
        n = n * 60n + BigInt(part);
      }
      return Number(sign * n);
    }
    if (!/^[0-9]+$/.test(v)) throw new Error();
    return Number(sign * BigInt(v));
  } catch {
    throw new ConstructError(`invalid literal for int(): '${text}'`);
  }
}

function constructFloat(text: string): number {
  let v = text.replace(/_/g, '').toLowerCase();
  let sign = 1;
  if (v[0] === '-') sign = -1;
  if (v[0] === '-' || v[0] === '+') v = v.slice(1);
  if (v === '.inf') return sign * Infinity;
  if (v === '.nan') return NaN;
  if (v.includes(':')) {
    let n = 0;
    for (const part of v.split(':')) n = n * 60 + Number.parseFloat(part);
    return sign * n;
  }
  const t = v.trim();
  if (!/^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[-+]?[0-9]+)?$|^(?:inf|infinity|nan)$/.test(t)) {
    throw new ConstructError(`could not convert string to float: '${text}'`);
  }
  if (t === 'inf' || t === 'infinity') return sign * Infinity;
  if (t === 'nan') return NaN;
  return sign * Number.parseFloat(t);
}

function constructBool(text: string): boolean {
  const v = text.toLowerCase();
  if (v === 'yes' || v === 'true' || v === 'on') return true;
  if (v === 'no' || v === 'false' || v === 'off') return false;
  throw new ConstructError(`'${text}' is not a YAML 1.1 boolean`);
}

function daysIn(y: number, m: number): number {
  return [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 0;
}

/** construct_yaml_timestamp → date/datetime; returned as Python's isoformat() text. */
function constructTimestamp(text: string): string {
  const m = TIMESTAMP_PARTS.exec(text);
  if (!m) throw new ConstructError(`'${text}' is not a timestamp`);
  const [, ys, mos, ds, hs, mis, ss, frac, tz, tzSign, tzh, tzm] = m;
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo)) throw new ConstructError(`day is out of range for month: ${text}`);
  const p2 = (n: number | string): string => String(n).padStart(2, '0');
  const date = `${String(y).padStart(4, '0')}-${p2(mo)}-${p2(d)}`;
  if (hs === undefined) return date;
  const h = Number(hs);
  const mi = Number(mis);
  const s = Number(ss);
  if (h > 23 || mi > 59 || s > 59) throw new ConstructError(`time out of range: ${text}`);
  let out = `${date}T${p2(h)}:${p2(mi)}:${p2(s)}`;
  const us = frac ? frac.slice(0, 6).padEnd(6, '0') : '';
  if (us && Number(us) !== 0) out += '.' + us;
  if (tzSign) {
    const th = Number(tzh);
    const tm = Number(tzm ?? 0);
    if (th * 60 + tm >= 24 * 60) throw new ConstructError(`offset out of range: ${text}`);
    out += `${th === 0 && tm === 0 ? '+' : tzSign}${p2(th)}:${p2(tm)}`;
  } else if (tz) out += '+00:00';
  return out;
}

/** PyYAML's implicit resolver for a plain scalar. */
function resolvePlain(text: string): unknown {
  if (BOOL_RE.test(text)) return constructBool(text);
  if (FLOAT_RE.test(text)) return constructFloat(text);
  if (INT_RE.test(text)) return constructInt(text);
  if (text === '<<') throw new ConstructError("could not determine a constructor for the tag 'tag:yaml.org,2002:merge'");
  if (NULL_RE.test(text)) return null;
  if (TIMESTAMP_RE.test(text)) return constructTimestamp(text);
  if (text === '=') throw new ConstructError("could not determine a constructor for the tag 'tag:yaml.org,2002:value'");
  return text;
}

function resolveJsonPlain(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  const m = JSON_NUM.exec(text);
  if (m) return m[1] || m[2] ? Number.parseFloat(text) : Number(BigInt(text));
  return resolvePlain(text);
}

/**
 * `!unsafe` on a collection, as Ansible builds it: its strings become unsafe, but nested collections
 * come out EMPTY (Ansible's constructor is not deep, so they are copied before being filled).
 */
function markUnsafeCollection(n: PNode, warn: (pos: SourcePos) => void): PNode {
  const shallow = (c: PNode): PNode => {
    if (c.kind === 'scalar') return typeof c.value === 'string' ? { ...c, value: new UnsafeText(c.value) } : c;
    warn(c.pos);
    return c.kind === 'seq' ? { ...c, items: [] } : { ...c, entries: [] };
  };
  if (n.kind === 'seq') return { ...n, items: n.items.map(shallow) };
  if (n.kind === 'map') return { ...n, entries: n.entries.map((e) => ({ ...e, value: shallow(e.value) })) };
  return n;
}

/** A key's identity in a Python dict: 1 and '1' differ; 1, 1.0 and True are one key. */
function keyId(k: unknown): string {
  if (typeof k === 'string') return 's:' + k;
  if (k instanceof UnsafeText) return 's:' + k.text;
  if (typeof k === 'number') return 'n:' + String(k);
  if (typeof k === 'boolean') return k ? 'n:1' : 'n:0';
  return typeof k + ':' + String(k);
}

class Converter {
  private count = 0;
  private readonly active = new Set<Node>();
  readonly warnings: { message: string; pos: SourcePos }[] = [];

  private readonly doc: Document.Parsed;
  private readonly lc: LineCounter;
  private readonly file: string;
  private readonly json: boolean;
  private readonly opts: PyYamlOptions;

  constructor(doc: Document.Parsed, lc: LineCounter, file: string, json: boolean, opts: PyYamlOptions) {
    this.doc = doc;
    this.lc = lc;
    this.file = file;
    this.json = json;
    this.opts = opts;
  }

  private readonly unsafeWarning = (pos: SourcePos): void => {
    this.warnings.push({ message: 'a collection nested in an !unsafe collection is empty in Ansible (its loader is not deep); tag the strings instead', pos });
  };

  pos(node: Node | null | undefined): SourcePos {
    if (!node?.range) return { file: this.file };
    const p = this.lc.linePos(node.range[0]);
    return { file: this.file, line: p.line, col: p.col };
  }

  private fail(message: string, node: Node | null | undefined, hint?: string): never {
    throw new ParseError(message, { pos: this.pos(node), ...(hint ? { hint } : {}) });
  }

  convert(node: Node | null | undefined, fallbackPos: SourcePos): PNode {
    if (++this.count > MAX_NODES) this.fail('YAML document too large (or alias expansion too big)', node);
    if (node === null || node === undefined) return { kind: 'scalar', value: null, pos: fallbackPos };
    if (isAlias(node)) {
      const target = node.resolve(this.doc) as Node | undefined;
      if (!target) this.fail(`unknown alias *${node.source}`, node);
      if (this.active.has(target)) this.fail(`recursive alias *${node.source} is not supported`, node);
      return this.convert(target, this.pos(node));
    }
    this.active.add(node);
    try {
      return this.convertNode(node);
    } finally {
      this.active.delete(node);
    }
  }

  private convertNode(node: Node): PNode {
    const pos = this.pos(node);
    const tag = node.tag;
    if (isScalar(node)) {
      const text = String(node.value ?? '');
      try {
        return { kind: 'scalar', value: this.scalar(node, text, tag, pos), pos };
      } catch (e) {
        if (e instanceof ConstructError) this.fail(e.message, node, 'quote the value to keep it a string');
        throw e;
      }
    }
    if (isSeq(node)) {
      if (tag && tag !== `${Y}seq` && tag !== '!unsafe') this.fail(`unsupported YAML tag ${tag} on a sequence`, node);
      const out: PNode = { kind: 'seq', items: node.items.map((i) => this.convert(i as Node, pos)), pos };
      return tag === '!unsafe' ? markUnsafeCollection(out, this.unsafeWarning) : out;
    }
    if (isMap(node)) {
      if (tag && tag !== `${Y}map` && tag !== '!unsafe') this.fail(`unsupported YAML tag ${tag} on a mapping`, node);
      const out: PNode = { kind: 'map', entries: this.mapEntries(node), pos };
      return tag === '!unsafe' ? markUnsafeCollection(out, this.unsafeWarning) : out;
    }
    return this.fail('unsupported YAML node', node);
  }

  private scalar(node: Node, text: string, tag: string | undefined, pos: SourcePos): unknown {
    if (tag) {
      const custom = this.opts.scalarTags?.[tag];
      if (custom) return custom(text, pos);
      switch (tag) {
        case `${Y}str`:
        case '!':
          return text;
        case `${Y}int`:
          return constructInt(text);
        case `${Y}float`:
          return constructFloat(text);
        case `${Y}bool`:
          return constructBool(text);
        case `${Y}null`:
          return null;
        case `${Y}timestamp`:
          return constructTimestamp(text);
        case '!unsafe':
          return new UnsafeText(text);
        case '!vault':
          return new VaultText(text);
        default:
          return this.fail(`unsupported YAML tag ${tag}`, node, 'Ansible inventories accept !unsafe, !vault and the standard !! tags');
      }
    }
    if ((node as { type?: string }).type !== 'PLAIN') return text;
    return this.json ? resolveJsonPlain(text) : resolvePlain(text);
  }

  private keyOf(node: Node | null, fallback: SourcePos): { key: unknown; keyPos: SourcePos } {
    // a plain `=` key is the string "=" (PyYAML retags it), elsewhere it is an error
    if (isScalar(node) && node.type === 'PLAIN' && !node.tag && node.value === '=') return { key: '=', keyPos: this.pos(node) };
    const k = this.convert(node, fallback);
    if (k.kind !== 'scalar') this.fail('found unhashable key (a mapping key must be a scalar)', node);
    return { key: k.value, keyPos: k.pos };
  }

  /** PyYAML flatten_mapping + construct_mapping: merged pairs first, then own pairs; last value wins. */
  private mapEntries(map: Node): PEntry[] {
    const pos = this.pos(map);
    const own: PEntry[] = [];
    const merged: PEntry[] = [];
    for (const pair of (map as unknown as { items: unknown[] }).items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as Node | null;
      const valueNode = pair.value as Node | null;
      if (isScalar(keyNode) && keyNode.type === 'PLAIN' && !keyNode.tag && keyNode.value === '<<') {
        merged.push(...this.mergeValue(valueNode, pos));
        continue;
      }
      const { key, keyPos } = this.keyOf(keyNode, pos);
      own.push({ key, keyPos, value: this.convert(valueNode, keyPos) });
    }
    // Ansible's construct_mapping: pairs in order (merged ones first), a repeated key warns, last wins
    const out = new Map<string, PEntry>();
    for (const e of [...merged, ...own]) {
      const id = keyId(e.key);
      if (out.has(id)) {
        this.warnings.push({ message: `found a duplicate dict key (${String(e.key)}). Using last defined value only.`, pos: e.keyPos });
      }
      const prev = out.get(id);
      // Python keeps the first key object and takes the last value
      out.set(id, prev ? { ...e, key: prev.key } : e);
    }
    return [...out.values()];
  }

  private mergeValue(valueNode: Node | null, fallback: SourcePos): PEntry[] {
    const target = isAlias(valueNode) ? (valueNode.resolve(this.doc) as Node | undefined) : valueNode;
    if (isMap(target)) {
      const c = this.convert(valueNode, fallback);
      return c.kind === 'map' ? c.entries : [];
    }
    if (isSeq(target)) {
      const parts: PEntry[][] = [];
      for (const item of target.items) {
        const sub = isAlias(item) ? (item.resolve(this.doc) as Node | undefined) : (item as Node);
        if (!isMap(sub)) this.fail('expected a mapping for merging', item as Node);
        parts.push((this.convert(item as Node, fallback) as { entries: PEntry[] }).entries);
      }
      // PyYAML: the first mapping in the list wins, so later ones go first
      return parts.reverse().flat();
    }
    return this.fail('expected a mapping or list of mappings for merging', valueNode);
  }
}

/** Parse one YAML (or JSON) document with Ansible's typing. */
export function parsePyYaml(text: string, file: string, opts: PyYamlOptions = {}): PyYamlResult {
  let json = false;
  try {
    JSON.parse(text);
    json = true;
  } catch {
    json = false;
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    version: json ? '1.2' : '1.1',
    schema: 'failsafe',
    uniqueKeys: false,
    lineCounter: lc,
    prettyErrors: false,
    keepSourceTokens: false,
  });
  const err = doc.errors[0];
  if (err) {
    const p = lc.linePos(err.pos[0]);
    throw new ParseError(`invalid YAML: ${err.message.split('\n')[0]}`, {
      pos: { file, line: p.line, col: p.col },
      hint: 'check indentation and quoting around this line',
    });
  }
  const conv = new Converter(doc, lc, file, json, opts);
  if (doc.contents === null) return { root: null, warnings: [] };
  const root = conv.convert(doc.contents as Node, { file });
  return { root, warnings: conv.warnings };
}

/** The plain JS value of a node (mappings → objects with keys as Python's json.dumps writes them). */
export function toPlain(n: PNode): unknown {
  if (n.kind === 'scalar') return n.value;
  if (n.kind === 'seq') return n.items.map(toPlain);
  const o: Record<string, unknown> = {};
  for (const e of n.entries) setOwn(o, plainKey(e.key), toPlain(e.value));
  return o;
}

/** json.dumps's conversion of a dict key to a string. */
export function plainKey(k: unknown): string {
  if (typeof k === 'string') return k;
  if (k instanceof UnsafeText || k instanceof VaultText) return String(k);
  if (typeof k === 'number') return Number.isSafeInteger(k) ? String(k) : pyFloatRepr(k);
  if (k === true) return 'true';
  if (k === false) return 'false';
  if (k === null || k === undefined) return 'null';
  return String(k);
}

/** Python's type name of a plain value, for messages that mirror Ansible's. */
export function pyTypeName(n: PNode | unknown): string {
  const v = n && typeof n === 'object' && 'kind' in (n as object) ? (n as PNode) : undefined;
  if (v?.kind === 'map') return 'dict';
  if (v?.kind === 'seq') return 'list';
  const x = v ? (v as { value: unknown }).value : n;
  if (x === null || x === undefined) return 'NoneType';
  if (typeof x === 'boolean') return 'bool';
  if (typeof x === 'number') return Number.isInteger(x) ? 'int' : 'float';
  if (typeof x === 'string' || x instanceof UnsafeText || x instanceof VaultText) return 'str';
  return typeof x;
}
