/**
 * Loading inventory sources the way ansible-core's InventoryManager does:
 *  - a directory: its entries in sorted order, recursively, skipping hidden names, group_vars/,
 *    host_vars/, vars_plugins/ and Ansible's ignored extensions (INVENTORY_IGNORE_EXTS: .pyc .pyo .swp
 *    .bak ~ .rpm .md .txt .rst .orig .ini .cfg .retry — yes, `.ini` files inside an inventory
 *    directory are skipped by Ansible);
 *  - a file: the `yaml` plugin first when the name has no extension or .yml/.yaml/.json, then `ini`
 *    (Ansible's plugin order; a file neither can parse is an error here, a warning in Ansible);
 *  - a string with a comma that is not a path: a host list (`-i web1,web2`).
 * group_vars/ and host_vars/ beside the inventory are the vars layer's business, not read here.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ParseError, UsageError, type SourcePos } from '../core/errors.js';
import { InventoryBuilder } from './builder.js';
import { parseAddress } from './hostpattern.js';
import { parseIniInventory } from './ini.js';
import { parsePyYaml, type PyYamlOptions, type ScalarTagConstructor } from './pyyaml.js';
import { pySplitlines, pyStrip } from './pytext.js';
import { compareCodePoints, type Inventory } from './types.js';
import { YamlInventoryParser } from './yaml.js';

/** The shape of a `yaml` package scalar tag (what the vault layer's `customTags` holds). */
interface YamlScalarTagLike {
  tag: string;
  resolve: (value: string, onError: (message: string) => void, options: object) => unknown;
}

export interface LoadOptions {
  /**
   * constructors for local YAML scalar tags (e.g. `!vault` from the vault layer): a map tag → function,
   * or `yaml` package scalar tags (`customTags`)
   */
  scalarTags?: Record<string, ScalarTagConstructor> | readonly unknown[];
  /** decrypts a whole vault-encrypted inventory file (from the vault layer) */
  decryptFile?: (text: string, file: string) => string;
}

export const IGNORED_EXTS = ['.pyc', '.pyo', '.swp', '.bak', '~', '.rpm', '.md', '.txt', '.rst', '.orig', '.ini', '.cfg', '.retry'];
const IGNORED_NAMES = /^\.|^host_vars$|^group_vars$|^vars_plugins$/;
const YAML_EXTS = new Set(['', '.yml', '.yaml', '.json']);
/** bound on directory recursion (symlink loops) */
const MAX_DIR_DEPTH = 32;

/** Whether Ansible skips this directory entry when the directory is an inventory source. */
export function isIgnoredInventoryEntry(name: string): boolean {
  return IGNORED_NAMES.test(name) || IGNORED_EXTS.some((e) => name.endsWith(e));
}

/** Load one or more inventory sources (later sources add to earlier ones) into one Inventory. */
export function loadInventory(sources: string | string[], opts: LoadOptions = {}): Inventory {
  const b = new InventoryBuilder();
  for (const s of Array.isArray(sources) ? sources : [sources]) loadSource(s, b, opts, 0);
  return b.finish();
}

/** Load inventory text directly (tests, embedded inventories). `file` names it in positions. */
export function loadInventoryText(text: string, file: string, opts: LoadOptions = {}): Inventory {
  const b = new InventoryBuilder();
  parseText(text, file, b, opts);
  return b.finish();
}

function loadSource(source: string, b: InventoryBuilder, opts: LoadOptions, level: number): void {
  if (!existsSync(source)) {
    if (source.includes(',')) {
      parseHostList(source, b);
      return;
    }
    throw new UsageError(`inventory source not found: ${source}`, {
      hint: 'pass -i PATH (a file, a directory, or a comma-separated host list such as web1,web2,)',
    });
  }
  if (statSync(source).isDirectory()) {
    if (level >= MAX_DIR_DEPTH) throw new ParseError(`inventory directories nested too deeply (symlink loop?)`, { pos: { file: source } });
    const names = readdirSync(source)
      .filter((n) => !isIgnoredInventoryEntry(n))
      .sort(compareCodePoints);
    const before = b.sources.length;
    for (const n of names) loadSource(join(source, n), b, opts, level + 1);
    if (b.sources.length === before) {
      throw new ParseError('no inventory file in this directory', {
        pos: { file: source },
        hint: `Ansible skips hidden files, group_vars/, host_vars/ and these extensions: ${IGNORED_EXTS.join(' ')}`,
      });
    }
    return;
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(source);
  } catch (e) {
    throw new ParseError(`cannot read inventory: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { pos: { file: source } });
  }
  let text = decode(bytes, source);
  if (text.startsWith('$ANSIBLE_VAULT;')) {
    if (!opts.decryptFile) {
      throw new ParseError('this inventory file is vault-encrypted and no vault password is available', {
        pos: { file: source },
        hint: 'pass --vault-password-file or --ask-vault-pass',
      });
    }
    text = opts.decryptFile(text, source);
  }
  parseText(text, source, b, opts);
}

/** UTF-8 text; like Ansible's INI plugin, undecodable bytes are tolerated only in comment lines. */
function decode(bytes: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const lines = bytes.toString('latin1').split('\n');
    const out: string[] = [];
    lines.forEach((l, i) => {
      const raw = Buffer.from(l, 'latin1');
      try {
        out.push(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw));
      } catch {
        if (raw[0] === 0x23 || raw[0] === 0x3b) out.push('');
        else throw new ParseError('this line is not valid UTF-8', { pos: { file, line: i + 1 }, hint: 'save the file as UTF-8' });
      }
    });
    return out.join('\n');
  }
}

function isYamlScalarTag(t: unknown): t is YamlScalarTagLike {
  return typeof t === 'object' && t !== null && typeof (t as YamlScalarTagLike).tag === 'string' && typeof (t as YamlScalarTagLike).resolve === 'function' && !('collection' in t);
}

function yamlOptions(opts: LoadOptions): PyYamlOptions {
  const st = opts.scalarTags;
  if (!st) return {};
  if (!Array.isArray(st)) return { scalarTags: st as Record<string, ScalarTagConstructor> };
  const out: Record<string, ScalarTagConstructor> = {};
  for (const t of st) {
    if (!isYamlScalarTag(t)) continue;
    out[t.tag] = (text, pos) => {
      let err: string | undefined;
      const v = t.resolve(text, (m) => (err ??= m), {});
      if (err !== undefined) throw new ParseError(`${t.tag}: ${err}`, { pos });
      return v;
    };
  }
  return { scalarTags: out };
}

function parseText(text: string, file: string, b: InventoryBuilder, opts: LoadOptions): void {
  const ext = extname(file);
  let yamlErr: ParseError | undefined;
  let yamlLooksRight = false;
  if (YAML_EXTS.has(ext)) {
    const restore = b.snapshot();
    try {
      const r = parsePyYaml(text, file, yamlOptions(opts));
      yamlLooksRight = r.root?.kind === 'map';
      if ((ext === '.yml' || ext === '.yaml') && r.root?.kind === 'map') {
        const plugin = r.root.entries.find((e) => e.key === 'plugin');
        if (plugin && plugin.value.kind === 'scalar' && plugin.value.value) {
          throw new ParseError(`inventory plugin configurations are not supported (plugin: ${String(plugin.value.value)})`, {
            pos: plugin.keyPos,
            hint: 'write the hosts out as a YAML or INI inventory',
          });
        }
      }
      new YamlInventoryParser(file, b).parse(r.root);
      for (const w of r.warnings) b.warn(w.message, w.pos);
      b.sources.push(file);
      return;
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      restore();
      yamlErr = e;
    }
  }
  const restore = b.snapshot();
  try {
    if (text.startsWith('\ufeff')) {
      throw new ParseError('the file starts with a UTF-8 byte order mark (BOM)', {
        pos: { file, line: 1, col: 1 },
        hint: 'save it without a BOM: Ansible would read the BOM as part of the first host or section name',
      });
    }
    parseIniInventory(text, file, b);
    b.sources.push(file);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    restore();
    if (ext === '.toml') {
      throw new ParseError('TOML inventories are not supported', { pos: { file }, hint: 'convert it to YAML or INI' });
    }
    // report what the file most likely meant to be
    if (yamlErr && (ext !== '' || yamlLooksRight || looksLikeYaml(text))) throw yamlErr;
    throw e;
  }
}

function looksLikeYaml(text: string): boolean {
  for (const l of pySplitlines(text)) {
    const t = pyStrip(l).text;
    if (!t || t.startsWith('#') || t.startsWith(';')) continue;
    return t === '---' || /^[^\s=[\]]+:(\s|$)/.test(t);
  }
  return false;
}

/** host_list plugin: `web1,web2:2222,` (no ranges). */
function parseHostList(source: string, b: InventoryBuilder): void {
  const pos: SourcePos = { file: source };
  for (const part of source.split(',')) {
    const h = pyStrip(part).text;
    if (!h) continue;
    let host = h;
    let port: number | undefined;
    try {
      ({ host, port } = parseAddress(h, false));
    } catch {
      host = h;
      port = undefined;
    }
    if (!b.hosts.has(host)) b.addHost(host, 'ungrouped', port, pos);
  }
  b.sources.push(source);
}
