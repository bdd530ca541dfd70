/**
 * Positioned YAML for playbooks: the `yaml` package in YAML 1.1 mode (as PyYAML, which Ansible uses), with
 * node positions kept so every keyword and argument can be reported as file:line:col.
 *
 * One difference from the package's 1.1 schema is corrected: PyYAML reads `y`/`n`/`Y`/`N` as strings, not
 * booleans (only yes/no/true/false/on/off are), so `answer: y` stays 'y' as under Ansible.
 */
import { readFileSync } from 'node:fs';
import {
  isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument,
  type Document, type Node, type Pair, type ScalarTag, type Tags, type YAMLMap,
} from 'yaml';
import { ParseError, type SourcePos } from '../core/errors.js';

export interface YFile {
  file: string;
  doc: Document.Parsed;
  lc: LineCounter;
}

export interface Entry {
  key: string;
  keyNode: Node;
  value: Node | null;
  /** position of the key */
  pos: SourcePos;
}

const PY_TRUE = /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const PY_FALSE = /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;

function pyBooleans(extra: Tags | undefined) {
  return (tags: Tags): Tags => {
    const out = tags.map((t) => {
      const s = t as ScalarTag;
      if (typeof t === 'object' && s.tag === 'tag:yaml.org,2002:bool' && s.test) {
        const isTrue = s.test.test('true');
        return { ...s, test: isTrue ? PY_TRUE : PY_FALSE } as ScalarTag;
      }
      return t;
    });
    return extra ? out.concat(extra) : out;
  };
}

export function readText(file: string, pos?: SourcePos, what = 'file'): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ParseError(`cannot read ${what} ${file}: ${code ?? (e as Error).message}`, {
      pos: pos ?? { file },
      hint: code === 'ENOENT' ? 'check the path (relative paths start at the playbook directory)' : undefined,
    });
  }
}

export function parseYamlText(file: string, text: string, customTags?: Tags): YFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    version: '1.1',
    merge: true,
    lineCounter: lc,
    prettyErrors: false,
    customTags: pyBooleans(customTags),
    uniqueKeys: true,
  });
  const err = doc.errors[0];
  if (err) {
    const p = lc.linePos(err.pos[0]);
    const dup = err.code === 'DUPLICATE_KEY';
    throw new ParseError(dup ? `duplicate key in mapping: ${err.message.split('\n')[0]}` : `invalid YAML: ${err.message.split('\n')[0]}`, {
      pos: { file, line: p.line, col: p.col },
      hint: dup
        ? 'a key may appear once per mapping; remove or rename one of them'
        : 'check indentation and quoting around this line; values starting with {{ must be quoted',
    });
  }
  return { file, doc, lc };
}

export function posOf(y: YFile, node: Node | null | undefined): SourcePos {
  if (!node?.range) return { file: y.file };
  const p = y.lc.linePos(node.range[0]);
  return { file: y.file, line: p.line, col: p.col };
}

export function resolveNode(y: YFile, node: Node | null | undefined): Node | null {
  if (node && isAlias(node)) return (node.resolve(y.doc) as Node | undefined) ?? null;
  return node ?? null;
}

export function toJS(y: YFile, node: Node | null | undefined): unknown {
  if (node === null || node === undefined) return null;
  return node.toJS(y.doc, { maxAliasCount: 1000 });
}

/** Is the node null, `~` or an empty value? */
export function isNullNode(y: YFile, node: Node | null | undefined): boolean {
  const n = resolveNode(y, node);
  return n === null || (isScalar(n) && (n.value === null || n.value === undefined));
}

function keyString(y: YFile, k: Node): string {
  const v = toJS(y, k);
  return typeof v === 'string' ? v : String(v);
}

/**
 * The entries of a mapping in order, with `<<` merge keys expanded (explicit keys win over merged ones,
 * as in PyYAML). Positions of merged entries are where the anchor defined them.
 */
export function mapEntries(y: YFile, map: YAMLMap, depth = 0): Entry[] {
  const explicit: Entry[] = [];
  const merged: Entry[] = [];
  for (const pair of map.items as Pair<Node | null, Node | null>[]) {
    const k = pair.key;
    if (k === null) continue;
    if (isScalar(k) && typeof k.value === 'symbol' && depth < 20) {
      const src = resolveNode(y, pair.value);
      const sources = isSeq(src) ? src.items.map((n) => resolveNode(y, n as Node)) : [src];
      for (const s of sources) if (s && isMap(s)) merged.push(...mapEntries(y, s, depth + 1));
      continue;
    }
    explicit.push({ key: keyString(y, k), keyNode: k, value: pair.value, pos: posOf(y, k) });
  }
  if (!merged.length) return explicit;
  const seen = new Set(explicit.map((e) => e.key));
  const out = [...explicit];
  for (const e of merged) {
    if (seen.has(e.key)) continue;
    seen.add(e.key);
    out.push(e);
  }
  return out;
}

/** Type name for messages: "a list", "a mapping", "a number" … */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return typeof v;
}
