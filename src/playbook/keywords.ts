/**
 * The keywords each node kind accepts (Ansible 2.14's attribute sets) and their value checks.
 * Every check runs at load time and fails with file:line:col of the offending key and a hint.
 */
import { isMap, isSeq, type Node } from 'yaml';
import { ParseError, type SourcePos } from '../core/errors.js';
import { hasTemplate as isTemplate } from './template.js';
import type { VarMap } from '../vars/files.js';
import { didYouMean } from '../core/suggest.js';
import type { Cond, KeywordPositions, Keywords, LoopControl } from './types.js';
import { describe, isNullNode, mapEntries, posOf, resolveNode, toJS, type Entry, type YFile } from './yaml.js';

const COMMON = [
  'any_errors_fatal', 'become', 'become_exe', 'become_flags', 'become_method', 'become_user', 'check_mode',
  'collections', 'connection', 'debugger', 'diff', 'environment', 'ignore_errors', 'ignore_unreachable',
  'module_defaults', 'name', 'no_log', 'port', 'remote_user', 'run_once', 'tags', 'throttle', 'timeout', 'vars',
] as const;

/** Keys a task may have besides its module (`with_<lookup>` too). */
export const TASK_KEYWORDS: ReadonlySet<string> = new Set([
  ...COMMON, 'action', 'local_action', 'args', 'async', 'changed_when', 'delay', 'delegate_facts', 'delegate_to',
  'failed_when', 'loop', 'loop_control', 'notify', 'poll', 'register', 'retries', 'until', 'when',
]);
export const HANDLER_KEYWORDS: ReadonlySet<string> = new Set([...TASK_KEYWORDS, 'listen']);
export const BLOCK_KEYWORDS: ReadonlySet<string> = new Set([
  ...COMMON, 'block', 'rescue', 'always', 'delegate_facts', 'delegate_to', 'notify', 'when',
]);
/** Keywords of a role reference; other keys are role parameters. */
export const ROLE_KEYWORDS: ReadonlySet<string> = new Set([...COMMON, 'role', 'delegate_facts', 'delegate_to', 'when']);
export const PLAY_KEYWORDS: ReadonlySet<string> = new Set([
  ...COMMON, 'hosts', 'gather_facts', 'gather_subset', 'gather_timeout', 'fact_path', 'vars_files', 'vars_prompt',
  'roles', 'pre_tasks', 'tasks', 'post_tasks', 'handlers', 'force_handlers', 'max_fail_percentage', 'serial',
  'strategy', 'order', 'user',
]);
export const IMPORT_PLAYBOOK_KEYWORDS: ReadonlySet<string> = new Set(['import_playbook', 'name', 'vars', 'tags', 'when']);
/** include_tasks/import_tasks accept only these (Ansible rejects e.g. `become` on them). */
export const INCLUDE_KEYWORDS: ReadonlySet<string> = new Set([
  'name', 'action', 'args', 'collections', 'debugger', 'ignore_errors', 'loop', 'loop_control', 'no_log', 'register',
  'run_once', 'tags', 'timeout', 'vars', 'when',
]);
/** Keywords a block can carry and pass on (used for import containers and `apply:`). */
export const INHERITABLE: ReadonlySet<string> = new Set([...BLOCK_KEYWORDS].filter((k) => !['block', 'rescue', 'always', 'name'].includes(k)));

type Kind = 'cond' | 'bool' | 'int' | 'string' | 'tags' | 'strlist' | 'vars' | 'env' | 'loop' | 'loop_control' | 'register' | 'any' | 'debugger' | 'name';

const KINDS: Record<string, Kind> = {
  when: 'cond', until: 'cond', failed_when: 'cond', changed_when: 'cond',
  ignore_errors: 'bool', ignore_unreachable: 'bool', delegate_facts: 'bool', run_once: 'bool', become: 'bool',
  no_log: 'bool', check_mode: 'bool', diff: 'bool', any_errors_fatal: 'bool', gather_facts: 'bool', force_handlers: 'bool',
  retries: 'int', delay: 'int', throttle: 'int', port: 'int', timeout: 'int', async: 'int', poll: 'int', gather_timeout: 'int',
  delegate_to: 'string', become_user: 'string', become_method: 'string', become_flags: 'string', become_exe: 'string',
  remote_user: 'string', connection: 'string', strategy: 'string', fact_path: 'string', order: 'string',
  tags: 'tags', notify: 'strlist', listen: 'strlist', collections: 'strlist', gather_subset: 'strlist',
  vars: 'vars', environment: 'env', loop: 'loop', loop_control: 'loop_control', register: 'register',
  module_defaults: 'any', debugger: 'debugger', name: 'name',
};

const TRUE_STR = new Set(['y', 'yes', 'on', '1', 'true', 't']);
const FALSE_STR = new Set(['n', 'no', 'off', '0', 'false', 'f']);
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LOOP_CONTROL_KEYS = ['loop_var', 'index_var', 'label', 'pause', 'extended', 'extended_allitems'];
const DEBUGGER = ['always', 'never', 'on_failed', 'on_unreachable', 'on_skipped'];
const ORDER = ['inventory', 'reverse_inventory', 'sorted', 'reverse_sorted', 'shuffle'];

export function err(message: string, pos: SourcePos, hint?: string): ParseError {
  return new ParseError(message, { pos, hint });
}

export function toBool(v: unknown, key: string, pos: SourcePos): boolean | string {
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === 'string') {
    if (isTemplate(v)) return v;
    const l = v.trim().toLowerCase();
    if (TRUE_STR.has(l)) return true;
    if (FALSE_STR.has(l)) return false;
  }
  throw err(`\`${key}\` must be a boolean, got ${describe(v)}${typeof v === 'string' ? ` '${v}'` : ''}`, pos, 'use true or false (or a {{ template }})');
}

export function toInt(v: unknown, key: string, pos: SourcePos): number | string {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'string') {
    if (isTemplate(v)) return v;
    if (/^\s*[-+]?\d+\s*$/.test(v)) return parseInt(v, 10);
  }
  throw err(`\`${key}\` must be an integer or a template, got ${describe(v)}${typeof v === 'string' ? ` '${v}'` : ''}`, pos,
    typeof v === 'string' ? `a variable must be written as a template: '{{ ${v.trim()} }}'` : `e.g. ${key}: 3`);
}

function toStr(v: unknown, key: string, pos: SourcePos): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw err(`\`${key}\` must be a string, got ${describe(v)}`, pos);
}

/** `tags`: a list or a comma-separated string, as Ansible's Taggable reads it. */
export function toTags(v: unknown, pos: SourcePos, key = 'tags'): string[] {
  if (v === null || v === undefined) return [];
  if (typeof v === 'string') return v.split(',').map((t) => t.trim());
  if (Array.isArray(v)) {
    return v.map((t) => {
      if (typeof t === 'string') return t;
      if (typeof t === 'number') return String(t);
      throw err(`each entry of \`${key}\` must be a string, got ${describe(t)}`, pos, `write ${key}: [a, b] or ${key}: a,b`);
    });
  }
  throw err(`\`${key}\` must be a list or a comma-separated string, got ${describe(v)}`, pos, `write ${key}: [a, b] or ${key}: a,b`);
}

function toStrList(v: unknown, key: string, pos: SourcePos): string[] {
  if (v === null || v === undefined) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) {
    return v.map((x) => {
      if (typeof x === 'string') return x;
      if (typeof x === 'number') return String(x);
      throw err(`each entry of \`${key}\` must be a string, got ${describe(x)}`, pos);
    });
  }
  throw err(`\`${key}\` must be a string or a list of strings, got ${describe(v)}`, pos);
}

/** `when`-like: a string, a boolean or a list of those; each entry keeps its own position. */
export function toConds(y: YFile, e: Entry): Cond[] {
  const node = resolveNode(y, e.value);
  if (isNullNode(y, node)) return [];
  const one = (n: Node | null, v: unknown): Cond => {
    if (typeof v === 'string' || typeof v === 'boolean') return { expr: v, pos: n ? posOf(y, n) : e.pos };
    throw err(`\`${e.key}\` must be a condition (string), a boolean or a list of them, got ${describe(v)}`, n ? posOf(y, n) : e.pos,
      typeof v === 'object' ? `quote the condition: ${e.key}: "…" (a colon followed by a space starts a mapping)` : `write ${e.key}: "<jinja expression>"`);
  };
  if (isSeq(node)) return node.items.map((n) => one(n as Node, toJS(y, n as Node)));
  return [one(node, toJS(y, node))];
}

/** `vars:` (a mapping, or a list of mappings) → positioned variables. */
export function toVarMap(y: YFile, node: Node | null, pos: SourcePos, what = 'vars'): VarMap {
  const m: VarMap = new Map();
  const n = resolveNode(y, node);
  if (isNullNode(y, n)) return m;
  const maps = isSeq(n) ? n.items.map((i) => resolveNode(y, i as Node)) : [n];
  for (const mm of maps) {
    if (!mm || !isMap(mm)) {
      const got = isSeq(n) ? `a list of ${describe(toJS(y, mm)).replace(/^an? /, '')}s` : describe(toJS(y, mm));
      throw err(`\`${what}\` must be a mapping of variable names to values, got ${got}`, mm ? posOf(y, mm) : pos,
        'write one `name: value` per line under it');
    }
    for (const e of mapEntries(y, mm)) {
      if (!VAR_NAME.test(e.key)) {
        throw err(`invalid variable name '${e.key}'`, e.pos, 'use letters, digits and underscores, not starting with a digit');
      }
      m.set(e.key, { value: toJS(y, e.value), pos: e.pos });
    }
  }
  return m;
}

function toEnv(v: unknown, pos: SourcePos): unknown[] {
  if (v === null || v === undefined) return [];
  const items = Array.isArray(v) ? v : [v];
  for (const i of items) {
    if (!(typeof i === 'string' || (typeof i === 'object' && i !== null && !Array.isArray(i)))) {
      throw err(`\`environment\` must be a mapping (or a template string), got ${describe(i)}`, pos, 'write environment: {NAME: value}');
    }
    if (typeof i === 'string' && !isTemplate(i)) {
      throw err(`\`environment\` must be a mapping or a template, got the string '${i}'`, pos, `write environment: "{{ ${i} }}" to use a variable`);
    }
  }
  return items;
}

function toLoopControl(y: YFile, e: Entry): LoopControl {
  const n = resolveNode(y, e.value);
  if (isNullNode(y, n)) return {};
  if (!isMap(n)) throw err(`\`loop_control\` must be a mapping, got ${describe(toJS(y, n))}`, e.pos, 'e.g. loop_control: {loop_var: host, label: "{{ host.name }}"}');
  const out: LoopControl = {};
  for (const k of mapEntries(y, n)) {
    const v = toJS(y, k.value);
    switch (k.key) {
      case 'loop_var':
      case 'index_var':
        if (typeof v !== 'string' || (!isTemplate(v) && !VAR_NAME.test(v))) {
          throw err(`\`loop_control.${k.key}\` must be a variable name, got ${describe(v)}${typeof v === 'string' ? ` '${v}'` : ''}`, k.pos);
        }
        out[k.key] = v;
        break;
      case 'label':
        out.label = toStr(v, 'loop_control.label', k.pos);
        break;
      case 'pause':
        if (typeof v === 'number' || (typeof v === 'string' && (isTemplate(v) || /^\s*\d+(\.\d+)?\s*$/.test(v)))) out.pause = typeof v === 'string' && !isTemplate(v) ? Number(v) : v;
        else throw err('`loop_control.pause` must be a number of seconds', k.pos);
        break;
      case 'extended':
      case 'extended_allitems':
        out[k.key] = toBool(v, `loop_control.${k.key}`, k.pos);
        break;
      default:
        throw err(`unknown loop_control option \`${k.key}\``, k.pos, didYouMean(k.key, LOOP_CONTROL_KEYS) ?? `valid options: ${LOOP_CONTROL_KEYS.join(', ')}`);
    }
  }
  return out;
}

/** Parse one keyword entry into its normalised value, or throw a positioned ParseError. */
export function parseKeyword(y: YFile, e: Entry): unknown {
  const kind = KINDS[e.key] ?? 'any';
  if (kind === 'cond') return toConds(y, e);
  if (kind === 'vars') return toVarMap(y, e.value, e.pos, e.key);
  if (kind === 'loop_control') return toLoopControl(y, e);
  const v = toJS(y, e.value);
  switch (kind) {
    case 'bool':
      if (v === null) return undefined;
      return toBool(v, e.key, e.pos);
    case 'int':
      if (v === null) return undefined;
      return toInt(v, e.key, e.pos);
    case 'string':
      if (v === null) return undefined;
      if (e.key === 'order') {
        const s = toStr(v, e.key, e.pos);
        if (!isTemplate(s) && !ORDER.includes(s)) throw err(`invalid play order '${s}'`, e.pos, `use one of: ${ORDER.join(', ')}`);
        return s;
      }
      return toStr(v, e.key, e.pos);
    case 'name':
      if (v === null) return undefined;
      return toStr(v, e.key, e.pos);
    case 'tags':
      return toTags(v, e.pos);
    case 'strlist':
      return toStrList(v, e.key, e.pos);
    case 'env':
      return toEnv(v, e.pos);
    case 'loop':
      if (Array.isArray(v) || (typeof v === 'string' && isTemplate(v))) return v;
      throw err(`\`loop\` must be a list or a template that gives a list, got ${describe(v)}${typeof v === 'string' ? ` '${v}'` : ''}`, e.pos,
        typeof v === 'string' ? `to loop over a variable write loop: "{{ ${v} }}"`
          : typeof v === 'object' && v ? 'to loop over a mapping write loop: "{{ mymap | dict2items }}"' : 'write loop: [a, b, c]');
    case 'register': {
      const s = toStr(v, e.key, e.pos);
      if (!isTemplate(s) && !VAR_NAME.test(s)) throw err(`invalid variable name in \`register\`: '${s}'`, e.pos, 'use letters, digits and underscores, not starting with a digit');
      return s;
    }
    case 'debugger': {
      const s = toStr(v, e.key, e.pos);
      if (!isTemplate(s) && !DEBUGGER.includes(s)) throw err(`invalid debugger value '${s}'`, e.pos, `use one of: ${DEBUGGER.join(', ')}`);
      return s;
    }
    default:
      return v;
  }
}

/** Store a parsed keyword on a node. */
export function setKeyword(keywords: Keywords, positions: KeywordPositions, key: string, value: unknown, pos: SourcePos): void {
  if (value === undefined) return;
  (keywords as Record<string, unknown>)[key] = value;
  positions[key] = pos;
}

/** An error for a key that is not a keyword of `what`, with the closest keyword as a hint. */
export function unknownKeyword(key: string, pos: SourcePos, what: string, allowed: Iterable<string>, extraHint?: string): ParseError {
  const dym = didYouMean(key, allowed);
  return err(`\`${key}\` is not a valid keyword for ${what}`, pos, [dym, extraHint].filter(Boolean).join('; ') || undefined);
}
