/**
 * Static loading: playbooks (with import_playbook), plays, task lists (with import_tasks), blocks, roles
 * (with meta dependencies and import_role). Everything a user can get wrong fails here, before any host is
 * contacted, as a ParseError with file:line:col and a hint.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import { ParseError, type SourcePos } from '../core/errors.js';
import { renderString } from '../template/templar.js';
import { hasTemplate as isTemplate } from './template.js';
import type { VarMap } from '../vars/files.js';
import { ENGINE_ACTIONS, misplacedAction, normaliseModule, parseAction, specOf } from './actions.js';
import {
  BLOCK_KEYWORDS, err, HANDLER_KEYWORDS, IMPORT_PLAYBOOK_KEYWORDS, INCLUDE_KEYWORDS, INHERITABLE, parseKeyword,
  PLAY_KEYWORDS, ROLE_KEYWORDS, setKeyword, TASK_KEYWORDS, toBool, toConds, toInt, toTags, toVarMap, unknownKeyword,
} from './keywords.js';
import { closest, didYouMean } from '../core/suggest.js';
import type {
  Action, ApplyKeywords, Block, Cond, ImportRole, IncludeRole, IncludeTasks, IncludeVars, KeywordPositions, Keywords,
  LoadOptions, Play, Playbook, Role, RoleRef, Task, TaskNode, VarsFileRef, VarsPrompt,
} from './types.js';
import { describe, isNullNode, mapEntries, parseYamlText, posOf, readText, resolveNode, toJS, type Entry, type YFile } from './yaml.js';

/** Per-play loading state; kept for the play so include_role at run time shares the role cache. */
export interface PlayState {
  dir: string;
  file: string;
  /** raw play vars + extra vars, for templated static names (import paths, role names) */
  templateVars: Record<string, unknown>;
  roleCache: Map<string, Role>;
  roleCount: Map<string, number>;
  importedHandlers: { role: Role; nodes: TaskNode[] }[];
}

export interface ListCtx {
  ps: PlayState;
  role?: Role;
  handlers: boolean;
  /** directories of the enclosing import/include targets as written, innermost first */
  importDirs: string[];
  /** real paths of the files in the current import chain (loop detection) */
  stack: string[];
  /** role directories being loaded (dependency loop detection) */
  roleStack: string[];
}

export interface FromFiles {
  tasks?: string;
  vars?: string;
  defaults?: string;
  handlers?: string;
}

interface RoleSpec {
  name: string;
  pos: SourcePos;
  params: VarMap;
  keywords: Keywords;
  keywordPos: KeywordPositions;
  from: FromFiles;
  fromInclude: boolean;
}

const META_ACTIONS = new Set([
  'flush_handlers', 'refresh_inventory', 'noop', 'clear_facts', 'clear_host_errors', 'end_play', 'end_host', 'end_batch',
  'reset_connection', 'role_complete',
]);
const INCLUDE_VARS_ARGS = ['file', 'dir', 'name', 'depth', 'files_matching', 'ignore_files', 'extensions', 'ignore_unknown_extensions', 'hash_behaviour'];
const ROLE_INCLUDE_ARGS = ['name', 'role', 'tasks_from', 'vars_from', 'defaults_from', 'handlers_from', 'public', 'allow_duplicates', 'apply', 'rolespec_validate'];
const META_KEYS = ['dependencies', 'allow_duplicates', 'galaxy_info', 'collections', 'argument_specs'];
const VARS_PROMPT_KEYS = ['name', 'prompt', 'default', 'private', 'confirm', 'encrypt', 'salt_size', 'salt', 'unsafe'];

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}
function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/** Ansible's guess whether a directory is (inside) a role. */
function looksLikeRole(path: string): boolean {
  const mains = ['main.yml', 'main.yaml', 'main'];
  if (/(^|\/)tasks\/?$/.test(path) && mains.some((m) => existsSync(join(path, m)))) return true;
  for (const base of [path, dirname(path)]) {
    for (const sub of ['tasks', 'meta']) if (mains.some((m) => existsSync(join(base, sub, m)))) return true;
  }
  return false;
}

/** Candidates for a file referenced from a role (or a role-relative directory), in Ansible's order. */
function roleRelativeCandidates(path: string, sub: string, source: string, baseDir: string): string[] {
  const out = [join(path, sub, source)];
  const isRole = looksLikeRole(path);
  const base = isRole && /(^|\/)tasks\/?$/.test(path) ? dirname(path) : path;
  out.push(join(base, sub, source));
  if (isRole && !source.endsWith(sub)) out.push(join(base, 'tasks', source));
  out.push(join(base, source), join(baseDir, sub, source), join(baseDir, source));
  return uniq(out);
}

/**
 * Where `import_tasks`/`include_tasks: target` points: relative to the enclosing imports' directories
 * (accumulated as Ansible does), then the role's tasks (or handlers) directory, then the playbook directory.
 */
export function resolveTaskFile(
  target: string, importDirs: readonly string[], rolePath: string | undefined, baseDir: string, sub: 'tasks' | 'handlers',
): { file?: string; tried: string[] } {
  const tried: string[] = [];
  const found = (cands: string[]): string | undefined => {
    for (const c of cands) {
      tried.push(c);
      if (isFile(c)) return c;
    }
    return undefined;
  };
  if (isAbsolute(target)) return { file: found([target]), tried };
  let cum: string | undefined;
  for (const d of importDirs) {
    cum = cum === undefined ? d : isAbsolute(cum) ? cum : join(d, cum);
    const f = found(rolePath ? roleRelativeCandidates(join(rolePath, sub, cum), sub, target, baseDir) : [join(baseDir, cum, target)]);
    if (f) return { file: f, tried: uniq(tried) };
  }
  const f = found(rolePath ? roleRelativeCandidates(rolePath, sub, target, baseDir) : [join(baseDir, target)]);
  return { file: f, tried: uniq(tried) };
}

/** A role's part file: `<dir>/main.yml` (or .yaml/.json/no extension), or an explicit `*_from` name. */
function findRoleFile(dir: string, from?: string): string | undefined {
  if (!isDir(dir)) return undefined;
  const name = from ?? 'main';
  const exts = from === undefined ? ['.yml', '.yaml', '.json', ''] : ['', '.yml', '.yaml', '.json'];
  for (const e of exts) if (isFile(join(dir, name + e))) return join(dir, name + e);
  return undefined;
}

/** defaults/vars: a main file, or every vars file under a `main/` directory (sorted). */
function findRoleVarsFiles(dir: string, from?: string): string[] {
  if (!isDir(dir)) return [];
  const name = from ?? 'main';
  if (isDir(join(dir, name))) {
    const out: string[] = [];
    const walk = (d: string, depth: number): void => {
      if (depth > 20) return;
      for (const f of readdirSync(d).sort()) {
        if (f.startsWith('.') || f.endsWith('~')) continue;
        const p = join(d, f);
        if (isDir(p)) walk(p, depth + 1);
        else if (['.yml', '.yaml', '.json', ''].includes(extname(f))) out.push(p);
      }
    };
    walk(join(dir, name), 0);
    return out;
  }
  const f = findRoleFile(dir, from);
  return f ? [f] : [];
}

function stableKey(v: unknown): string {
  if (v instanceof Map) return stableKey(Object.fromEntries([...v].map(([k, d]) => [k, (d as { value: unknown }).value])));
  if (Array.isArray(v)) return `[${v.map(stableKey).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableKey((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

function varValues(m: VarMap | undefined): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (m) for (const [k, d] of m) o[k] = d.value;
  return o;
}

export class Loader {
  readonly files = new Set<string>();
  readonly maxDepth: number;
  /** play → its loading state (role cache), for run-time include_role */
  readonly playStates = new WeakMap<Play, PlayState>();

  readonly opts: LoadOptions;

  constructor(opts: LoadOptions) {
    this.opts = opts;
    this.maxDepth = opts.maxDepth ?? 32;
  }

  readYaml(file: string, pos: SourcePos | undefined, what: string): YFile {
    const text = readText(file, pos, what);
    this.files.add(file);
    return parseYamlText(file, text, this.opts.customTags);
  }

  templateStatic(s: string, ps: PlayState, pos: SourcePos, what: string): string {
    try {
      // play vars may refer to each other (`a: "{{ b }}/x"`): render until nothing is left (bounded)
      let cur = s;
      for (let i = 0; i < 10 && isTemplate(cur); i++) {
        const v = renderString(cur, { playbook_dir: ps.dir, ...ps.templateVars });
        const next = typeof v === 'string' ? v : String(v);
        if (next === cur) break;
        cur = next;
      }
      return cur;
    } catch (e) {
      throw err(`cannot resolve the template in ${what} '${s}': ${(e as Error).message.split('\n')[0]}`, pos,
        'static imports and role names can use only play vars and extra vars (-e); use include_tasks / include_role for run-time values');
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Playbooks and plays

  loadPlaybook(file: string): Playbook {
    const abs = resolve(file);
    if (!isFile(abs)) {
      throw new ParseError(`playbook not found: ${file}`, { pos: { file: abs }, hint: 'check the path; playbooks live under playbooks/' });
    }
    const plays = this.loadPlaybookFile(abs, { when: [], tags: [], vars: new Map(), importedFrom: [] }, [], undefined);
    return { file: abs, plays, files: [...this.files], options: this.opts };
  }

  private loadPlaybookFile(
    file: string,
    carried: { when: Cond[]; tags: string[]; vars: VarMap; importedFrom: SourcePos[] },
    stack: string[],
    importPos: SourcePos | undefined,
  ): Play[] {
    const y = this.readYaml(file, importPos, 'playbook');
    const root = resolveNode(y, y.doc.contents as Node | null);
    if (isNullNode(y, root)) {
      throw err('empty playbook: nothing to do', importPos ?? { file, line: 1, col: 1 }, 'a playbook is a list of plays, each starting with `- hosts: …`');
    }
    if (!isSeq(root)) {
      throw err(`a playbook must be a list of plays, got ${describe(toJS(y, root))}`, posOf(y, root),
        'start each play with `- hosts: <pattern>` (a leading dash makes a list entry)');
    }
    const dir = dirname(file);
    const out: Play[] = [];
    for (const item of root.items) {
      const n = resolveNode(y, item as Node);
      if (!n || !isMap(n)) {
        throw err(`a playbook entry must be a play or an import_playbook, got ${describe(toJS(y, n))}`, posOf(y, (n ?? item) as Node),
          'each entry is a mapping: `- hosts: …` or `- import_playbook: other.yml`');
      }
      const entries = mapEntries(y, n);
      const imp = entries.find((e) => e.key === 'import_playbook' || e.key === 'ansible.builtin.import_playbook');
      if (imp) {
        out.push(...this.importPlaybook(y, n, entries, imp, dir, carried, [...stack, real(file)]));
        continue;
      }
      const inc = entries.find((e) => e.key === 'include' || e.key === 'include_playbook');
      if (inc) throw err(`\`${inc.key}\` is not supported for playbooks`, inc.pos, 'use `import_playbook: other.yml`');
      const play = this.parsePlay(y, n, entries, file, carried);
      out.push(play);
    }
    return out;
  }

  private importPlaybook(
    y: YFile, n: YAMLMap, entries: Entry[], imp: Entry, dir: string,
    carried: { when: Cond[]; tags: string[]; vars: VarMap; importedFrom: SourcePos[] }, stack: string[],
  ): Play[] {
    let when: Cond[] = [];
    let tags: string[] = [];
    let vars: VarMap = new Map();
    for (const e of entries) {
      if (e === imp || e.key === 'name') continue;
      if (e.key === 'when') when = toConds(y, e);
      else if (e.key === 'tags') tags = toTags(toJS(y, e.value), e.pos);
      else if (e.key === 'vars') vars = toVarMap(y, e.value, e.pos);
      else if (PLAY_KEYWORDS.has(e.key)) {
        throw err(`\`${e.key}\` cannot be set on import_playbook`, e.pos, `only ${[...IMPORT_PLAYBOOK_KEYWORDS].filter((k) => k !== 'import_playbook').join(', ')} apply to imported plays; set \`${e.key}\` in the imported playbook's plays`);
      } else throw unknownKeyword(e.key, e.pos, 'import_playbook', IMPORT_PLAYBOOK_KEYWORDS);
    }
    const v = toJS(y, imp.value);
    if (typeof v !== 'string' || !v.trim()) {
      throw err('import_playbook needs a playbook file name', imp.pos, 'write `- import_playbook: other.yml`');
    }
    let target = v.trim().split(/\s+/)[0]!;
    if (isTemplate(target)) {
      const ps: PlayState = { dir, file: y.file, templateVars: { ...this.opts.extraVars, ...varValues(vars) }, roleCache: new Map(), roleCount: new Map(), importedHandlers: [] };
      target = this.templateStatic(v.trim(), ps, imp.pos, 'import_playbook');
    }
    const file = isAbsolute(target) ? target : join(dir, target);
    if (!isFile(file)) {
      throw err(`imported playbook not found: ${target}`, imp.pos, `looked for ${file}${this.siblingHint(file)}`);
    }
    const r = real(file);
    if (stack.includes(r)) {
      throw err(`import_playbook loop: ${[...stack, r].map((f) => relative(dir, f) || f).join(' → ')}`, imp.pos, 'a playbook imports itself (directly or through others); remove one of the imports');
    }
    if (stack.length >= this.maxDepth) throw err(`import_playbook nested deeper than ${this.maxDepth}`, imp.pos, 'flatten the imports');
    const next = {
      // outer conditions first; vars of the outer import win over inner ones
      when: [...carried.when, ...when],
      tags: uniq([...carried.tags, ...tags]),
      vars: new Map([...vars, ...carried.vars]),
      importedFrom: [...carried.importedFrom, posOf(y, n)],
    };
    return this.loadPlaybookFile(file, next, stack, imp.pos);
  }

  private siblingHint(file: string): string {
    try {
      const d = dirname(file);
      const c = closest(basename(file), readdirSync(d));
      return c ? `; did you mean ${join(d, c.match)}?` : '';
    } catch {
      return '';
    }
  }

  private parsePlay(y: YFile, n: YAMLMap, entries: Entry[], file: string, carried: { when: Cond[]; tags: string[]; vars: VarMap; importedFrom: SourcePos[] }): Play {
    const pos = posOf(y, n);
    const byKey = new Map<string, Entry>();
    for (const e of entries) {
      if (!PLAY_KEYWORDS.has(e.key)) {
        const isModule = normaliseModule(e.key, this.opts.modules) !== undefined;
        throw unknownKeyword(e.key, e.pos, 'a play', PLAY_KEYWORDS, isModule ? 'tasks go in a list under `tasks:`' : undefined);
      }
      byKey.set(e.key, e);
    }
    if (byKey.has('user') && byKey.has('remote_user')) {
      throw err('both `user` and `remote_user` are set on this play', byKey.get('user')!.pos, '`user` is the old name of `remote_user`; keep only `remote_user`');
    }
    const hostsE = byKey.get('hosts');
    if (!hostsE) throw err('this play has no `hosts`', pos, 'add `hosts: <pattern>` (a group, `all`, `localhost`, `a:b`, `g[0]`)');
    const hv = toJS(y, hostsE.value);
    let hosts: string | string[];
    if (typeof hv === 'string' && hv.trim()) hosts = hv;
    else if (Array.isArray(hv) && hv.length && hv.every((h) => typeof h === 'string' && h.trim())) hosts = hv as string[];
    else if (Array.isArray(hv) && hv.length === 0) throw err('`hosts` is an empty list', hostsE.pos, 'name at least one host or group');
    else if (hv === null || hv === '') throw err('`hosts` is empty', hostsE.pos, 'add a pattern: a group, `all`, `localhost`, `a:b`, `g[0]`');
    else throw err(`\`hosts\` must be a pattern string or a list of strings, got ${describe(hv)}`, hostsE.pos, 'e.g. hosts: kube_control_plane:etcd');

    const keywords: Keywords = {};
    const keywordPos: KeywordPositions = {};
    const play: Play = {
      name: '', hosts, pos, file, dir: dirname(file), vars: new Map(), vars_files: [], vars_prompt: [], when: [...carried.when],
      keywords, keywordPos, roles: [], pre_tasks: [], tasks: [], post_tasks: [], handlers: [], importedHandlers: [],
      importedFrom: carried.importedFrom,
    };
    // Scalars and vars first: static names (roles, import paths) may use play vars.
    for (const e of entries) {
      switch (e.key) {
        case 'hosts': case 'roles': case 'pre_tasks': case 'tasks': case 'post_tasks': case 'handlers':
          break;
        case 'name': {
          const v = parseKeyword(y, e);
          if (v !== undefined) play.name = v as string;
          break;
        }
        case 'vars':
          play.vars = toVarMap(y, e.value, e.pos);
          setKeyword(keywords, keywordPos, 'vars', play.vars, e.pos);
          break;
        case 'vars_files':
          play.vars_files = this.parseVarsFiles(y, e);
          break;
        case 'vars_prompt':
          play.vars_prompt = this.parseVarsPrompt(y, e);
          break;
        case 'gather_facts':
        case 'force_handlers': {
          const v = parseKeyword(y, e) as boolean | string | undefined;
          if (v !== undefined) play[e.key] = v;
          break;
        }
        case 'gather_timeout': {
          const v = parseKeyword(y, e) as number | string | undefined;
          if (v !== undefined) play.gather_timeout = v;
          break;
        }
        case 'gather_subset':
          play.gather_subset = parseKeyword(y, e) as string[];
          break;
        case 'fact_path': case 'strategy': case 'order': {
          const v = parseKeyword(y, e) as string | undefined;
          if (v !== undefined) play[e.key] = v;
          break;
        }
        case 'serial':
          play.serial = this.parseSerial(y, e);
          break;
        case 'max_fail_percentage':
          play.max_fail_percentage = this.parsePercent(toJS(y, e.value), e);
          break;
        case 'user':
          setKeyword(keywords, keywordPos, 'remote_user', parseKeyword(y, { ...e, key: 'remote_user' }), e.pos);
          break;
        default:
          setKeyword(keywords, keywordPos, e.key, parseKeyword(y, e), e.pos);
      }
    }
    if (!play.name) play.name = Array.isArray(hosts) ? hosts.join(',') : hosts;
    // carried from import_playbook: tags add up, the import's vars override the play's
    if (carried.tags.length) keywords.tags = uniq([...(keywords.tags ?? []), ...carried.tags]);
    if (carried.vars.size) {
      play.vars = new Map([...play.vars, ...carried.vars]);
      keywords.vars = play.vars;
    }
    const ps: PlayState = {
      dir: play.dir, file, templateVars: { ...varValues(play.vars), ...this.opts.extraVars },
      roleCache: new Map(), roleCount: new Map(), importedHandlers: play.importedHandlers,
    };
    this.playStates.set(play, ps);
    const ctx: ListCtx = { ps, handlers: false, importDirs: [], stack: [real(file)], roleStack: [] };
    const rolesE = byKey.get('roles');
    if (rolesE) play.roles = this.parseRoleList(y, rolesE, ps, undefined, [], 'roles');
    for (const k of ['pre_tasks', 'tasks', 'post_tasks'] as const) {
      const e = byKey.get(k);
      if (e) play[k] = this.parseTaskList(y, e.value, ctx, k, e.pos);
    }
    const he = byKey.get('handlers');
    if (he) play.handlers = this.parseTaskList(y, he.value, { ...ctx, handlers: true }, 'handlers', he.pos);
    return play;
  }

  private parseSerial(y: YFile, e: Entry): number | string | (number | string)[] {
    const v = toJS(y, e.value);
    const one = (x: unknown): number | string => {
      if (typeof x === 'number' && Number.isInteger(x) && x >= 0) return x;
      if (typeof x === 'string' && (isTemplate(x) || /^\s*\d+(\.\d+)?%\s*$/.test(x))) return x.trim();
      if (typeof x === 'string' && /^\s*\d+\s*$/.test(x)) return parseInt(x, 10);
      throw err(`\`serial\` entries must be a host count, a percentage ("30%") or a template, got ${describe(x)}${typeof x === 'string' ? ` '${x}'` : ''}`, e.pos,
        'e.g. serial: 1, serial: "30%" or serial: [1, 5, "50%"]');
    };
    if (Array.isArray(v)) {
      if (!v.length) throw err('`serial` is an empty list', e.pos, 'give at least one batch size');
      return v.map(one);
    }
    return one(v);
  }

  private parsePercent(v: unknown, e: Entry): number | string {
    if (typeof v === 'number' && v >= 0 && v <= 100) return v;
    if (typeof v === 'string') {
      if (isTemplate(v)) return v;
      const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(v);
      if (m && Number(m[1]) <= 100) return Number(m[1]);
    }
    throw err(`\`${e.key}\` must be a percentage between 0 and 100, got ${describe(v)}${typeof v === 'string' ? ` '${v}'` : ''}`, e.pos, `e.g. ${e.key}: 30`);
  }

  private parseVarsFiles(y: YFile, e: Entry): VarsFileRef[] {
    const n = resolveNode(y, e.value);
    if (isNullNode(y, n)) return [];
    const items = isSeq(n) ? n.items.map((i) => resolveNode(y, i as Node)) : [n];
    return items.map((i) => {
      const v = toJS(y, i);
      const p = i ? posOf(y, i) : e.pos;
      if (typeof v === 'string') return { path: v, pos: p };
      if (Array.isArray(v) && v.length && v.every((x) => typeof x === 'string')) return { path: v as string[], pos: p };
      throw err(`\`vars_files\` entries must be file names (or a list of candidates), got ${describe(v)}`, p, 'e.g. vars_files: [vars.yml, ["{{ os }}.yml", default.yml]]');
    });
  }

  private parseVarsPrompt(y: YFile, e: Entry): VarsPrompt[] {
    const n = resolveNode(y, e.value);
    if (isNullNode(y, n)) return [];
    const out: VarsPrompt[] = [];
    if (isMap(n)) {
      // old style: {var_name: "prompt text"}
      for (const k of mapEntries(y, n)) out.push({ name: k.key, prompt: String(toJS(y, k.value) ?? ''), private: true, pos: k.pos });
      return out;
    }
    if (!isSeq(n)) throw err('`vars_prompt` must be a list of prompts', e.pos, 'e.g. vars_prompt: [{name: answer, prompt: "Continue?", private: false}]');
    for (const item of n.items) {
      const m = resolveNode(y, item as Node);
      if (!m || !isMap(m)) throw err('each `vars_prompt` entry must be a mapping with `name`', posOf(y, item as Node));
      const p = posOf(y, m);
      const vp: VarsPrompt = { name: '', private: true, pos: p };
      for (const k of mapEntries(y, m)) {
        const v = toJS(y, k.value);
        switch (k.key) {
          case 'name': case 'prompt': case 'encrypt': case 'salt':
            if (typeof v !== 'string') throw err(`\`vars_prompt.${k.key}\` must be a string`, k.pos);
            vp[k.key] = v;
            break;
          case 'default':
            vp.default = v;
            break;
          case 'private': case 'confirm': case 'unsafe':
            vp[k.key] = toBool(v, `vars_prompt.${k.key}`, k.pos) === true;
            break;
          case 'salt_size': {
            const s = toInt(v, 'vars_prompt.salt_size', k.pos);
            if (typeof s !== 'number') throw err('`vars_prompt.salt_size` must be a number', k.pos);
            vp.salt_size = s;
            break;
          }
          default:
            throw err(`unknown vars_prompt option \`${k.key}\``, k.pos, didYouMean(k.key, VARS_PROMPT_KEYS) ?? `valid options: ${VARS_PROMPT_KEYS.join(', ')}`);
        }
      }
      if (!vp.name) throw err('a `vars_prompt` entry needs a `name`', p, 'name is the variable that receives the answer');
      out.push(vp);
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------------
  // Task lists, blocks, tasks

  parseTaskList(y: YFile, node: Node | null, ctx: ListCtx, what: string, pos: SourcePos): TaskNode[] {
    const n = resolveNode(y, node);
    if (isNullNode(y, n)) return [];
    if (!isSeq(n)) {
      throw err(`\`${what}\` must be a list of tasks, got ${describe(toJS(y, n))}`, n ? posOf(y, n) : pos,
        'start each task with `- name: …` (a leading dash makes a list entry)');
    }
    const out: TaskNode[] = [];
    for (const item of n.items) {
      const t = resolveNode(y, item as Node);
      if (!t || !isMap(t)) {
        const v = toJS(y, t);
        throw err(`a task must be a mapping of keywords and one module, got ${describe(v)}${typeof v === 'string' ? ` '${v}'` : ''}`, posOf(y, (t ?? item) as Node),
          typeof v === 'string' ? 'a task looks like `- name: …` followed by `module: args` at the same indentation' : 'check the indentation of this entry');
      }
      out.push(this.parseTaskOrBlock(y, t, ctx));
    }
    return out;
  }

  private parseTaskOrBlock(y: YFile, n: YAMLMap, ctx: ListCtx): TaskNode {
    const entries = mapEntries(y, n);
    if (entries.some((e) => e.key === 'block' || e.key === 'rescue' || e.key === 'always')) return this.parseBlock(y, n, entries, ctx);
    return this.parseTask(y, n, entries, ctx);
  }

  private parseBlock(y: YFile, n: YAMLMap, entries: Entry[], ctx: ListCtx): Block {
    const pos = posOf(y, n);
    if (ctx.handlers) throw err('blocks are not supported in handlers', pos, 'write each handler as a task; a handler can `notify` another handler');
    const b: Block = { kind: 'block', block: [], rescue: [], always: [], keywords: {}, keywordPos: {}, pos };
    if (ctx.role) b.role = ctx.role;
    for (const e of entries) {
      if (e.key === 'block' || e.key === 'rescue' || e.key === 'always') {
        b[e.key] = this.parseTaskList(y, e.value, ctx, e.key, e.pos);
        continue;
      }
      if (!BLOCK_KEYWORDS.has(e.key)) {
        const mod = normaliseModule(e.key, this.opts.modules) !== undefined || e.key === 'action' || e.key === 'local_action';
        if (mod) throw err(`a block cannot have a module (\`${e.key}\`)`, e.pos, 'move the module into a task inside `block:`');
        const hint = e.key === 'loop' || e.key.startsWith('with_')
          ? 'blocks cannot loop; put the tasks in a file and loop over `include_tasks`'
          : TASK_KEYWORDS.has(e.key) ? `\`${e.key}\` applies to tasks only; set it on the tasks inside the block` : undefined;
        throw unknownKeyword(e.key, e.pos, 'a block', BLOCK_KEYWORDS, hint);
      }
      if (e.key === 'name') {
        const v = parseKeyword(y, e);
        if (v !== undefined) b.name = v as string;
        continue;
      }
      setKeyword(b.keywords, b.keywordPos, e.key, parseKeyword(y, e), e.pos);
    }
    for (const k of ['rescue', 'always'] as const) {
      if (b[k].length && !b.block.length) {
        throw err(`\`${k}\` cannot be used without \`block\``, entries.find((e) => e.key === k)!.pos, `put the tasks to protect under \`block:\`; \`${k}:\` runs when they fail${k === 'always' ? ' or succeed' : ''}`);
      }
    }
    return b;
  }

  private parseTask(y: YFile, n: YAMLMap, entries: Entry[], ctx: ListCtx): TaskNode {
    const pos = posOf(y, n);
    const modules = this.opts.modules;
    const allowed = ctx.handlers ? HANDLER_KEYWORDS : TASK_KEYWORDS;
    const kwEntries: Entry[] = [];
    const withEntries: Entry[] = [];
    const cands: Entry[] = [];
    let actionEntry: Entry | undefined;
    let argsEntry: Entry | undefined;
    for (const e of entries) {
      if (e.key === 'action' || e.key === 'local_action') {
        if (actionEntry) throw err('`action` and `local_action` cannot be used together', e.pos, 'keep one of them');
        actionEntry = e;
      } else if (e.key === 'args') argsEntry = e;
      else if (e.key.startsWith('with_')) withEntries.push(e);
      else if (allowed.has(e.key)) kwEntries.push(e);
      else if (e.key === 'listen') throw err('`listen` is only valid on handlers', e.pos, 'move this task under `handlers:` or remove `listen`');
      else if (e.key === 'static') throw err('`static` was removed from Ansible', e.pos, 'use import_tasks (static) or include_tasks (dynamic)');
      else cands.push(e);
    }
    const known: Entry[] = [];
    const unknown: Entry[] = [];
    for (const c of cands) {
      const m = misplacedAction(c.key);
      if (m) throw err(m, c.pos);
      (normaliseModule(c.key, modules) !== undefined ? known : unknown).push(c);
    }
    const moduleCount = known.length + (actionEntry ? 1 : 0);
    if (unknown.length) throw this.unknownTaskKey(unknown[0]!, moduleCount, allowed);
    if (moduleCount > 1) {
      const names = [...(actionEntry ? [actionEntry.key] : []), ...known.map((k) => k.key)];
      throw err(`a task can have only one module, found ${names.map((x) => `\`${x}\``).join(' and ')}`, (known[1] ?? known[0])!.pos,
        'split it into one task per module (each `- name:` starts a new task); check the indentation of the second one');
    }
    if (moduleCount === 0) {
      throw err('this task has no module', pos,
        'add one (e.g. `debug: msg=…`); if it is written, check its indentation — it must line up with `name:`');
    }
    const resolveName = (w: string, p: SourcePos): string => {
      const m = misplacedAction(w);
      if (m) throw err(m, p);
      const r = normaliseModule(w, modules);
      if (r === undefined) throw this.unknownModule(w, p);
      return r;
    };
    const { action, local } = parseAction(y, pos, modules, known[0], actionEntry, argsEntry, resolveName);

    // keywords
    const keywords: Keywords = {};
    const keywordPos: KeywordPositions = {};
    let name: string | undefined;
    const isTaskInclude = action.module === 'include_tasks' || action.module === 'import_tasks';
    const isStatic = action.module === 'import_tasks' || action.module === 'import_role';
    for (const e of kwEntries) {
      if (isTaskInclude && !INCLUDE_KEYWORDS.has(e.key)) {
        throw err(`\`${e.key}\` cannot be set on ${action.written}`, e.pos, action.module === 'include_tasks'
          ? `use \`apply: {${e.key}: …}\` to set it on the included tasks, or wrap the include in a block with it`
          : `wrap the import in a \`block:\` with \`${e.key}\`, or set it on the imported tasks`);
      }
      if (isStatic && e.key === 'loop') throw this.staticLoop(action, e.pos);
      if (e.key === 'name') {
        const v = parseKeyword(y, e);
        if (v !== undefined) name = v as string;
        continue;
      }
      setKeyword(keywords, keywordPos, e.key, parseKeyword(y, e), e.pos);
    }
    if (withEntries.length) {
      const w = withEntries[0]!;
      if (isStatic) throw this.staticLoop(action, w.pos);
      if (withEntries.length > 1) throw err(`a task can have only one loop, found \`${w.key}\` and \`${withEntries[1]!.key}\``, withEntries[1]!.pos, 'keep one loop; combine lists with `loop: "{{ a + b }}"`');
      if (keywords.loop !== undefined) throw err(`\`loop\` and \`${w.key}\` cannot be used together`, w.pos, 'keep one of them');
      const lookup = w.key.slice(5);
      if (!/^[A-Za-z_][\w.]*$/.test(lookup)) throw err(`invalid loop keyword \`${w.key}\``, w.pos, 'write with_<lookup>, e.g. with_items, or use `loop:`');
      keywords.loop = toJS(y, w.value);
      keywords.loop_with = lookup;
      keywordPos.loop = w.pos;
      keywordPos.loop_with = w.pos;
    }
    if (local) {
      keywords.delegate_to = 'localhost';
      keywordPos.delegate_to = actionEntry!.pos;
    }
    const base = { keywords, keywordPos, pos, ...(name !== undefined ? { name } : {}), ...(ctx.role ? { role: ctx.role } : {}) };
    if (ctx.handlers && (action.module === 'include_role' || action.module === 'import_role')) {
      throw err(`\`${action.written}\` cannot be a handler`, pos, 'notify a handler that uses include_tasks, or move the role into the play');
    }
    switch (action.module) {
      case 'include_tasks':
      case 'import_tasks':
        return this.buildTaskInclude(action, base, ctx);
      case 'include_role':
      case 'import_role':
        return this.buildRoleInclude(action, base, ctx);
      case 'include_vars':
        return this.buildIncludeVars(action, base);
      case 'meta':
        this.checkMeta(action);
        break;
      default: {
        const spec = specOf(action.module, modules);
        const problems = spec.validate?.(action) ?? [];
        const p = problems[0];
        if (p) throw err(`${action.written}: ${p.message}`, (p.arg !== undefined ? action.argPos[p.arg] : undefined) ?? action.argsPos, p.hint);
      }
    }
    const task: Task = { kind: 'task', ...base, action };
    if (ctx.handlers) task.listen = keywords.listen ?? [];
    return task;
  }

  private staticLoop(action: Action, pos: SourcePos): ParseError {
    const dyn = action.module === 'import_tasks' ? 'include_tasks' : 'include_role';
    return err(`\`${action.written}\` cannot loop (it is expanded before the play runs)`, pos, `use \`${dyn}\` to loop`);
  }

  private unknownTaskKey(u: Entry, moduleCount: number, allowed: ReadonlySet<string>): ParseError {
    const kwNames = [...allowed, 'block', 'rescue', 'always'];
    const kw = closest(u.key, kwNames);
    const md = closest(u.key.split('.').pop()!, [...this.opts.modules.keys(), ...ENGINE_ACTIONS.keys()]);
    if (moduleCount >= 1 || (kw && (!md || kw.distance <= md.distance))) {
      return err(`\`${u.key}\` is not a valid task keyword`, u.pos, kw
        ? `did you mean \`${kw.match}\`?`
        : md ? `did you mean the module \`${md.match}\`? (a task has exactly one module)` : 'check the spelling and the indentation (module arguments go under the module)');
    }
    return this.unknownModule(u.key, u.pos);
  }

  private unknownModule(written: string, pos: SourcePos): ParseError {
    const md = closest(written.split('.').pop()!, [...this.opts.modules.keys(), ...ENGINE_ACTIONS.keys()]);
    return err(`unknown module \`${written}\``, pos, md
      ? `did you mean \`${md.match}\`?`
      : 'check the spelling; only the modules this runner implements can be used');
  }

  private checkMeta(action: Action): void {
    const v = action.freeForm;
    const extra = Object.keys(action.args);
    if (extra.length) throw err(`meta takes one action, not arguments (\`${extra[0]}\`)`, action.argPos[extra[0]!] ?? action.argsPos, `e.g. meta: flush_handlers`);
    if (v === undefined) throw err('meta needs an action', action.argsPos, `one of: ${[...META_ACTIONS].join(', ')}`);
    if (!isTemplate(v) && !META_ACTIONS.has(v.trim())) {
      throw err(`unknown meta action '${v}'`, action.argsPos, didYouMean(v.trim(), META_ACTIONS) ?? `one of: ${[...META_ACTIONS].join(', ')}`);
    }
  }

  private parseApply(action: Action): ApplyKeywords | undefined {
    if (!('apply' in action.args)) return undefined;
    const a = action.args.apply;
    const pos = action.argPos.apply ?? action.argsPos;
    if (a === null || a === undefined) return undefined;
    if (typeof a !== 'object' || Array.isArray(a)) throw err(`\`apply\` must be a mapping of keywords, got ${describe(a)}`, pos, 'e.g. apply: {tags: [x], become: true}');
    // apply values come from toJS (no node positions inside); re-validate through the same checks
    const keywords: Keywords = {};
    const keywordPos: KeywordPositions = {};
    for (const [k, v] of Object.entries(a as Record<string, unknown>)) {
      if (!INHERITABLE.has(k)) throw unknownKeyword(k, pos, '`apply`', INHERITABLE, 'apply takes block keywords (tags, when, become, vars …)');
      let val: unknown = v;
      if (k === 'when') {
        if (!(typeof v === 'string' || typeof v === 'boolean' || (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'boolean')))) {
          throw err('`apply.when` must be a condition or a list of conditions', pos);
        }
        val = (Array.isArray(v) ? v : [v]).map((expr) => ({ expr, pos }));
      } else if (k === 'tags') val = toTags(v, pos);
      else if (k === 'vars') {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw err('`apply.vars` must be a mapping', pos);
        val = new Map(Object.entries(v).map(([vk, vv]) => [vk, { value: vv, pos }]));
      } else if (k === 'environment') val = Array.isArray(v) ? v : [v];
      else if (k === 'notify') val = Array.isArray(v) ? v.map(String) : [String(v)];
      else if (['become', 'ignore_errors', 'ignore_unreachable', 'no_log', 'run_once', 'check_mode', 'diff', 'any_errors_fatal', 'delegate_facts'].includes(k)) val = toBool(v, `apply.${k}`, pos);
      else if (['throttle', 'port', 'timeout'].includes(k)) val = toInt(v, `apply.${k}`, pos);
      setKeyword(keywords, keywordPos, k, val, pos);
    }
    return { keywords, keywordPos, pos };
  }

  private buildTaskInclude(action: Action, base: Omit<Task, 'kind' | 'action'>, ctx: ListCtx): TaskNode {
    const written = action.written;
    for (const k of Object.keys(action.args)) {
      if (k !== 'file' && !(k === 'apply' && action.module === 'include_tasks')) {
        throw err(`invalid option \`${k}\` for ${written}`, action.argPos[k] ?? action.argsPos,
          k === 'apply' ? '`apply` works with include_tasks only' : 'valid: file (or the file name as free-form text)' + (action.module === 'include_tasks' ? ', apply' : '') + '; pass variables with `vars:`');
      }
    }
    const f = action.args.file ?? action.freeForm;
    if (typeof f !== 'string' || !f.trim()) throw err(`${written} needs a file name`, action.argsPos, `write ${written}: tasks/other.yml`);
    const target = f.trim();
    if (action.module === 'include_tasks') {
      const node: IncludeTasks = { kind: 'include_tasks', ...base, action, file: target, searchDirs: [...ctx.importDirs] };
      const apply = this.parseApply(action);
      if (apply) node.apply = apply;
      if (!isTemplate(target)) {
        const r = resolveTaskFile(target, ctx.importDirs, ctx.role?.path, ctx.ps.dir, ctx.handlers ? 'handlers' : 'tasks');
        if (!r.file) throw err(`include_tasks: file not found: ${target}`, action.argsPos, `looked in: ${r.tried.join(', ')}`);
        node.resolved = r.file;
      }
      return node;
    }
    return this.expandImportTasks(target, action, base, ctx);
  }

  private expandImportTasks(target0: string, action: Action, base: Omit<Task, 'kind' | 'action'>, ctx: ListCtx): Block {
    const target = isTemplate(target0) ? this.templateStatic(target0, ctx.ps, action.argsPos, 'import_tasks') : target0;
    const r = resolveTaskFile(target, ctx.importDirs, ctx.role?.path, ctx.ps.dir, ctx.handlers ? 'handlers' : 'tasks');
    if (!r.file) throw err(`import_tasks: file not found: ${target}`, action.argsPos, `looked in: ${r.tried.join(', ')}`);
    const file = r.file;
    const rp = real(file);
    if (ctx.stack.includes(rp)) {
      const chain = [...ctx.stack, rp].map((f) => relative(ctx.ps.dir, f) || f).join(' → ');
      throw err(`import loop: ${chain}`, action.argsPos, 'a task file imports itself (directly or through other files); remove one import, or use include_tasks with a condition');
    }
    if (ctx.stack.length > this.maxDepth) throw err(`imports nested deeper than ${this.maxDepth}`, action.argsPos, 'flatten the task files');
    const y = this.readYaml(file, action.argsPos, 'task file');
    const root = resolveNode(y, y.doc.contents as Node | null);
    const keywords: Keywords = {};
    const keywordPos: KeywordPositions = {};
    for (const [k, v] of Object.entries(base.keywords)) {
      if (INHERITABLE.has(k)) setKeyword(keywords, keywordPos, k, v, base.keywordPos[k] ?? base.pos);
    }
    const block: Block = {
      kind: 'block', block: [], rescue: [], always: [], keywords, keywordPos, pos: base.pos,
      origin: { kind: 'import_tasks', target, file },
    };
    if (base.name !== undefined) block.name = base.name;
    if (ctx.role) block.role = ctx.role;
    if (isNullNode(y, root)) return block; // Ansible warns and imports nothing
    if (!isSeq(root)) {
      throw err(`an imported task file must be a list of tasks, got ${describe(toJS(y, root))}`, posOf(y, root), 'start each task with `- name: …`');
    }
    block.block = this.parseTaskList(y, root, { ...ctx, importDirs: [dirname(target), ...ctx.importDirs], stack: [...ctx.stack, rp] }, 'tasks', posOf(y, root));
    return block;
  }

  private roleIncludeArgs(action: Action): { name: string; from: FromFiles; public?: boolean | string; allowDuplicates?: boolean } {
    const a = action.args;
    const w = action.written;
    for (const k of Object.keys(a)) {
      if (!ROLE_INCLUDE_ARGS.includes(k)) {
        throw err(`invalid option \`${k}\` for ${w}`, action.argPos[k] ?? action.argsPos, didYouMean(k, ROLE_INCLUDE_ARGS) ?? `valid: ${ROLE_INCLUDE_ARGS.join(', ')}; pass role variables with \`vars:\``);
      }
      if ((k === 'public' || k === 'apply') && action.module === 'import_role') {
        throw err(`invalid option \`${k}\` for import_role`, action.argPos[k] ?? action.argsPos, `\`${k}\` works with include_role only`);
      }
    }
    if (action.freeForm !== undefined) throw err(`${w} takes \`name: <role>\`, not free-form text`, action.argsPos, `write ${w}: {name: ${action.freeForm.split(/\s/)[0]}}`);
    const name = a.name ?? a.role;
    if (typeof name !== 'string' || !name.trim()) throw err(`${w} needs the role \`name\``, action.argsPos, `write ${w}: {name: myrole}`);
    const from: FromFiles = {};
    for (const k of ['tasks', 'vars', 'defaults', 'handlers'] as const) {
      const v = a[`${k}_from`];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string') throw err(`\`${k}_from\` must be a file name`, action.argPos[`${k}_from`] ?? action.argsPos);
      from[k] = basename(v); // Ansible keeps the base name only
    }
    const out: { name: string; from: FromFiles; public?: boolean | string; allowDuplicates?: boolean } = { name: name.trim(), from };
    if (a.public !== undefined) out.public = toBool(a.public, 'public', action.argPos.public ?? action.argsPos);
    if (a.allow_duplicates !== undefined) {
      const b = toBool(a.allow_duplicates, 'allow_duplicates', action.argPos.allow_duplicates ?? action.argsPos);
      out.allowDuplicates = b === true;
    }
    if (a.rolespec_validate !== undefined) toBool(a.rolespec_validate, 'rolespec_validate', action.argPos.rolespec_validate ?? action.argsPos);
    return out;
  }

  private buildRoleInclude(action: Action, base: Omit<Task, 'kind' | 'action'>, ctx: ListCtx): IncludeRole | ImportRole {
    const ra = this.roleIncludeArgs(action);
    if (action.module === 'include_role') {
      const node: IncludeRole = { kind: 'include_role', ...base, action, roleName: ra.name };
      if (ra.from.tasks) node.tasksFrom = ra.from.tasks;
      if (ra.from.vars) node.varsFrom = ra.from.vars;
      if (ra.from.defaults) node.defaultsFrom = ra.from.defaults;
      if (ra.from.handlers) node.handlersFrom = ra.from.handlers;
      if (ra.public !== undefined) node.public = ra.public;
      if (ra.allowDuplicates !== undefined) node.allowDuplicates = ra.allowDuplicates;
      const apply = this.parseApply(action);
      if (apply) node.apply = apply;
      if (!isTemplate(ra.name)) {
        node.resolved = this.findRole(ra.name, ctx.ps, ctx.role, action.argPos.name ?? action.argPos.role ?? action.argsPos);
        if (node.tasksFrom && !isTemplate(node.tasksFrom) && !findRoleFile(join(node.resolved, 'tasks'), node.tasksFrom)) {
          throw err(`role '${ra.name}' has no tasks file '${node.tasksFrom}'`, action.argPos.tasks_from ?? action.argsPos,
            `looked in ${join(node.resolved, 'tasks')} for ${node.tasksFrom}(.yml|.yaml|.json)`);
        }
      }
      return node;
    }
    const name = isTemplate(ra.name) ? this.templateStatic(ra.name, ctx.ps, action.argsPos, 'import_role') : ra.name;
    const spec: RoleSpec = {
      name, pos: action.argPos.name ?? action.argPos.role ?? action.argsPos, params: new Map(),
      keywords: base.keywords.vars ? { vars: base.keywords.vars } : {}, keywordPos: {}, from: ra.from, fromInclude: true,
    };
    const role = this.loadRole(spec, ctx.ps, ctx.role, ctx.roleStack);
    if (ra.allowDuplicates !== undefined) role.allowDuplicates = ra.allowDuplicates;
    if (role.handlers.length) ctx.ps.importedHandlers.push({ role, nodes: role.handlers });
    return { kind: 'import_role', ...base, action, ref: { name, pos: spec.pos, role } };
  }

  private buildIncludeVars(action: Action, base: Omit<Task, 'kind' | 'action'>): IncludeVars {
    const a = action.args;
    for (const k of Object.keys(a)) {
      if (!INCLUDE_VARS_ARGS.includes(k)) {
        throw err(`invalid option \`${k}\` for include_vars`, action.argPos[k] ?? action.argsPos, didYouMean(k, INCLUDE_VARS_ARGS) ?? `valid: ${INCLUDE_VARS_ARGS.join(', ')}`);
      }
    }
    const file = a.file ?? action.freeForm;
    if (file !== undefined && a.dir !== undefined) throw err('include_vars takes `file` or `dir`, not both', action.argPos.dir ?? action.argsPos);
    if (file === undefined && a.dir === undefined) throw err('include_vars needs a file (or `dir`)', action.argsPos, 'write include_vars: vars/other.yml');
    const source: { file?: string; dir?: string } = {};
    if (file !== undefined) {
      if (typeof file !== 'string') throw err('include_vars `file` must be a file name', action.argPos.file ?? action.argsPos);
      source.file = file.trim();
    } else {
      if (typeof a.dir !== 'string') throw err('include_vars `dir` must be a directory name', action.argPos.dir ?? action.argsPos);
      source.dir = a.dir;
    }
    const node: IncludeVars = { kind: 'include_vars', ...base, action, source };
    if (a.name !== undefined) {
      if (typeof a.name !== 'string') throw err('include_vars `name` must be a variable name', action.argPos.name ?? action.argsPos);
      node.into = a.name;
    }
    return node;
  }

  // -------------------------------------------------------------------------------------------------
  // Roles

  private parseRoleList(y: YFile, e: Entry, ps: PlayState, parent: Role | undefined, roleStack: string[], what: string): RoleRef[] {
    const n = resolveNode(y, e.value);
    if (isNullNode(y, n)) return [];
    if (!isSeq(n)) throw err(`\`${what}\` must be a list of roles, got ${describe(toJS(y, n))}`, e.pos, `write ${what}: [role_a, {role: role_b, tags: x}]`);
    return n.items.map((item) => this.parseRoleRef(y, resolveNode(y, item as Node), posOf(y, item as Node), ps, parent, roleStack));
  }

  private parseRoleRef(y: YFile, n: Node | null, pos: SourcePos, ps: PlayState, parent: Role | undefined, roleStack: string[]): RoleRef {
    const spec: RoleSpec = { name: '', pos, params: new Map(), keywords: {}, keywordPos: {}, from: {}, fromInclude: false };
    if (n && isScalar(n) && (typeof n.value === 'string' || typeof n.value === 'number')) {
      spec.name = String(n.value);
      if (spec.name.includes(',')) throw err(`invalid role reference '${spec.name}'`, pos, 'old-style "role,version" references are not supported; write the role name');
    } else if (n && isMap(n)) {
      let nameE: Entry | undefined;
      for (const e of mapEntries(y, n)) {
        if (e.key === 'role') nameE = e;
        else if (e.key === 'name') {
          if (!nameE) nameE = e;
        } else if (ROLE_KEYWORDS.has(e.key)) setKeyword(spec.keywords, spec.keywordPos, e.key, parseKeyword(y, e), e.pos);
        else spec.params.set(e.key, { value: toJS(y, e.value), pos: e.pos });
      }
      const v = nameE ? toJS(y, nameE.value) : undefined;
      if (typeof v !== 'string' || !v.trim()) {
        throw err('a role reference needs a role name', pos, 'write `- role: name` (or `- name`); other keys are role parameters and keywords');
      }
      spec.name = v.trim();
      spec.pos = nameE!.pos;
    } else {
      throw err(`a role reference must be a name or a mapping with \`role:\`, got ${describe(toJS(y, n))}`, pos);
    }
    if (isTemplate(spec.name)) spec.name = this.templateStatic(spec.name, ps, spec.pos, 'the role name');
    const role = this.loadRole(spec, ps, parent, roleStack);
    return { name: spec.name, pos: spec.pos, role };
  }

  /** Role directory for a name: `<playbook>/roles`, extra role dirs, the depending role's parent dir, the playbook dir. */
  findRole(name: string, ps: PlayState, parent: Role | undefined, pos: SourcePos): string {
    const search = [join(ps.dir, 'roles'), ...(this.opts.rolesPath ?? []).map((p) => resolve(ps.dir, p))];
    if (parent) search.push(dirname(parent.path));
    search.push(ps.dir);
    for (const d of uniq(search)) {
      const p = resolve(d, name);
      if (isDir(p)) return p;
    }
    if (isAbsolute(name) && isDir(name)) return name;
    const names = new Set<string>();
    for (const d of search) {
      try {
        for (const f of readdirSync(d)) if (isDir(join(d, f))) names.add(f);
      } catch { /* missing search dir */ }
    }
    const dym = didYouMean(name, names);
    throw err(`role '${name}' not found`, pos, `${dym ? dym + '; ' : ''}searched ${uniq(search).join(', ')}`);
  }

  loadRole(spec: RoleSpec, ps: PlayState, parent: Role | undefined, roleStack: string[]): Role {
    const path = this.findRole(spec.name, ps, parent, spec.pos);
    const name = isAbsolute(spec.name) ? basename(spec.name) : spec.name;
    const key = stableKey({
      path, params: spec.params, when: (spec.keywords.when ?? []).map((c) => c.expr), tags: spec.keywords.tags ?? [],
      vars: spec.keywords.vars ?? new Map(), from: spec.from, fromInclude: spec.fromInclude,
    });
    const cached = ps.roleCache.get(key);
    if (cached) return cached;
    if (roleStack.includes(path)) {
      throw err(`role dependency loop: ${[...roleStack, path].map((p) => basename(p)).join(' → ')}`, spec.pos, 'a role depends on itself through meta/main.yml dependencies; remove one dependency');
    }
    if (roleStack.length >= this.maxDepth) throw err(`role dependencies nested deeper than ${this.maxDepth}`, spec.pos);
    const count = (ps.roleCount.get(name) ?? 0) + 1;
    ps.roleCount.set(name, count);
    const role: Role = {
      name, path, id: count === 1 ? name : `${name}#${count}`, params: spec.params, keywords: spec.keywords, keywordPos: spec.keywordPos,
      defaults: new Map(), vars: new Map(), tasks: [], handlers: [], dependencies: [], allowDuplicates: false,
      files: { defaults: [], vars: [] }, fromInclude: spec.fromInclude,
    };
    const stack = [...roleStack, path];
    for (const part of ['defaults', 'vars'] as const) {
      const files = findRoleVarsFiles(join(path, part), spec.from[part]);
      if (spec.from[part] && !files.length) {
        throw err(`role '${name}' has no ${part} file '${spec.from[part]}'`, spec.pos, `looked in ${join(path, part)}`);
      }
      for (const f of files) for (const [k, d] of this.loadVarsFile(f, spec.pos)) role[part].set(k, d);
      role.files[part] = files;
    }
    const metaFile = findRoleFile(join(path, 'meta'));
    if (metaFile) {
      role.files.meta = metaFile;
      this.loadMeta(metaFile, role, ps, stack);
    }
    const ctx: ListCtx = { ps, role, handlers: false, importDirs: [], stack: [], roleStack: stack };
    for (const part of ['tasks', 'handlers'] as const) {
      const f = findRoleFile(join(path, part), spec.from[part]);
      if (!f) {
        if (spec.from[part]) throw err(`role '${name}' has no ${part} file '${spec.from[part]}'`, spec.pos, `looked in ${join(path, part)} for ${spec.from[part]}(.yml|.yaml|.json)`);
        continue;
      }
      role.files[part] = f;
      const y = this.readYaml(f, spec.pos, `role ${part} file`);
      const root = resolveNode(y, y.doc.contents as Node | null);
      if (isNullNode(y, root)) continue;
      if (!isSeq(root)) throw err(`the ${part} file of role '${name}' must be a list of tasks, got ${describe(toJS(y, root))}`, posOf(y, root), 'start each task with `- name: …`');
      role[part] = this.parseTaskList(y, root, { ...ctx, handlers: part === 'handlers', stack: [real(f)] }, part, posOf(y, root));
    }
    ps.roleCache.set(key, role);
    return role;
  }

  /**
   * A role's defaults/vars file as positioned variables, read with the playbook YAML rules (PyYAML-compatible
   * booleans); whole-file vaults are decrypted through the caller's decryptor.
   */
  private loadVarsFile(file: string, pos: SourcePos): VarMap {
    let text = readText(file, pos, 'vars file');
    this.files.add(file);
    if (text.startsWith('$ANSIBLE_VAULT;')) {
      if (!this.opts.decryptFile) {
        throw err('this vars file is vault-encrypted and no vault password is available', { file },
          'create the vault password file (.vaultpass), or pass --vault-password-file / --ask-vault-pass');
      }
      text = this.opts.decryptFile(text, file);
    }
    const y = parseYamlText(file, text, this.opts.customTags);
    const root = resolveNode(y, y.doc.contents as Node | null);
    if (isNullNode(y, root)) return new Map();
    if (!isMap(root)) throw err('a vars file must be a mapping of variable names to values', posOf(y, root), 'write `name: value` lines at the top level (no leading `-`)');
    return toVarMap(y, root, posOf(y, root));
  }

  private loadMeta(file: string, role: Role, ps: PlayState, stack: string[]): void {
    const y = this.readYaml(file, undefined, 'role meta file');
    const root = resolveNode(y, y.doc.contents as Node | null);
    if (isNullNode(y, root)) return;
    if (!isMap(root)) throw err(`meta/main.yml of role '${role.name}' must be a mapping`, posOf(y, root), 'e.g. dependencies: [common]');
    for (const e of mapEntries(y, root)) {
      switch (e.key) {
        case 'dependencies': {
          const n = resolveNode(y, e.value);
          if (isNullNode(y, n)) break;
          if (!isSeq(n)) throw err('role `dependencies` must be a list', e.pos, 'e.g. dependencies: [common, {role: x, tags: y}]');
          for (const item of n.items) {
            const d = resolveNode(y, item as Node);
            if (d && isMap(d) && !mapEntries(y, d).some((x) => x.key === 'role' || x.key === 'name')) {
              throw err('a role dependency needs `role:`', posOf(y, d), 'galaxy requirement entries (src/scm/version) are not supported; name the role');
            }
            role.dependencies.push(this.parseRoleRef(y, d, posOf(y, item as Node), ps, role, stack));
          }
          break;
        }
        case 'allow_duplicates':
          role.allowDuplicates = toBool(toJS(y, e.value), 'allow_duplicates', e.pos) === true;
          break;
        case 'galaxy_info': case 'collections': case 'argument_specs':
          break;
        default:
          throw err(`\`${e.key}\` is not a valid role meta key`, e.pos, didYouMean(e.key, META_KEYS) ?? `valid: ${META_KEYS.join(', ')}`);
      }
    }
  }

  /** Load an include_role target at run time (templated name and from-files already rendered). */
  loadIncludedRole(play: Play, name: string, from: FromFiles, vars: VarMap | undefined, parent: Role | undefined, pos: SourcePos): Role {
    const ps = this.playStates.get(play);
    if (!ps) throw err('internal: play was not loaded by this loader', pos);
    const spec: RoleSpec = { name, pos, params: new Map(), keywords: vars ? { vars } : {}, keywordPos: {}, from, fromInclude: true };
    return this.loadRole(spec, ps, parent, []);
  }

  /** Load a task file for include_tasks at run time. */
  loadIncludedTasks(play: Play, file: string, target: string, searchDirs: readonly string[], role: Role | undefined, handlers: boolean, pos: SourcePos): TaskNode[] {
    const ps = this.playStates.get(play);
    if (!ps) throw err('internal: play was not loaded by this loader', pos);
    const y = this.readYaml(file, pos, 'task file');
    const root = resolveNode(y, y.doc.contents as Node | null);
    if (isNullNode(y, root)) return [];
    if (!isSeq(root)) throw err(`an included task file must be a list of tasks, got ${describe(toJS(y, root))}`, posOf(y, root), 'start each task with `- name: …`');
    const ctx: ListCtx = { ps, handlers, importDirs: [dirname(target), ...searchDirs], stack: [real(file)], roleStack: [] };
    if (role) ctx.role = role;
    return this.parseTaskList(y, root, ctx, 'tasks', posOf(y, root));
  }
}
