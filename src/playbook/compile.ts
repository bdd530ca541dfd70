/**
 * A play as the executor walks it (Ansible's Play.compile): pre_tasks, then roles (each role's dependencies
 * first) and tasks, then post_tasks — handlers flushed after each of the three. Role tasks appear once per
 * mention, as in Ansible; the shared `Role` object lets the executor run a role once per host unless it
 * allows duplicates.
 *
 * Every node gets a context: the keyword sources it inherits from (play → dependent roles → role → blocks
 * and imports), its effective tags and conditions, and the effective value of each inheritable keyword.
 */
import { ParseError, type SourcePos } from '../core/errors.js';
import { INHERITABLE } from './keywords.js';
import { loaderOf } from './load.js';
import { resolveTaskFile, type FromFiles } from './loader.js';
import type { Cond, IncludeRole, IncludeTasks, Keywords, Play, Playbook, Role, TaskNode } from './types.js';

export type Section = 'pre_tasks' | 'roles' | 'tasks' | 'post_tasks' | 'handlers';

/** Where inherited keywords come from, outermost first. */
export interface KeywordSource {
  kind: 'play' | 'role' | 'block' | 'import_tasks' | 'import_role' | 'include_tasks' | 'include_role' | 'apply';
  keywords: Keywords;
  pos: SourcePos;
  role?: Role;
}

export interface TaskContext {
  play: Play;
  section: Section;
  /** the role the node belongs to */
  role?: Role;
  /** roles that pulled `role` in through meta dependencies (outermost first) */
  depChain: Role[];
  /** keyword sources above the node (outermost first); the node's own keywords are not included */
  chain: KeywordSource[];
  /** effective tags: own ∪ blocks ∪ imports ∪ role ∪ dependent roles ∪ play (first-seen order) */
  tags: string[];
  /** effective conditions, outermost first, own last */
  when: Cond[];
  /** inheritable keywords resolved (nearest wins; `environment` concatenated outermost first) plus the node's own */
  effective: Keywords;
  /** dynamic include nesting (bounded) */
  includeDepth: number;
}

export interface PlanNode {
  node: TaskNode;
  ctx: TaskContext;
  /** children for blocks, import containers and import_role */
  block?: PlanNode[];
  rescue?: PlanNode[];
  always?: PlanNode[];
}

export interface PlayPlan {
  play: Play;
  pre_tasks: PlanNode[];
  /** roles (dependencies first) then tasks */
  main: PlanNode[];
  post_tasks: PlanNode[];
  /** play handlers, then import_role handlers, then `roles:` handlers (dependencies first); leaves only */
  handlers: PlanNode[];
}

interface Base {
  play: Play;
  section: Section;
  role?: Role;
  depChain: Role[];
  includeDepth: number;
}

const MERGED = new Set(['tags', 'when', 'vars', 'environment']);

export function isGroup(pn: PlanNode): boolean {
  return pn.node.kind === 'block' || pn.node.kind === 'import_role';
}

function makeCtx(base: Base, chain: KeywordSource[], own: Keywords): TaskContext {
  const tags: string[] = [];
  const when: Cond[] = [];
  const effective: Keywords = {};
  const env: unknown[] = [];
  for (const k of [...chain.map((c) => c.keywords), own]) {
    for (const t of k.tags ?? []) if (!tags.includes(t)) tags.push(t);
    if (k.when) when.push(...k.when);
    if (k.environment) env.push(...k.environment);
    for (const [name, v] of Object.entries(k)) {
      if (v === undefined || MERGED.has(name)) continue;
      if (k === own || INHERITABLE.has(name)) (effective as Record<string, unknown>)[name] = v;
    }
  }
  if (env.length) effective.environment = env;
  if (own.vars) effective.vars = own.vars;
  const ctx: TaskContext = { play: base.play, section: base.section, depChain: base.depChain, chain, tags, when, effective, includeDepth: base.includeDepth };
  if (base.role) ctx.role = base.role;
  return ctx;
}

function compileList(nodes: readonly TaskNode[], chain: KeywordSource[], base: Base): PlanNode[] {
  const out: PlanNode[] = [];
  for (const node of nodes) {
    const ctx = makeCtx(base, chain, node.keywords);
    if (node.kind === 'block') {
      const inner = [...chain, { kind: node.origin ? 'import_tasks' as const : 'block' as const, keywords: node.keywords, pos: node.pos }];
      out.push({
        node, ctx,
        block: compileList(node.block, inner, base),
        rescue: compileList(node.rescue, inner, base),
        always: compileList(node.always, inner, base),
      });
    } else if (node.kind === 'import_role') {
      const inner = [...chain, { kind: 'import_role' as const, keywords: node.keywords, pos: node.pos }];
      const depChain = base.role ? [...base.depChain, base.role] : [];
      out.push({ node, ctx, block: compileRole(node.ref.role, inner, { ...base, depChain }) });
    } else {
      out.push({ node, ctx });
    }
  }
  return out;
}

function roleFrame(role: Role): KeywordSource {
  return { kind: 'role', keywords: role.keywords, pos: role.keywordPos.role ?? { file: role.path }, role };
}

/** A role's dependencies (recursively, first) and then its own tasks. */
function compileRole(role: Role, chain: KeywordSource[], base: Base): PlanNode[] {
  const inner = [...chain, roleFrame(role)];
  const out: PlanNode[] = [];
  for (const dep of role.dependencies) out.push(...compileRole(dep.role, inner, { ...base, depChain: [...base.depChain, role] }));
  out.push(...compileList(role.tasks, inner, { ...base, role }));
  return out;
}

function leaves(list: PlanNode[]): PlanNode[] {
  return list.flatMap((pn) => (isGroup(pn) ? leaves([...(pn.block ?? []), ...(pn.rescue ?? []), ...(pn.always ?? [])]) : [pn]));
}

function roleHandlers(role: Role, chain: KeywordSource[], base: Base, seen: Set<Role>): PlanNode[] {
  if (seen.has(role)) return [];
  seen.add(role);
  const inner = [...chain, roleFrame(role)];
  const out: PlanNode[] = [];
  for (const dep of role.dependencies) out.push(...roleHandlers(dep.role, inner, { ...base, depChain: [...base.depChain, role] }, seen));
  out.push(...leaves(compileList(role.handlers, inner, { ...base, role })));
  return out;
}

function playFrame(play: Play): KeywordSource {
  return { kind: 'play', keywords: { ...play.keywords, when: play.when }, pos: play.pos };
}

export function compilePlay(play: Play): PlayPlan {
  const chain = [playFrame(play)];
  const base = (section: Section): Base => ({ play, section, depChain: [], includeDepth: 0 });
  const roles = play.roles.flatMap((ref) => compileRole(ref.role, chain, base('roles')));
  const seen = new Set<Role>();
  const handlers = [
    ...leaves(compileList(play.handlers, chain, base('handlers'))),
    ...play.importedHandlers.flatMap((ih) => leaves(compileList(ih.nodes, [...chain, roleFrame(ih.role)], { ...base('handlers'), role: ih.role }))),
    ...play.roles.flatMap((ref) => roleHandlers(ref.role, chain, base('handlers'), seen)),
  ];
  return {
    play,
    pre_tasks: compileList(play.pre_tasks, chain, base('pre_tasks')),
    main: [...roles, ...compileList(play.tasks, chain, base('tasks'))],
    post_tasks: compileList(play.post_tasks, chain, base('post_tasks')),
    handlers,
  };
}

/** Dynamic includes pass down only their vars (and `apply:` keywords), as in Ansible. */
function includeFrames(node: IncludeTasks | IncludeRole): KeywordSource[] {
  const out: KeywordSource[] = [{ kind: node.kind, keywords: node.keywords.vars ? { vars: node.keywords.vars } : {}, pos: node.pos }];
  if (node.apply) out.push({ kind: 'apply', keywords: node.apply.keywords, pos: node.apply.pos });
  return out;
}

function checkDepth(pb: Playbook, pn: PlanNode): void {
  const max = pb.options.maxDepth ?? 32;
  if (pn.ctx.includeDepth >= max) {
    throw new ParseError(`includes nested deeper than ${max}`, { pos: pn.node.pos, hint: 'an included file probably includes itself without a stopping condition' });
  }
}

/**
 * Expand an `include_tasks` at run time. `target` is the node's `file` with templates rendered by the
 * engine. Throws ParseError when the file is missing or invalid.
 */
export function expandIncludeTasks(pb: Playbook, pn: PlanNode, target: string): PlanNode[] {
  const node = pn.node;
  if (node.kind !== 'include_tasks') throw new TypeError(`expandIncludeTasks: not an include_tasks node (${node.kind})`);
  checkDepth(pb, pn);
  const play = pn.ctx.play;
  const handlers = pn.ctx.section === 'handlers';
  const r = resolveTaskFile(target, node.searchDirs, node.role?.path, play.dir, handlers ? 'handlers' : 'tasks');
  if (!r.file) {
    throw new ParseError(`include_tasks: file not found: ${target}`, { pos: node.action.argsPos, hint: `looked in: ${r.tried.join(', ')}` });
  }
  const nodes = loaderOf(pb).loadIncludedTasks(play, r.file, target, node.searchDirs, node.role, handlers, node.action.argsPos);
  const base: Base = { play, section: pn.ctx.section, depChain: pn.ctx.depChain, includeDepth: pn.ctx.includeDepth + 1 };
  if (pn.ctx.role) base.role = pn.ctx.role;
  return compileList(nodes, [...pn.ctx.chain, ...includeFrames(node)], base);
}

export interface IncludedRole {
  role: Role;
  /** the role's dependencies and tasks */
  nodes: PlanNode[];
  handlers: PlanNode[];
  /** include_role's allow_duplicates, else the role's meta */
  allowDuplicates: boolean;
}

/**
 * Expand an `include_role` at run time. `roleName` and `from` are the node's values with templates rendered.
 */
export function expandIncludeRole(pb: Playbook, pn: PlanNode, roleName: string, from?: FromFiles): IncludedRole {
  const node = pn.node;
  if (node.kind !== 'include_role') throw new TypeError(`expandIncludeRole: not an include_role node (${node.kind})`);
  checkDepth(pb, pn);
  const ff: FromFiles = from ?? {
    ...(node.tasksFrom ? { tasks: node.tasksFrom } : {}), ...(node.varsFrom ? { vars: node.varsFrom } : {}),
    ...(node.defaultsFrom ? { defaults: node.defaultsFrom } : {}), ...(node.handlersFrom ? { handlers: node.handlersFrom } : {}),
  };
  const role = loaderOf(pb).loadIncludedRole(pn.ctx.play, roleName, ff, node.keywords.vars, node.role, node.action.argsPos);
  const chain = [...pn.ctx.chain, ...includeFrames(node)];
  const base: Base = {
    play: pn.ctx.play, section: pn.ctx.section, includeDepth: pn.ctx.includeDepth + 1,
    depChain: node.role ? [...pn.ctx.depChain, node.role] : [],
  };
  return {
    role,
    nodes: compileRole(role, chain, base),
    handlers: roleHandlers(role, chain, { ...base, section: 'handlers' }, new Set()),
    allowDuplicates: node.allowDuplicates ?? role.allowDuplicates,
  };
}
