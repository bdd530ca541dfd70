/**
 * YAML loading the way Ansible reads it (PyYAML = YAML 1.1: yes/no booleans, 0644 octal, `<<` merges),
 * with the source position of every top-level key so errors and `vars --explain` can say file:line.
 */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node, type Tags } from 'yaml';
import { ParseError, type SourcePos } from './errors.js';

export interface YamlEntry {
  key: string;
  value: unknown;
  pos: SourcePos;
}

export interface YamlOptions {
  customTags?: Tags;
}

export interface ParsedYaml {
  doc: Document.Parsed;
  lc: LineCounter;
  file: string;
  pos(node: Node | null | undefined): SourcePos;
}

export function parseYaml(file: string, text: string, opts: YamlOptions = {}): ParsedYaml {
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    version: '1.1',
    merge: true,
    lineCounter: lc,
    prettyErrors: false,
    customTags: opts.customTags ?? [],
    uniqueKeys: true,
  });
  const err = doc.errors[0];
  if (err) {
    const p = lc.linePos(err.pos[0]);
    const dup = err.code === 'DUPLICATE_KEY';
    throw new ParseError(dup ? `duplicate key in mapping: ${err.message.split('\n')[0]}` : `invalid YAML: ${err.message.split('\n')[0]}`, {
      pos: { file, line: p.line, col: p.col },
      hint: dup
        ? 'a key may appear once per mapping; remove or rename one of them (the first one would be silently ignored by Ansible)'
        : 'check indentation and quoting around this line; values starting with {{ must be quoted',
    });
  }
  return {
    doc,
    lc,
    file,
    pos(node) {
      if (!node?.range) return { file };
      const p = lc.linePos(node.range[0]);
      return { file, line: p.line, col: p.col };
    },
  };
}

/**
 * Read a vars file: a mapping of variable names to values (or an empty document). Anything else is a
 * ParseError naming the file and line.
 */
export function loadVarsYaml(file: string, opts: YamlOptions & { text?: string } = {}): YamlEntry[] {
  let text = opts.text;
  if (text === undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ParseError(`cannot read vars file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { pos: { file } });
    }
  }
  const y = parseYaml(file, text, opts);
  const root = y.doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === undefined))) return [];
  if (!isMap(root)) {
    throw new ParseError('a vars file must be a mapping of variable names to values', {
      pos: y.pos(root as Node),
      hint: 'write `name: value` lines at the top level (no leading `-`)',
    });
  }
  const out: YamlEntry[] = [];
  for (const pair of root.items) {
    const keyNode = pair.key as Node | null;
    const key = isScalar(keyNode) ? keyNode.value : keyNode;
    if (typeof key !== 'string' || key === '') {
      throw new ParseError(`variable names must be strings, got ${JSON.stringify(String(key))}`, { pos: y.pos(keyNode) });
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new ParseError(`invalid variable name '${key}'`, {
        pos: y.pos(keyNode),
        hint: 'use letters, digits and underscores, not starting with a digit',
      });
    }
    const valueNode = pair.value as Node | null;
    const value = valueNode === null ? null : (valueNode as Node).toJS(y.doc, { maxAliasCount: 1000 });
    out.push({ key, value, pos: y.pos(keyNode) });
  }
  return out;
}
