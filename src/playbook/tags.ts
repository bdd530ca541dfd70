/**
 * Tag selection with ansible-playbook's semantics (`--tags`, `--skip-tags`), and the `--list-tasks` /
 * `--list-tags` listing computed the way ansible-playbook computes it.
 *
 * Special tags: `always` runs unless skipped explicitly, `never` runs only when asked for by name;
 * selectors `all` (default), `tagged`, `untagged`.
 */
import { renderString } from '../template/templar.js';
import { compilePlay, isGroup, type PlanNode } from './compile.js';
import { hasTemplate } from './template.js';
import type { Play, Playbook, SourcePos } from './types.js';

export interface TagSelection {
  /** --tags (default: all) */
  tags?: readonly string[];
  /** --skip-tags */
  skipTags?: readonly string[];
}

/** Would a node with these effective tags run under this selection? (Ansible's Taggable.evaluate_tags) */
export function shouldRun(taskTags: readonly string[], sel: TagSelection = {}): boolean {
  const only = new Set(sel.tags?.length ? sel.tags : ['all']);
  const skip = new Set(sel.skipTags ?? []);
  const untagged = taskTags.length === 0 || (taskTags.length > 0 && taskTags.every((t) => t === 'untagged'));
  const tags = new Set(taskTags.length ? taskTags : ['untagged']);
  const meets = (s: Set<string>): boolean => [...tags].some((t) => s.has(t));
  let run = true;
  if (only.size) {
    if (tags.has('always')) run = true;
    else if (only.has('all') && !tags.has('never')) run = true;
    else if (meets(only)) run = true;
    else if (only.has('tagged') && !untagged && !tags.has('never')) run = true;
    else run = false;
  }
  if (run && skip.size) {
    if (skip.has('all')) {
      if (!tags.has('always') || skip.has('always')) run = false;
    } else if (meets(skip)) run = false;
    else if (skip.has('tagged') && !untagged) run = false;
  }
  return run;
}

function hasTasks(pn: PlanNode): boolean {
  return !!(pn.block?.length || pn.rescue?.length || pn.always?.length);
}

/**
 * Keep the nodes that run under a tag selection (Ansible's Block.filter_tagged_tasks): leaves by their
 * effective tags; blocks, imports and import_role groups kept while anything in them remains.
 */
export function selectTasks(nodes: readonly PlanNode[], sel: TagSelection = {}): PlanNode[] {
  const out: PlanNode[] = [];
  for (const pn of nodes) {
    if (isGroup(pn)) {
      const g: PlanNode = { node: pn.node, ctx: pn.ctx };
      if (pn.block) g.block = selectTasks(pn.block, sel);
      if (pn.rescue) g.rescue = selectTasks(pn.rescue, sel);
      if (pn.always) g.always = selectTasks(pn.always, sel);
      if (hasTasks(g)) out.push(g);
    } else if (shouldRun(pn.ctx.tags, sel)) out.push(pn);
  }
  return out;
}

/** The label ansible-playbook shows for a task: `role : name`, the name, or the module as written. */
export function taskLabel(pn: PlanNode): string {
  const n = pn.node;
  if (n.kind === 'block') return n.name ?? 'block';
  if (n.name) return n.kind === 'include_role' || !pn.ctx.role ? n.name : `${pn.ctx.role.name} : ${n.name}`;
  return n.action.written;
}

export interface ListedTask {
  name: string;
  /** sorted: the play's tags ∪ the task's effective tags */
  tags: string[];
  pos: SourcePos;
}

export interface PlayListing {
  /** 1-based, as `play #N` */
  index: number;
  name: string;
  /** the pattern(s) joined with ',' */
  hosts: string;
  /** the play's own tags, sorted */
  tags: string[];
  tasks: ListedTask[];
  /** what `--list-tags` shows: the play's tags ∪ every listed task's tags, sorted */
  taskTags: string[];
}

function sorted(xs: Iterable<string>): string[] {
  return [...new Set(xs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The task listing of `ansible-playbook --list-tasks --list-tags`: per play, the tasks that would run under
 * the selection (rescue/always sections are not listed, as in Ansible; dynamic includes are listed as
 * themselves).
 */
export function listTasks(pb: Playbook, sel: TagSelection = {}): PlayListing[] {
  return pb.plays.map((play, i) => {
    const plan = compilePlay(play);
    const playTags = play.keywords.tags ?? [];
    const tasks: ListedTask[] = [];
    const all = new Set(playTags);
    const walk = (list: PlanNode[]): void => {
      for (const pn of list) {
        if (isGroup(pn)) walk(pn.block ?? []);
        else {
          tasks.push({ name: taskLabel(pn), tags: sorted([...playTags, ...pn.ctx.tags]), pos: pn.node.pos });
          for (const t of pn.ctx.tags) all.add(t);
        }
      }
    };
    for (const section of [plan.pre_tasks, plan.main, plan.post_tasks]) walk(selectTasks(section, sel));
    return {
      index: i + 1, name: play.name, hosts: listedHosts(play, pb.options.extraVars ?? {}),
      tags: sorted(playTags), tasks, taskTags: sorted(all),
    };
  });
}

/** The host pattern as ansible-playbook lists it: templated with play vars and extra vars when possible. */
function listedHosts(play: Play, extraVars: Readonly<Record<string, unknown>>): string {
  const list = Array.isArray(play.hosts) ? play.hosts : [play.hosts];
  return list.map((h) => {
    if (!hasTemplate(h)) return h;
    const vars: Record<string, unknown> = { playbook_dir: play.dir, ...extraVars };
    for (const [k, d] of play.vars) vars[k] = d.value;
    try {
      const v = renderString(h, { ...vars, ...extraVars });
      return Array.isArray(v) ? v.join(',') : String(v);
    } catch {
      return h;
    }
  }).join(',');
}

/** Text in ansible-playbook's `--list-tasks` / `--list-tags` layout. */
export function formatListing(file: string, plays: PlayListing[], what: { tasks?: boolean; tags?: boolean } = { tasks: true }): string {
  let s = `\nplaybook: ${file}\n`;
  for (const p of plays) {
    s += `\n  play #${p.index} (${p.hosts}): ${p.name}\tTAGS: [${p.tags.join(',')}]\n`;
    if (what.tasks) {
      s += '    tasks:\n';
      for (const t of p.tasks) s += `      ${t.name}\tTAGS: [${t.tags.join(', ')}]\n`;
    }
    if (what.tags) s += `      TASK TAGS: [${p.taskTags.join(', ')}]\n`;
  }
  return s;
}
