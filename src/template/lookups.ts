/**
 * Lookups behind the `lookup()` / `query()` / `q()` globals: file, first_found, env, random_string (and
 * `community.general.random_string`), vars-free ones only. Where files are searched is the engine's business:
 * it passes a LookupContext with the search directories (role dir first, then the playbook dir, …), a reader
 * and the environment.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { randomInt } from 'node:crypto';
import { PluginError } from './errors.js';
import { isPlainObject, plain, pyStr } from './pyvalue.js';

export interface LookupContext {
  /**
   * Base directories for relative names, in search order. Ansible looks in `<dir>/<subdir>/<name>` then
   * `<dir>/<name>` for each (subdir `files` for file/first_found, `templates`, `vars`).
   */
  searchDirs: string[];
  /** read a file as UTF-8; throw when it cannot be read */
  readFile(path: string): string;
  /** is there a file (not a directory) at path */
  isFile(path: string): boolean;
  env: Record<string, string | undefined>;
}

/** A LookupContext on the real file system searching `dirs` (default: the current directory). */
export function fsLookupContext(dirs: string[] = [process.cwd()], env: Record<string, string | undefined> = process.env): LookupContext {
  return {
    searchDirs: dirs,
    readFile: (p) => readFileSync(p, 'utf8'),
    isFile: (p) => existsSync(p) && statSync(p).isFile(),
    env,
  };
}

export function findInSearchPath(ctx: LookupContext, subdir: string, name: string): string | undefined {
  if (isAbsolute(name)) return ctx.isFile(name) ? name : undefined;
  for (const d of ctx.searchDirs) {
    for (const cand of [join(d, subdir, name), join(d, name)]) if (ctx.isFile(cand)) return resolve(cand);
  }
  return undefined;
}

type Kw = Record<string, unknown>;
type Lookup = (ctx: LookupContext, terms: unknown[], kw: Kw) => unknown[];

const LOOKUPS: Record<string, Lookup> = {
  file(ctx, terms, kw) {
    return terms.map((t) => {
      const name = pyStr(t);
      const p = findInSearchPath(ctx, 'files', name);
      if (!p) throw new PluginError(`could not locate file in lookup: ${name}`);
      let s = ctx.readFile(p);
      if (kw.lstrip) s = s.replace(/^\s+/, '');
      if (kw.rstrip === undefined || kw.rstrip) s = s.replace(/\s+$/, '');
      return s;
    });
  },
  env(ctx, terms, kw) {
    return terms.map((t) => {
      const v = ctx.env[pyStr(t)];
      if (v !== undefined) return v;
      if ('default' in kw) return kw.default;
      return '';
    });
  },
  first_found(ctx, terms, kw) {
    const files: string[] = [];
    const paths: string[] = [];
    let skip = !!kw.skip;
    const addFiles = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(addFiles);
      else if (typeof x === 'string') files.push(...x.split(/[,;]/).map((s) => s.trim()).filter(Boolean));
    };
    const addPaths = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(addPaths);
      else if (typeof x === 'string') paths.push(...x.split(/[,:;]/).map((s) => s.trim()).filter(Boolean));
    };
    if (kw.files) addFiles(kw.files);
    if (kw.paths) addPaths(kw.paths);
    for (const t of terms) {
      if (isPlainObject(t)) {
        addFiles(t.files);
        addPaths(t.paths);
        if (t.skip) skip = true;
      } else addFiles(t);
    }
    const candidates = paths.length ? files.flatMap((f) => (isAbsolute(f) ? [f] : paths.map((p) => join(p, f)))) : files;
    for (const c of candidates) {
      const found = isAbsolute(c) && ctx.isFile(c) ? c : findInSearchPath(ctx, 'files', c);
      if (found) return [found];
    }
    if (skip) return [];
    throw new PluginError('No file was found when using first_found.');
  },
  random_string(_ctx, _terms, kw) {
    const flag = (k: string, d: boolean): boolean => (kw[k] === undefined ? d : !!kw[k]);
    const num = (k: string, d: number): number => (kw[k] === undefined || kw[k] === null ? d : Number(kw[k]));
    const length = num('length', 8);
    const UP = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    const LOW = 'abcdefghijklmnopqrstuvwxyz';
    const DIG = '0123456789';
    const SPEC = typeof kw.override_special === 'string' ? kw.override_special : '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
    let all = '';
    const out: string[] = [];
    const take = (set: string, n: number): void => {
      for (let i = 0; i < n; i++) out.push(set[randomInt(set.length)]!);
    };
    if (typeof kw.override_all === 'string') all = kw.override_all;
    else {
      const sets: [string, boolean, string][] = [[UP, flag('upper', true), 'min_upper'], [LOW, flag('lower', true), 'min_lower'], [DIG, flag('numbers', true), 'min_numeric'], [SPEC, flag('special', true), 'min_special']];
      for (const [set, on, min] of sets) {
        if (!on) continue;
        all += set;
        take(set, num(min, 0));
      }
    }
    if (!all) throw new PluginError('random_string: no characters to choose from');
    if (out.length > length) throw new PluginError('random_string: the minimum counts exceed the length');
    take(all, length - out.length);
    for (let i = out.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    const s = out.join('');
    return [kw.base64 ? Buffer.from(s).toString('base64') : s];
  },
};
LOOKUPS['ansible.builtin.file'] = LOOKUPS.file!;
LOOKUPS['ansible.builtin.env'] = LOOKUPS.env!;
LOOKUPS['ansible.builtin.first_found'] = LOOKUPS.first_found!;
LOOKUPS['community.general.random_string'] = LOOKUPS.random_string!;

export const LOOKUP_NAMES = Object.keys(LOOKUPS);

/** Ansible's lookup()/query(): run the plugin; lookup joins a list of strings with commas. */
export function runLookup(ctx: LookupContext, args: unknown[], wantlist: boolean): unknown {
  let kwMap: Map<unknown, unknown> | undefined;
  const last = args[args.length - 1];
  if (last instanceof Map && args.length > 1) {
    kwMap = last;
    args = args.slice(0, -1);
  }
  const [nameV, ...terms] = args.map(plain);
  const name = pyStr(nameV);
  const kw: Kw = {};
  if (kwMap) for (const [k, v] of kwMap) kw[String(k)] = plain(v);
  const fn = LOOKUPS[name];
  if (!fn) throw new PluginError(`lookup plugin (${name}) not found`);
  const errors = (kw.errors as string | undefined) ?? 'strict';
  const want = wantlist || !!kw.wantlist;
  delete kw.wantlist;
  delete kw.errors;
  let ran: unknown[];
  try {
    ran = fn(ctx, terms, kw);
  } catch (e) {
    if (errors === 'ignore') return want ? [] : null;
    if (errors === 'warn') return want ? [] : null;
    throw new PluginError(`lookup('${name}'): ${(e as Error).message}`);
  }
  if (want || ran.length === 0) return ran;
  if (ran.every((x) => typeof x === 'string')) return ran.join(',');
  return ran.length === 1 ? ran[0] : ran;
}
