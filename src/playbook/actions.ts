/**
 * A task's module and arguments, in every form Ansible accepts:
 *   copy: {src: a, dest: b}        copy: src=a dest=b           command: echo hi (free-form)
 *   action: copy src=a dest=b      action: {module: copy, src: a}
 *   local_action: shell echo hi    + `args:` merged under the inline arguments
 * Module names are normalised (ansible.builtin.copy → copy, kubernetes.core.k8s → k8s).
 */
import { isMap, type Node } from 'yaml';
import type { SourcePos } from '../core/errors.js';
import { hasTemplate as isTemplate } from './template.js';
import { err } from './keywords.js';
import { KvError, parseKv } from './kv.js';
import type { Action, ModuleMap, ModuleSpec } from './types.js';
import { describe, isNullNode, mapEntries, posOf, resolveNode, toJS, type Entry, type YFile } from './yaml.js';

/** Actions the playbook layer and the engine handle themselves; always known. */
export const ENGINE_ACTIONS: ReadonlyMap<string, ModuleSpec> = new Map<string, ModuleSpec>([
  ['include_tasks', { freeForm: true }],
  ['import_tasks', { freeForm: true }],
  ['include_role', {}],
  ['import_role', {}],
  ['include_vars', { freeForm: true }],
  ['meta', { freeForm: true }],
]);

/** Removed or misplaced actions, with what to write instead. */
const MISPLACED: Record<string, string> = {
  include: '`include` was removed from Ansible; use `import_tasks` (static) or `include_tasks` (dynamic)',
  import_playbook: '`import_playbook` is only valid at the top level of a playbook, not inside a task list',
  include_playbook: 'there is no `include_playbook`; use `import_playbook` at the top level of a playbook',
};

const BUILTIN_PREFIXES = ['ansible.builtin.', 'ansible.legacy.'];

/**
 * The known name for a written module: itself when known, else (for a fully-qualified name) the part after
 * the collection. Engine actions only under ansible.builtin/ansible.legacy.
 */
export function normaliseModule(written: string, modules: ModuleMap): string | undefined {
  if (ENGINE_ACTIONS.has(written) || modules.has(written)) return written;
  const parts = written.split('.');
  if (parts.length < 3) return undefined;
  const short = parts.slice(2).join('.');
  if (ENGINE_ACTIONS.has(short)) return BUILTIN_PREFIXES.some((p) => written.startsWith(p)) ? short : undefined;
  return modules.has(short) ? short : undefined;
}

export function specOf(module: string, modules: ModuleMap): ModuleSpec {
  return ENGINE_ACTIONS.get(module) ?? modules.get(module) ?? {};
}

export function misplacedAction(written: string): string | undefined {
  const parts = written.split('.');
  const short = parts.length >= 3 && BUILTIN_PREFIXES.some((p) => written.startsWith(p)) ? parts.slice(2).join('.') : written;
  return MISPLACED[short];
}

interface ArgsAcc {
  args: Record<string, unknown>;
  argPos: Record<string, SourcePos>;
  freeForm?: string;
  varParams?: string;
}

/** Split a module string `copy src=a dest=b` into its first word and the rest. */
function splitModuleString(s: string): [string, string] {
  const t = s.trim();
  const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(t);
  return m ? [m[1]!, m[2] ?? ''] : ['', ''];
}

function kvInto(acc: ArgsAcc, text: string, module: string, spec: ModuleSpec, pos: SourcePos): void {
  let parsed;
  try {
    parsed = parseKv(text, spec.freeForm && spec.freeFormKeys ? spec.freeFormKeys : undefined);
  } catch (e) {
    if (e instanceof KvError) throw err(`cannot split the arguments of \`${module}\`: ${e.message}`, pos, 'close the quote or Jinja block, or quote the whole value');
    throw e;
  }
  for (const [k, v] of Object.entries(parsed.args)) {
    acc.args[k] = v;
    acc.argPos[k] = pos;
  }
  if (parsed.raw !== undefined && parsed.raw !== '') acc.freeForm = parsed.raw;
}

function mapInto(y: YFile, acc: ArgsAcc, node: Node, what: string): void {
  const n = resolveNode(y, node);
  if (!n || !isMap(n)) throw err(`${what} must be a mapping`, posOf(y, node));
  for (const e of mapEntries(y, n)) {
    acc.args[e.key] = toJS(y, e.value);
    acc.argPos[e.key] = e.pos;
  }
}

/** The module's own value (`copy: …`): mapping, k=v/free-form string, or nothing. */
function valueInto(y: YFile, acc: ArgsAcc, node: Node | null, module: string, written: string, spec: ModuleSpec, pos: SourcePos): void {
  const n = resolveNode(y, node);
  if (isNullNode(y, n)) return;
  if (isMap(n)) {
    mapInto(y, acc, n, `arguments of \`${written}\``);
    return;
  }
  const v = toJS(y, n);
  if (typeof v === 'string') {
    kvInto(acc, v, module, spec, posOf(y, n));
    return;
  }
  throw err(`the arguments of \`${written}\` must be a mapping or a \`key=value\` string, got ${describe(v)}`, pos,
    Array.isArray(v) ? 'a list is not module arguments; check the indentation' : `quote the value: ${written}: "${String(v)}"`);
}

export interface ParsedAction {
  action: Action;
  /** `local_action` was used: delegate to localhost */
  local: boolean;
}

/**
 * Build the action from the task's `action`/`local_action` entry or its module entry, plus `args:`.
 * `moduleEntry` is the module key (already known to be a module); `actionEntry` an `action:`/`local_action:`.
 */
export function parseAction(
  y: YFile,
  taskPos: SourcePos,
  modules: ModuleMap,
  moduleEntry: Entry | undefined,
  actionEntry: Entry | undefined,
  argsEntry: Entry | undefined,
  resolveName: (written: string, pos: SourcePos) => string,
): ParsedAction {
  const acc: ArgsAcc = { args: {}, argPos: {} };
  // `args:` first: inline arguments override it, as in Ansible.
  if (argsEntry) {
    const n = resolveNode(y, argsEntry.value);
    if (!isNullNode(y, n)) {
      if (isMap(n)) mapInto(y, acc, n, '`args`');
      else {
        const v = toJS(y, n);
        if (typeof v === 'string' && isTemplate(v)) acc.varParams = v;
        else {
          throw err(`\`args\` must be a mapping or a template, got ${describe(v)}`, argsEntry.pos,
            typeof v === 'string' ? `to use a variable write args: "{{ ${v} }}"` : 'write args: {chdir: /tmp}');
        }
      }
    }
  }
  let written: string;
  let module: string;
  let argsPos: SourcePos;
  let local = false;
  if (actionEntry) {
    local = actionEntry.key === 'local_action';
    const n = resolveNode(y, actionEntry.value);
    argsPos = n ? posOf(y, n) : actionEntry.pos;
    const v = toJS(y, n);
    if (typeof v === 'string') {
      const [w, rest] = splitModuleString(v);
      if (!w) throw err(`\`${actionEntry.key}\` names no module`, actionEntry.pos, `write ${actionEntry.key}: <module> key=value …`);
      written = w;
      module = resolveName(w, argsPos);
      kvInto(acc, rest, module, specOf(module, modules), argsPos);
    } else if (n && isMap(n)) {
      const entries = mapEntries(y, n);
      const me = entries.find((e) => e.key === 'module');
      const mv = me ? toJS(y, me.value) : undefined;
      if (!me || typeof mv !== 'string') {
        throw err(`\`${actionEntry.key}\` as a mapping needs a \`module\` key`, argsPos, `write ${actionEntry.key}: {module: copy, src: a, dest: b}`);
      }
      const [w, rest] = splitModuleString(mv);
      written = w;
      module = resolveName(w, me.pos);
      for (const e of entries) {
        if (e.key === 'module') continue;
        if (e.key === 'args') {
          mapInto(y, acc, e.value as Node, `\`${actionEntry.key}.args\``);
          continue;
        }
        acc.args[e.key] = toJS(y, e.value);
        acc.argPos[e.key] = e.pos;
      }
      if (rest) kvInto(acc, rest, module, specOf(module, modules), me.pos);
    } else {
      throw err(`\`${actionEntry.key}\` must be a string (\`module k=v …\`) or a mapping with \`module\``, actionEntry.pos);
    }
  } else if (moduleEntry) {
    written = moduleEntry.key;
    module = resolveName(written, moduleEntry.pos);
    const n = resolveNode(y, moduleEntry.value);
    argsPos = n && !isNullNode(y, n) ? posOf(y, n) : moduleEntry.pos;
    valueInto(y, acc, moduleEntry.value, module, written, specOf(module, modules), moduleEntry.pos);
  } else {
    throw err('this task has no module', taskPos);
  }
  const spec = specOf(module, modules);
  if (acc.freeForm !== undefined && !spec.freeForm) {
    if (isTemplate(acc.freeForm)) {
      acc.varParams = acc.freeForm;
      delete acc.freeForm;
    } else {
      throw err(`\`${written}\` takes \`key: value\` arguments, not free-form text ('${acc.freeForm}')`, argsPos,
        'write each argument as key=value or, better, as a mapping under the module');
    }
  }
  for (const k of Object.keys(acc.args)) {
    if (k.startsWith('_ansible_')) throw err(`invalid argument \`${k}\` for \`${written}\``, acc.argPos[k] ?? argsPos, 'arguments starting with _ansible_ are reserved');
  }
  const action: Action = { module, written, args: acc.args, argsPos, argPos: acc.argPos };
  if (acc.freeForm !== undefined) action.freeForm = acc.freeForm;
  if (acc.varParams !== undefined) action.varParams = acc.varParams;
  return { action, local };
}
