/**
 * Variable files: group_vars/ and host_vars/ (Ansible's host_group_vars rules) and extra vars (-e).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { Tags } from 'yaml';
import { ParseError, UsageError, type SourcePos } from '../core/errors.js';
import { parsePyYaml, plainKey, toPlain, type ScalarTagConstructor } from '../inventory/pyyaml.js';

import type { VarDef } from '../inventory/types.js';

export type { VarDef };
export type VarMap = Map<string, VarDef>;

const VARS_EXTS = new Set(['', '.yml', '.yaml', '.json']);

/** Decrypts a whole-file vault; provided by the vault layer so this module stays free of crypto. */
export type FileDecryptor = (text: string, file: string) => string;

export interface VarsFileOptions {
  /** `yaml` package tags (the playbook loader uses these) */
  customTags?: Tags;
  /** constructors for local scalar tags in vars files, e.g. `!vault` → a lazily decrypted value */
  scalarTags?: Record<string, ScalarTagConstructor>;
  decryptFile?: FileDecryptor;
}

/**
 * Variables from YAML/JSON text, typed the way Ansible types them (PyYAML's YAML 1.1: `y`/`n` stay strings,
 * `0644` is 420, JSON first), with the line of every key. Duplicate keys are an error here: Ansible keeps
 * the last one with a warning, but in a site's variables a duplicate is almost always a mistake.
 */
export function varsFromText(text: string, file: string, opts: VarsFileOptions = {}): VarMap {
  const r = parsePyYaml(text, file, { scalarTags: opts.scalarTags });
  const m: VarMap = new Map();
  if (!r.root || (r.root.kind === 'scalar' && (r.root.value === null || r.root.value === ''))) return m;
  if (r.root.kind !== 'map') {
    throw new ParseError('a vars file must be a mapping of variable names to values', {
      pos: r.root.pos,
      hint: 'write `name: value` lines at the top level (no leading `-`)',
    });
  }
  const dup = r.warnings.find((w) => /duplicate/i.test(w.message));
  if (dup) {
    throw new ParseError(`duplicate key in mapping: ${dup.message}`, {
      pos: dup.pos,
      hint: 'a key may appear once per mapping; remove or rename one of them (Ansible would silently keep only the last)',
    });
  }
  for (const e of r.root.entries) {
    const key = plainKey(e.key);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new ParseError(`invalid variable name '${key}'`, { pos: e.keyPos, hint: 'use letters, digits and underscores, not starting with a digit' });
    }
    m.set(key, { value: toPlain(e.value), pos: e.keyPos });
  }
  return m;
}

export function loadVarsFile(file: string, opts: VarsFileOptions = {}): VarMap {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ParseError(`cannot read vars file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { pos: { file } });
  }
  if (text.startsWith('$ANSIBLE_VAULT;')) {
    if (!opts.decryptFile) {
      throw new ParseError('this vars file is vault-encrypted and no vault password is available', {
        pos: { file },
        hint: 'create the vault password file (.vaultpass), or pass --vault-password-file / --ask-vault-pass',
      });
    }
    text = opts.decryptFile(text, file);
  }
  return varsFromText(text, file, opts);
}

/**
 * Files for one group or host under `<base>/<sub>/`, in Ansible's load order (later wins): the first of
 * `name`, `name.yml`, `name.yaml`, `name.json` that exists — only that one, as Ansible does — and when it is a
 * directory, every vars file below it in sorted order.
 */
export function entityVarsFiles(base: string, sub: 'group_vars' | 'host_vars', name: string): string[] {
  const root = join(base, sub);
  const out: string[] = [];
  for (const ext of ['', '.yml', '.yaml', '.json']) {
    const p = join(root, name + ext);
    if (!existsSync(p)) continue;
    if (statSync(p).isDirectory()) walk(p, out, 0);
    else out.push(p);
    break;
  }
  return out;
}

function walk(dir: string, out: string[], depth: number): void {
  if (depth > 20) return; // bounded: symlink loops or absurd nesting
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || name.endsWith('~')) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) {
      if (extname(name) === '') walk(p, out, depth + 1);
    }
    else if (st.isFile() && VARS_EXTS.has(extname(name))) out.push(p);
  }
}

/**
 * Split `a=1 b='two words' c="x=y"` like Ansible's parse_kv. Values stay strings (Ansible does not type
 * key=value extra vars).
 */
export function parseKeyValues(s: string, pos: SourcePos): VarMap {
  const m: VarMap = new Map();
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && /\s/.test(s[i]!)) i++;
    if (i >= n) break;
    let tok = '';
    let quote: string | undefined;
    while (i < n && (quote || !/\s/.test(s[i]!))) {
      const c = s[i]!;
      if (quote) {
        if (c === '\\' && i + 1 < n) {
          tok += s[i + 1];
          i += 2;
          continue;
        }
        if (c === quote) quote = undefined;
        else tok += c;
      } else if (c === '"' || c === "'") quote = c;
      else tok += c;
      i++;
    }
    if (quote) throw new UsageError(`unterminated quote in extra vars '${s}'`, { pos, hint: 'close the quote' });
    const eq = tok.indexOf('=');
    if (eq <= 0) {
      throw new UsageError(`extra vars '${tok}' is not key=value`, {
        pos,
        hint: "use -e key=value, -e '{\"key\": 1}' or -e @file.yml",
      });
    }
    m.set(tok.slice(0, eq), { value: tok.slice(eq + 1), pos });
  }
  return m;
}

/** One `-e` argument → variables. */
export function parseExtraVarsArg(arg: string, index: number, cwd: string, opts: VarsFileOptions = {}): { label: string; vars: VarMap } {
  const pos: SourcePos = { file: `-e #${index + 1}` };
  if (arg.startsWith('@')) {
    const file = resolve(cwd, arg.slice(1));
    if (!existsSync(file)) throw new UsageError(`extra vars file not found: ${file}`, { hint: 'check the path after -e @' });
    return { label: file, vars: loadVarsFile(file, opts) };
  }
  const t = arg.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    const m: VarMap = new Map();
    for (const [k, d] of varsFromText(t, pos.file, opts)) m.set(k, { value: d.value, pos });
    return { label: pos.file, vars: m };
  }
  return { label: pos.file, vars: parseKeyValues(arg, pos) };
}
