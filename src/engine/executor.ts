/**
 * The executor: runs a loaded playbook over the hosts with the linear strategy (each task on every host in
 * the batch, `forks` at a time, before the next task), Ansible's keyword semantics, and events as its only
 * output. It knows nothing of the console: renderers subscribe to the bus.
 *
 * Per play: hosts (pattern ∩ --limit) → batches (serial) → facts → pre_tasks, roles + tasks, post_tasks,
 * each section followed by a handler flush. A host that fails leaves the play; any_errors_fatal stops the
 * batch everywhere; max_fail_percentage is checked per batch after each task, as Ansible does.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { RunError } from '../core/errors.js';
import { gatherFacts } from '../facts/probe.js';
import type { VarMap } from '../vars/files.js';
import { selectHosts } from '../inventory/patterns.js';
import type { Module, ModuleContext, ModuleResult } from '../modules/types.js';
import { ModuleArgError } from '../modules/types.js';
import type { EventBus } from '../output/bus.js';
import type { HostStatus, RecapCounts, TaskRef } from '../output/events.js';
import { compilePlay, expandIncludeRole, expandIncludeTasks, isGroup, type PlanNode, type PlayPlan } from '../playbook/compile.js';
import { selectTasks, taskLabel } from '../playbook/tags.js';
import { delimitersOf, isStandard, parseHeader, scan } from '../template/lexer.js';
import { fsLookupContext } from '../template/lookups.js';
import { literalEval } from '../template/pyvalue.js';
import { isTemplate, renderText, TemplateError } from '../template/templar.js';
import type { Cond, Play, Playbook, Role, Task } from '../playbook/types.js';
import type { Connections } from '../transport/index.js';
import { isTransportError } from '../transport/errors.js';
import type { BecomeOptions, ExecOptions, Transport } from '../transport/types.js';
import { loadVarsFile } from '../vars/files.js';
import { OMIT_PLACEHOLDER, type Project } from '../vars/project.js';
import type { VarLayer, VarScope } from '../vars/scope.js';
import { HostState } from './hoststate.js';

export interface RunOptions {
  project: Project;
  playbook: Playbook;
  bus: EventBus;
  connections: Connections;
  modules: ReadonlyMap<string, Module>;
  forks: number;
  check?: boolean;
  diff?: boolean;
  tags?: string[];
  skipTags?: string[];
  limit?: string;
  /** only these hosts (resume); intersected with the play hosts */
  onlyHosts?: string[];
  /** skip tasks until one with this name (or `file:line`) — also used by --resume */
  startAtTask?: string;
  /** handlers still pending from an interrupted or failed run, per host (--resume) */
  initialNotified?: Record<string, string[]>;
  /** skip the plays before this index (--resume: plays every host had completed) */
  startAtPlay?: number;
  verbosity?: number;
  commandTimeout?: number;
  signal?: AbortSignal;
}

export interface RunOutcome {
  stats: Record<string, RecapCounts>;
  exitCode: number;
  /** hosts that failed or were unreachable, with where */
  stopped: Record<string, { task?: string; pos?: string; reason: string; notified?: string[]; play: number }>;
  interrupted: boolean;
  /** index of the play that was running when the run was interrupted */
  interruptedAtPlay?: number;
  hosts: string[];
}

const NO_LOG_MSG = "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

class PlayAbort extends Error {}

function posStr(p?: { file: string; line?: number }): string | undefined {
  return p ? `${p.file}${p.line ? `:${p.line}` : ''}` : undefined;
}

function truthy(v: unknown): boolean {
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    return !['', 'false', 'no', 'off', '0', 'none', 'n', 'f'].includes(s);
  }
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

/** Remove `omit` placeholders from module arguments (recursively in dicts, as Ansible does at top level). */
function dropOmit(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== OMIT_PLACEHOLDER).map(dropOmit);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== OMIT_PLACEHOLDER) o[k] = dropOmit(x);
    return o;
  }
  return v;
}

function toVarMap(o: Record<string, unknown>, file: string): VarMap {
  const m: VarMap = new Map();
  for (const [k, v] of Object.entries(o)) m.set(k, { value: v, pos: { file } });
  return m;
}

/**
 * Variables Ansible's template action (and the template lookup) adds while rendering a template file, over
 * the task's vars: `ansible_managed` (ansible-core 2.14's default string), `template_path` (the task's `src` as
 * written), `template_fullpath`, `template_destpath`,
 * `template_host`, `template_uid`. Not provided: `template_mtime` and `template_run_date` (Python datetimes).
 */
function templateVars(src: unknown, file: string, dest: unknown): Record<string, unknown> {
  let uid = '';
  try {
    const n = statSync(file).uid;
    uid = n === process.getuid?.() ? userInfo().username : String(n);
  } catch {
    /* the module reports the unreadable file */
  }
  return {
    template_host: hostname(),
    template_path: typeof src === 'string' ? src : file,
    template_fullpath: file,
    template_uid: uid,
    template_destpath: typeof dest === 'string' ? dest : null,
    ansible_managed: 'Ansible managed',
  };
}

/**
 * Render the text of a template file as Ansible's template action does. Not `scope.render`, which is for
 * variables and task arguments: it would double backslashes in string literals (`'\\1'` must stay Jinja2's
 * octal escape in a file), give a lone `{{ x }}` its native type and convert `[…]`/`{…}` output to a
 * list/dict (a JSON template would come out as `[object Object]`), and it would collect the context
 * with the standard delimiters only. Here the context is the names the template uses, found with the
 * delimiters of its `#jinja2:` header when it sets its own.
 */
function renderTemplateText(scope: VarScope, text: string, file: string, extra: Record<string, unknown>): string {
  let names = text;
  if (text.startsWith('#jinja2:')) {
    try {
      const { overrides, body } = parseHeader(text, literalEval);
      const d = delimitersOf(overrides);
      if (!isStandard(d)) {
        names = scan(body, d)
          .map((sg) => (sg.kind === 'var' || sg.kind === 'block' ? `{{ ${sg.inner} }}` : ''))
          .join('');
      }
    } catch {
      /* a bad header: the renderer reports it */
    }
  }
  const { ctx } = scope.contextFor(names, extra);
  try {
    return renderText(text, ctx, { escapeBackslashes: false, lookup: fsLookupContext([dirname(file)]) });
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    throw new RunError(`cannot render template ${file}: ${e.message}`, { pos: { file, line: e.line, col: e.col }, host: scope.host, hint: e.hint });
  }
}

/** Runs `fn` over items with at most `limit` in flight; keeps order of results. */
async function pool<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

/** A transport that adds the task's environment, timeout and command tracing to every exec. */
class TaskTransport implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly env: Record<string, string> | undefined,
    private readonly timeout: number,
    private readonly trace: (c: string) => void,
  ) {}
  get host(): string {
    return this.inner.host;
  }
  get kind(): 'ssh' | 'local' {
    return this.inner.kind;
  }
  connect(): Promise<void> {
    return this.inner.connect();
  }
  exec(cmd: string, opts: ExecOptions = {}) {
    this.trace(cmd);
    return this.inner.exec(cmd, {
      ...opts,
      env: this.env || opts.env ? { ...this.env, ...opts.env } : undefined,
      timeout: opts.timeout ?? (this.timeout || undefined),
    });
  }
  put(...a: Parameters<Transport['put']>) {
    this.trace(`put ${a[1]}`);
    return this.inner.put(...a);
  }
  get(...a: Parameters<Transport['get']>) {
    return this.inner.get(...a);
  }
  close(): Promise<void> {
    return Promise.resolve(); // the run owns the connection
  }
}

interface ItemResult {
  status: HostStatus;
  result: ModuleResult & Record<string, unknown>;
  ignored: boolean;
  commands: string[];
}

export class Executor {
  private readonly states = new Map<string, HostState>();
  /** vars_files read once per run (by path) */
  readonly varsFiles = new Map<string, VarMap>();
  private readonly verbosity: number;
  private interrupted = false;
  private startAt: string | undefined;
  private currentPlay = 0;
  /** the play in which each host stopped (failed or unreachable) */
  private readonly stoppedInPlay = new Map<string, number>();

  constructor(private readonly o: RunOptions) {
    this.verbosity = o.verbosity ?? 0;
    this.startAt = o.startAtTask;
  }

  private state(h: string): HostState {
    let s = this.states.get(h);
    if (!s) {
      this.states.set(h, (s = new HostState(h)));
      for (const n of this.o.initialNotified?.[h] ?? []) s.notified.add(n);
    }
    return s;
  }

  async run(): Promise<RunOutcome> {
    const seen: string[] = [];
    try {
      for (const [i, play] of this.o.playbook.plays.entries()) {
        if (i < (this.o.startAtPlay ?? 0)) continue;
        if (this.aborted()) break;
        this.currentPlay = i;
        const hosts = await this.runPlay(play);
        for (const h of hosts) {
          if (!seen.includes(h)) seen.push(h);
          const st = this.state(h);
          if (st.stoppedAt && !this.stoppedInPlay.has(h)) this.stoppedInPlay.set(h, i);
        }
      }
    } finally {
      await this.o.connections.closeAll();
    }
    const stats: Record<string, RecapCounts> = {};
    const stopped: RunOutcome['stopped'] = {};
    for (const h of seen) {
      const s = this.state(h);
      stats[h] = s.recap;
      if (s.stoppedAt) stopped[h] = { ...s.stoppedAt, notified: [...s.notified], play: this.stoppedInPlay.get(h) ?? this.currentPlay };
    }
    this.o.bus.emit({ type: 'play.recap', stats });
    const anyFailed = Object.values(stats).some((r) => r.failed > 0);
    const anyUnreachable = Object.values(stats).some((r) => r.unreachable > 0);
    const exitCode = this.interrupted ? 99 : anyFailed ? 2 : anyUnreachable ? 3 : 0;
    return { stats, exitCode, stopped, interrupted: this.interrupted, ...(this.interrupted ? { interruptedAtPlay: this.currentPlay } : {}), hosts: seen };
  }

  private aborted(): boolean {
    if (this.o.signal?.aborted) this.interrupted = true;
    return this.interrupted;
  }

  // ------------------------------------------------------------------------------------------------
  // Plays

  /** The hosts the play's pattern selects, before --limit. */
  private patternHosts(play: Play): string[] {
    const inv = this.o.project.inventory;
    const extra = this.extraVars();
    const pattern = Array.isArray(play.hosts) ? play.hosts : [play.hosts];
    const rendered = pattern.map((p) => String(this.o.project.scope(this.o.project.hosts()[0] ?? 'localhost', [], [], undefined).render(p, 'hosts', play.pos, extra)));
    return selectHosts(inv, rendered, { source: `play hosts (${posStr(play.pos)})` });
  }

  private playHosts(play: Play, patternHosts: string[]): string[] {
    const inv = this.o.project.inventory;
    let hosts = patternHosts;
    if (this.o.limit) {
      const lim = new Set(selectHosts(inv, this.o.limit, { source: '--limit' }));
      hosts = hosts.filter((h) => lim.has(h));
    }
    if (this.o.onlyHosts) hosts = hosts.filter((h) => this.o.onlyHosts!.includes(h));
    // Failed and unreachable hosts stay out for the rest of the run; meta end_host only for its play.
    return hosts.filter((h) => !this.state(h).failed && !this.state(h).unreachable);
  }

  private extraVars(): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    for (const l of this.o.project.extraLayers) for (const [k, d] of l.vars) o[k] = d.value;
    return o;
  }

  private batches(play: Play, hosts: string[]): string[][] {
    const serial = play.serial;
    if (serial === undefined) return [hosts];
    const sizes = (Array.isArray(serial) ? serial : [serial]).map((s) => {
      const str = String(s).trim();
      const n = str.endsWith('%') ? Math.max(1, Math.floor((hosts.length * Number(str.slice(0, -1))) / 100)) : Number(str);
      if (!Number.isFinite(n) || n < 1) throw new RunError(`serial must be a positive number or percentage, got '${str}'`, { pos: play.pos, exitCode: 4 });
      return n;
    });
    const out: string[][] = [];
    let i = 0;
    let k = 0;
    while (i < hosts.length) {
      const n = sizes[Math.min(k++, sizes.length - 1)]!;
      out.push(hosts.slice(i, i + n));
      i += n;
    }
    return out;
  }

  private async runPlay(play: Play): Promise<string[]> {
    const allHosts = this.patternHosts(play);
    const hosts = this.playHosts(play, allHosts);
    const plan = compilePlay(play);
    const sel = { tags: this.o.tags, skipTags: this.o.skipTags };
    const sections: PlanNode[][] = [selectTasks(plan.pre_tasks, sel), selectTasks(plan.main, sel), selectTasks(plan.post_tasks, sel)];
    const taskCount = sections.reduce((n, s) => n + countLeaves(s), 0);
    const playName = String(play.name);
    this.o.bus.emit({ type: 'play.start', play: playName, pos: posStr(play.pos), hosts, taskCount });
    if (!hosts.length) {
      this.o.bus.emit({ type: 'warning', message: 'no hosts matched; skipping play', pos: posStr(play.pos) });
      return hosts;
    }
    for (const h of hosts) {
      this.state(h).rolesRun.clear();
      this.state(h).ended = false;
    }
    for (const batch of this.batches(play, hosts)) {
      if (this.aborted()) break;
      const ctx = new PlayRun(this, play, plan, batch, allHosts);
      try {
        await ctx.gatherFacts();
        for (const section of sections) {
          await ctx.runList(section, batch, true);
          await ctx.flushHandlers();
          if (this.aborted()) break;
        }
      } catch (e) {
        if (!(e instanceof PlayAbort)) throw e;
      }
    }
    return hosts;
  }

  // exposed to PlayRun
  get options(): RunOptions {
    return this.o;
  }
  hostState(h: string): HostState {
    return this.state(h);
  }
  isAborted(): boolean {
    return this.aborted();
  }
  get verbose(): number {
    return this.verbosity;
  }
  /** --start-at-task: true while tasks are still being skipped */
  skipping(label: string, pos?: string): boolean {
    if (!this.startAt) return false;
    if (label === this.startAt || pos === this.startAt || (pos && this.startAt && pos.endsWith(this.startAt))) {
      this.startAt = undefined;
      return false;
    }
    return true;
  }
}

/** Every host the playbook's plays target, without --limit (what a step must cover). */
export function playbookHosts(project: Project, pb: Playbook): string[] {
  const out: string[] = [];
  const first = project.hosts()[0];
  for (const play of pb.plays) {
    const pattern = Array.isArray(play.hosts) ? play.hosts : [play.hosts];
    const rendered = first ? pattern.map((p) => String(project.scope(first).render(p, 'hosts', play.pos))) : pattern;
    for (const h of selectHosts(project.inventory, rendered, { source: `play hosts (${posStr(play.pos)})` })) if (!out.includes(h)) out.push(h);
  }
  return out;
}

function countLeaves(nodes: PlanNode[]): number {
  return nodes.reduce((n, pn) => n + (isGroup(pn) ? countLeaves([...(pn.block ?? []), ...(pn.rescue ?? []), ...(pn.always ?? [])]) : 1), 0);
}

/**
 * Included nodes with the loop variables of one include item visible to them: a vars frame right after the
 * include's own frame in every node's keyword chain (recursively), as Ansible puts them in the include's vars.
 */
function withIncludeVars(nodes: PlanNode[], inc: PlanNode, vars: Record<string, unknown> | undefined): PlanNode[] {
  if (!vars) return nodes;
  const at = inc.ctx.chain.length + 1;
  const frame = { kind: inc.node.kind as 'include_tasks' | 'include_role', keywords: { vars: toVarMap(vars, 'loop') }, pos: inc.node.pos };
  const map = (list: PlanNode[] | undefined): PlanNode[] | undefined =>
    list?.map((pn) => ({
      ...pn,
      ctx: { ...pn.ctx, chain: [...pn.ctx.chain.slice(0, at), frame, ...pn.ctx.chain.slice(at)] },
      ...(pn.block ? { block: map(pn.block) } : {}),
      ...(pn.rescue ? { rescue: map(pn.rescue) } : {}),
      ...(pn.always ? { always: map(pn.always) } : {}),
    }));
  return map(nodes) ?? [];
}

/** Actions Ansible runs once per batch whatever the hosts (their action plugins set BYPASS_HOST_LOOP). */
const BYPASS_HOST_LOOP = new Set(['pause', 'add_host']);

/** Magic variables Ansible also puts in every `hostvars[h]`. */
const HOSTVARS_MAGIC = ['inventory_hostname', 'inventory_hostname_short', 'group_names', 'groups', 'inventory_dir', 'inventory_file', 'playbook_dir'];

/** How many handlers each compiled play had before include_role added any (see PlayRun.handlerOrder). */
const STATIC_HANDLERS = new WeakMap<PlayPlan, number>();

/** One batch of one play. */
class PlayRun {
  private readonly o: RunOptions;
  private taskIndex = 0;
  private readonly failedAtStart: number;

  constructor(
    private readonly ex: Executor,
    private readonly play: Play,
    private readonly plan: PlayPlan,
    private readonly batch: string[],
    /** every host of the play's pattern, --limit ignored (ansible_play_hosts_all) */
    private readonly allHosts: string[] = batch,
  ) {
    this.o = ex.options;
    this.failedAtStart = 0;
    if (!STATIC_HANDLERS.has(plan)) STATIC_HANDLERS.set(plan, plan.handlers.length);
  }

  /**
   * Handlers in the order Ansible runs them (TaskQueueManager: `play.compile_roles_handlers() + play.handlers`,
   * include_role appending its role's handlers at run time): the handlers of the `roles:` section (dependencies
   * first), of roles imported with import_role, the play's own, then those include_role added. The compiled
   * plan lists play handlers first, so they are reordered here.
   */
  private handlerOrder(): PlanNode[] {
    const all = this.plan.handlers;
    const n = STATIC_HANDLERS.get(this.plan) ?? all.length;
    const fromRoles = new Set<Role>(this.allRoles());
    const stat = all.slice(0, n);
    return [
      ...stat.filter((h) => h.ctx.role && fromRoles.has(h.ctx.role)),
      ...stat.filter((h) => h.ctx.role && !fromRoles.has(h.ctx.role)),
      ...stat.filter((h) => !h.ctx.role),
      ...all.slice(n),
    ];
  }

  private active(hosts: string[]): string[] {
    return hosts.filter((h) => this.ex.hostState(h).active);
  }

  // ------------------------------------------------------------------------------------------------
  // Scopes

  private playLayers(host: string): VarLayer[] {
    const out: VarLayer[] = [];
    if (this.play.vars.size) out.push({ kind: 'play vars', label: posStr(this.play.pos) ?? 'play', vars: this.play.vars });
    out.push(...this.varsFilesLayers(host, out));
    return out;
  }

  /**
   * The play's `vars_files` for a host (above play vars, as in Ansible): each entry a file, or a list of
   * candidates of which the first that exists is read; names are templated with the host's variables and
   * resolved against the play's directory. A missing file is a RunError naming the entry.
   */
  private varsFilesLayers(host: string, below: VarLayer[]): VarLayer[] {
    if (!this.play.vars_files.length) return [];
    const out: VarLayer[] = [];
    let scope: VarScope | undefined;
    const render = (p: string): string => {
      if (!isTemplate(p)) return p;
      scope ??= this.o.project.scope(host, below);
      return String(scope.render(p, 'vars_files'));
    };
    for (const ref of this.play.vars_files) {
      const candidates = (Array.isArray(ref.path) ? ref.path : [ref.path]).map(render);
      const file = candidates.map((c) => resolve(this.play.dir, c)).find((f) => existsSync(f));
      if (!file) throw new RunError(`vars_files: ${candidates.join(', ')} not found`, { pos: ref.pos, host, hint: `relative names are read from ${this.play.dir}` });
      let vars = this.ex.varsFiles.get(file);
      if (!vars) this.ex.varsFiles.set(file, (vars = loadVarsFile(file)));
      out.push({ kind: 'play vars_files', label: file, vars });
    }
    return out;
  }

  private allRoles(): Role[] {
    const out: Role[] = [];
    const visit = (r: Role, d: number): void => {
      if (d > 32 || out.includes(r)) return;
      for (const dep of r.dependencies) visit(dep.role, d + 1);
      out.push(r);
    };
    for (const ref of this.play.roles) visit(ref.role, 0);
    return out;
  }

  scope(host: string, pn?: PlanNode, top?: Record<string, unknown>): VarScope {
    const st = this.ex.hostState(host);
    const bottom: VarLayer[] = [];
    const roles = this.allRoles();
    for (const r of roles) if (r.defaults.size) bottom.push({ kind: `role defaults (${r.name})`, label: r.files.defaults[0] ?? r.path, vars: r.defaults });
    const role = pn?.ctx.role;
    if (role && role.defaults.size && !roles.includes(role)) bottom.push({ kind: `role defaults (${role.name})`, label: role.files.defaults[0] ?? role.path, vars: role.defaults });
    const middle: VarLayer[] = [];
    if (st.factsVars.size) middle.push({ kind: 'facts', label: `facts of ${host}`, vars: st.factsVars });
    middle.push(...this.playLayers(host));
    for (const r of roles) if (r.vars.size) middle.push({ kind: `role vars (${r.name})`, label: r.files.vars[0] ?? r.path, vars: r.vars });
    if (role && role.vars.size && !roles.includes(role)) middle.push({ kind: `role vars (${role.name})`, label: role.files.vars[0] ?? role.path, vars: role.vars });
    if (pn) {
      for (const src of pn.ctx.chain) {
        if (src.kind !== 'play' && src.keywords.vars?.size) middle.push({ kind: `${src.kind} vars`, label: posStr(src.pos) ?? src.kind, vars: src.keywords.vars });
      }
      if (pn.node.keywords.vars?.size) middle.push({ kind: 'task vars', label: posStr(pn.node.pos) ?? 'task', vars: pn.node.keywords.vars });
    }
    if (st.includeVars.size) middle.push({ kind: 'include_vars', label: 'include_vars', vars: st.includeVars });
    if (st.setFacts.size) middle.push({ kind: 'set_fact / register', label: 'set_fact', vars: st.setFacts });
    if (role?.params.size) middle.push({ kind: `role params (${role.name})`, label: role.path, vars: role.params });
    const project = this.o.project;
    // hostvars[h]: h's inventory and vars-file variables, facts, include_vars, set_fact/register (not play
    // vars, as in Ansible), plus its magic variables (inventory_hostname, group_names…).
    const hostScope = (h: string): VarScope => {
      const hs = this.ex.hostState(h);
      const layers: VarLayer[] = [];
      if (hs.factsVars.size) layers.push({ kind: 'facts', label: 'facts', vars: hs.factsVars });
      if (hs.includeVars.size) layers.push({ kind: 'include_vars', label: 'include_vars', vars: hs.includeVars });
      if (hs.setFacts.size) layers.push({ kind: 'set_fact', label: 'set_fact', vars: hs.setFacts });
      return project.scope(h, layers);
    };
    const projectMagic = project.magic(host, hostScope);
    const baseMagic = (name: string, s: VarScope): { found: boolean; value?: unknown } => {
      const m = projectMagic(name, s);
      if (name !== 'hostvars' || !m.found) return m;
      const out: Record<string, Record<string, unknown>> = {};
      for (const [h, v] of Object.entries(m.value as Record<string, Record<string, unknown>>)) {
        const hm = project.magic(h, hostScope);
        const extra: Record<string, unknown> = {};
        for (const k of HOSTVARS_MAGIC) {
          const x = hm(k, s);
          if (x.found) extra[k] = x.value;
        }
        out[h] = { ...extra, ...v };
      }
      return { found: true, value: out };
    };
    const batch = this.batch;
    // As Ansible's magic variables: the play's hosts ignoring --limit, those not failed/unreachable/ended
    // (across all batches), and those of the current batch.
    const playHostsAll = this.allHosts;
    const removed = (h: string): boolean => this.ex.hostState(h).failed || this.ex.hostState(h).unreachable || this.ex.hostState(h).ended;
    const playHosts = playHostsAll.filter((h) => !removed(h));
    const playBatch = batch.filter((h) => !removed(h));
    const magic = (name: string, s: VarScope): { found: boolean; value?: unknown } => {
      switch (name) {
        case 'ansible_play_hosts':
          return { found: true, value: playHosts };
        case 'ansible_play_batch':
          return { found: true, value: playBatch };
        case 'ansible_play_hosts_all':
          return { found: true, value: playHostsAll };
        case 'ansible_check_mode':
          return { found: true, value: Boolean(this.o.check) };
        case 'ansible_diff_mode':
          return { found: true, value: Boolean(this.o.diff) };
        case 'role_name':
          return role ? { found: true, value: role.name } : { found: false };
        case 'role_path':
          return role ? { found: true, value: role.path } : { found: false };
        case 'playbook_dir':
          return { found: true, value: this.play.dir };
        default:
          return baseMagic(name, s);
      }
    };
    const s = project.scope(host, middle, bottom, magic);
    if (!top) return s;
    // Loop variables sit above everything (Ansible writes them into the final task vars).
    return project.scope(host, [...middle, { kind: 'loop', label: 'loop', vars: toVarMap(top, 'loop') }], bottom, magic);
  }

  // ------------------------------------------------------------------------------------------------
  // Facts

  async gatherFacts(): Promise<void> {
    const gf = this.play.gather_facts;
    const want = gf === undefined ? true : typeof gf === 'boolean' ? gf : truthy(this.scope(this.batch[0]!).render(gf, 'gather_facts', this.play.pos));
    if (!want) return;
    const hosts = this.active(this.batch).filter((h) => !this.ex.hostState(h).facts);
    const task: TaskRef = { name: 'Gathering Facts', action: 'setup', pos: posStr(this.play.pos) };
    this.o.bus.emit({ type: 'task.start', task, hosts });
    await pool(hosts, this.o.forks, async (h) => {
      const st = this.ex.hostState(h);
      const started = Date.now();
      try {
        const t = this.transportFor(h);
        const facts = await gatherFacts(t, 120);
        st.useFacts(facts);
        st.recap.ok++;
        this.o.bus.emit({ type: 'host.result', task, host: h, status: 'ok', result: { changed: false }, durationMs: Date.now() - started });
      } catch (e) {
        this.hostError(h, task, e, started);
      }
    });
    this.checkBatchFailures(task, false);
    // --resume runs only some hosts, but their tasks may read the others' facts (hostvars[deployer]…):
    // gather those quietly — no results, no recap — and warn about any that cannot be reached.
    if (this.o.onlyHosts) {
      const others = this.allHosts.filter((h) => !this.batch.includes(h) && !this.ex.hostState(h).facts);
      await pool(others, this.o.forks, async (h) => {
        try {
          this.ex.hostState(h).useFacts(await gatherFacts(this.transportFor(h), 120));
        } catch (e) {
          this.o.bus.emit({ type: 'warning', host: h, message: `facts of ${h} (read by other hosts' tasks) could not be gathered: ${(e as Error).message}` });
        }
      });
    }
  }

  private transportFor(h: string, scope?: VarScope): Transport {
    // The implicit localhost (not in the inventory) first: it has no scope (project.scope() refuses it).
    if (h === 'localhost' && !this.o.project.inventory.hosts.has(h)) return this.o.connections.forHost(h, { ansible_connection: 'local' }).transport;
    const s = scope ?? this.o.project.scope(h);
    const vars = new Proxy({} as Record<string, unknown>, {
      get: (_t, k) => (typeof k === 'string' && s.has(k) ? s.get(k) : undefined),
    });
    return this.o.connections.forHost(h, vars).transport;
  }

  private hostError(h: string, task: TaskRef, e: unknown, started: number): void {
    const st = this.ex.hostState(h);
    if (isTransportError(e) && e.reason !== 'become' && e.reason !== 'command-timeout' && e.reason !== 'remote') {
      st.unreachable = true;
      st.recap.unreachable++;
      st.stoppedAt = { task: task.name, pos: task.pos, reason: e.message };
      this.o.bus.emit({ type: 'host.result', task, host: h, status: 'unreachable', result: { changed: false, msg: e.message, unreachable: true }, durationMs: Date.now() - started });
      return;
    }
    st.failed = true;
    st.recap.failed++;
    const msg = e instanceof Error ? e.message : String(e);
    st.stoppedAt = { task: task.name, pos: task.pos, reason: msg };
    st.lastFailure = { task: { name: task.name, action: task.action }, result: { changed: false, failed: true, msg } };
    this.o.bus.emit({ type: 'host.result', task, host: h, status: 'failed', result: { changed: false, failed: true, msg }, durationMs: Date.now() - started });
  }

  /** any_errors_fatal / max_fail_percentage after a task. */
  private checkBatchFailures(task: TaskRef, anyErrorsFatal: boolean, failedNow: string[] = []): void {
    if (anyErrorsFatal && failedNow.length) {
      for (const h of this.active(this.batch)) {
        const st = this.ex.hostState(h);
        st.failed = true;
        st.stoppedAt = { task: task.name, pos: task.pos, reason: `any_errors_fatal: ${failedNow.join(', ')} failed` };
      }
      this.o.bus.emit({ type: 'warning', message: `NO MORE HOSTS LEFT: any_errors_fatal after ${failedNow.join(', ')} failed '${task.name}'` });
      throw new PlayAbort();
    }
    const mfp = this.play.max_fail_percentage;
    if (mfp !== undefined) {
      const failed = this.batch.filter((h) => !this.ex.hostState(h).active).length - this.failedAtStart;
      const pct = (failed / this.batch.length) * 100;
      if (pct > Number(mfp)) {
        for (const h of this.active(this.batch)) {
          const st = this.ex.hostState(h);
          st.failed = true;
          st.stoppedAt = { task: task.name, pos: task.pos, reason: `max_fail_percentage ${mfp}% exceeded` };
        }
        this.o.bus.emit({ type: 'warning', message: `max_fail_percentage ${mfp}% exceeded (${pct.toFixed(0)}% failed); stopping the play` });
        throw new PlayAbort();
      }
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Walking the plan

  /** Run nodes on hosts; returns the hosts that failed inside (for rescue). */
  async runList(nodes: PlanNode[], hosts: string[], roleDedup = false): Promise<string[]> {
    const failed: string[] = [];
    for (const [i, pn] of nodes.entries()) {
      if (this.ex.isAborted()) break;
      let live = this.active(hosts).filter((h) => !failed.includes(h));
      if (!live.length) break;
      // roleDedup (a play section, where `roles:` and their dependencies are inlined): a role runs once per
      // host with the same parameters, as Ansible's implicit `meta: role_complete` at the end of every role
      // instance and the linear strategy's `role.has_run(host)` skip do. A role instance is a run of
      // consecutive nodes with the same role and dependency chain; the same Role object (the loader caches
      // roles by name and parameters) met again after its instance ended is skipped silently.
      const role = roleDedup && pn.node.kind !== 'import_role' ? pn.ctx.role : undefined;
      if (role && !role.allowDuplicates) live = live.filter((h) => !this.ex.hostState(h).rolesRun.has(role.id));
      if (!live.length) continue;
      const f = await this.runNode(pn, live);
      failed.push(...f);
      const next = nodes[i + 1];
      const instance = (x: PlanNode): string => `${x.ctx.role?.id ?? ''}<${x.ctx.depChain.map((r) => r.id).join('<')}`;
      if (role && (!next || next.node.kind === 'import_role' || instance(next) !== instance(pn))) {
        for (const h of live) this.ex.hostState(h).rolesRun.add(role.id);
      }
    }
    return failed;
  }

  private async runNode(pn: PlanNode, hosts: string[]): Promise<string[]> {
    const n = pn.node;
    if (n.kind === 'block') return this.runBlock(pn, hosts);
    if (n.kind === 'import_role') {
      const role = n.ref.role;
      const todo = hosts.filter((h) => role.allowDuplicates || !this.ex.hostState(h).rolesRun.has(role.id));
      for (const h of todo) this.ex.hostState(h).rolesRun.add(role.id);
      return this.runList(pn.block ?? [], todo);
    }
    return this.runTask(pn, hosts);
  }

  private async runBlock(pn: PlanNode, hosts: string[]): Promise<string[]> {
    // Conditions of the block itself are part of each child's effective `when`, so nothing to do here.
    const failedInBlock = await this.runList(pn.block ?? [], hosts);
    let stillFailed = failedInBlock;
    if (failedInBlock.length && pn.rescue?.length) {
      // Rescue: the failed hosts come back into play; the failure counts as `rescued`, not `failed`.
      for (const h of failedInBlock) {
        const st = this.ex.hostState(h);
        st.failed = false;
        st.recap.failed--;
        st.recap.rescued++;
        st.stoppedAt = undefined;
      }
      // What the rescue tasks see (Ansible sets them as non-persistent facts of the host).
      for (const h of failedInBlock) {
        const lf = this.ex.hostState(h).lastFailure;
        if (!lf) continue;
        this.ex.hostState(h).setVar('ansible_failed_task', lf.task, 'rescue');
        this.ex.hostState(h).setVar('ansible_failed_result', lf.result, 'rescue');
      }
      stillFailed = await this.runList(pn.rescue, failedInBlock);
      // ansible-core 2.14 counts `rescued` when the block fails into its rescue and keeps it when the rescue
      // fails too (that failure adds failed=1): no decrement here.
    }
    if (pn.always?.length) {
      // always runs on every host of the block, even those that failed in it (they stay failed afterwards).
      const back: string[] = [];
      for (const h of hosts) {
        const st = this.ex.hostState(h);
        if (st.failed && !st.unreachable) {
          st.failed = false;
          back.push(h);
        }
      }
      const failedAlways = await this.runList(pn.always, hosts.filter((h) => !this.ex.hostState(h).unreachable));
      for (const h of back) if (!failedAlways.includes(h)) this.ex.hostState(h).failed = true;
      stillFailed = [...new Set([...stillFailed, ...failedAlways])];
    }
    return stillFailed;
  }

  private taskRef(pn: PlanNode, host?: string): TaskRef {
    let name = taskLabel(pn);
    if (host && name.includes('{{')) {
      try {
        name = String(this.scope(host, pn).render(name, 'name', pn.node.pos));
      } catch {
        /* keep raw name */
      }
    }
    const action = pn.node.kind === 'block' ? 'block' : pn.node.action.module;
    return { name, action, pos: posStr(pn.node.pos), index: this.taskIndex };
  }

  private evalCond(scope: VarScope, conds: Cond[] | undefined, what: string, extra?: Record<string, unknown>): boolean {
    for (const c of conds ?? []) {
      if (typeof c.expr === 'boolean') {
        if (!c.expr) return false;
        continue;
      }
      const expr = c.expr.trim();
      const tpl = expr.includes('{{') || expr.includes('{%') ? expr : `{% if ${expr} %}True{% else %}False{% endif %}`;
      let v: unknown;
      try {
        v = scope.render(tpl, what, c.pos, extra);
      } catch (e) {
        throw new RunError(`the conditional check '${expr}' failed: ${(e as Error).message}`, { pos: c.pos, host: scope.host, exitCode: 2 });
      }
      if (!truthy(v)) return false;
    }
    return true;
  }

  private async runTask(pn: PlanNode, hosts: string[]): Promise<string[]> {
    const n = pn.node as Exclude<PlanNode['node'], { kind: 'block' } | { kind: 'import_role' }>;
    this.taskIndex++;
    const ref0 = this.taskRef(pn);
    if (this.ex.skipping(ref0.name, ref0.pos)) return [];
    const eff = pn.ctx.effective;
    const first = hosts[0]!;
    const runOnceVal = eff.run_once;
    // Actions that bypass the host loop (Ansible's BYPASS_HOST_LOOP: pause) run once, like run_once.
    const bypass = n.kind === 'task' && BYPASS_HOST_LOOP.has(n.action.module);
    const runOnce = bypass || (runOnceVal === undefined ? false : typeof runOnceVal === 'boolean' ? runOnceVal : truthy(this.scope(first, pn).render(runOnceVal, 'run_once')));

    // Meta and includes are handled here (they change the plan or the host state, not the target).
    if (n.kind === 'task' && n.action.module === 'meta') return this.runMeta(pn, hosts);
    if (n.kind === 'include_tasks' || n.kind === 'include_role') return this.runInclude(pn, hosts);

    const ref = { ...ref0, name: this.taskRef(pn, first).name };
    this.o.bus.emit({ type: 'task.start', task: ref, hosts });
    const targets = runOnce ? [first] : hosts;
    const failedNow: string[] = [];
    await pool(targets, this.o.forks, async (h) => {
      const started = Date.now();
      try {
        const outcome = await this.runOnHost(pn, h, ref);
        if (runOnce) {
          // run_once: the one result stands for every host of the batch (registered vars too).
          const reg = eff.register;
          for (const other of hosts) if (reg && other !== h) this.ex.hostState(other).setVar(reg, this.ex.hostState(h).setFacts.get(reg)?.value, 'register');
        }
        if (outcome === 'failed') failedNow.push(h);
      } catch (e) {
        this.hostError(h, ref, e, started);
        if (!this.ex.hostState(h).unreachable) failedNow.push(h);
      }
    });
    const aef = eff.any_errors_fatal;
    const fatal = aef === undefined ? false : typeof aef === 'boolean' ? aef : truthy(this.scope(first).render(aef, 'any_errors_fatal'));
    this.checkBatchFailures(ref, fatal, failedNow);
    return failedNow;
  }

  private runMeta(pn: PlanNode, hosts: string[]): Promise<string[]> | string[] {
    const n = pn.node as Task;
    const what = String(n.action.freeForm ?? n.action.args.free_form ?? '').trim();
    switch (what) {
      case 'flush_handlers':
        return this.flushHandlers().then(() => []);
      case 'noop':
      case 'refresh_inventory':
        return [];
      case 'clear_facts':
        for (const h of hosts) this.ex.hostState(h).factsVars = new Map();
        return [];
      case 'end_host':
        for (const h of hosts) {
          const st = this.ex.hostState(h);
          if (this.evalCond(this.scope(h, pn), pn.ctx.when, 'when')) {
            st.ended = true; // out of this play, not failed
            st.notified.clear();
          }
        }
        return [];
      case 'end_play':
        throw new PlayAbort();
      default:
        throw new RunError(`meta: '${what}' is not supported`, { pos: n.action.argsPos, exitCode: 4, hint: 'supported: flush_handlers, noop, refresh_inventory, clear_facts, end_play' });
    }
  }

  private async runInclude(pn: PlanNode, hosts: string[]): Promise<string[]> {
    const n = pn.node as Extract<PlanNode['node'], { kind: 'include_tasks' | 'include_role' }>;
    const eff = pn.ctx.effective;
    const failed: string[] = [];
    const raw = n.kind === 'include_tasks' ? n.file : n.roleName;
    // One include per (target, loop vars): hosts that include the same file with the same vars run it together
    // (Ansible's IncludedFile); with a loop, once per item, in item order, `when` evaluated per item and the
    // loop variables visible to the included tasks as vars of the include (Ansible copies them into the
    // include task's vars, so they sit just above the include's own vars).
    const groups = new Map<string, { target: string; vars?: Record<string, unknown>; hosts: string[] }>();
    const add = (target: string, h: string, vars?: Record<string, unknown>): void => {
      const key = `${target}\0${vars ? JSON.stringify(vars) : ''}`;
      const g = groups.get(key) ?? { target, ...(vars ? { vars } : {}), hosts: [] };
      g.hosts.push(h);
      groups.set(key, g);
    };
    for (const h of hosts) {
      const scope = this.scope(h, pn);
      if (eff.loop === undefined) {
        if (!this.evalCond(scope, pn.ctx.when, 'when')) {
          this.ex.hostState(h).recap.skipped++;
          continue;
        }
        add(String(scope.render(raw, n.kind, n.action.argsPos)), h);
        continue;
      }
      const items = this.loopItems(pn, h, scope);
      let any = false;
      for (const [i, item] of items.entries()) {
        const top = this.loopVars(pn, item, i, items.length);
        const itemScope = this.scope(h, pn, top);
        if (!this.evalCond(itemScope, pn.ctx.when, 'when', top)) continue;
        any = true;
        add(String(itemScope.render(raw, n.kind, n.action.argsPos, top)), h, top);
      }
      if (!any) this.ex.hostState(h).recap.skipped++;
    }
    const sel = { tags: this.o.tags, skipTags: this.o.skipTags };
    for (const g of groups.values()) {
      if (n.kind === 'include_tasks') {
        const nodes = selectTasks(withIncludeVars(expandIncludeTasks(this.o.playbook, pn, g.target), pn, g.vars), sel);
        // Ansible counts ok=1 per host for each included task file it loads (_load_included_file), not
        // for include_role.
        for (const h of g.hosts) this.ex.hostState(h).recap.ok++;
        failed.push(...(await this.runList(nodes, g.hosts)));
      } else {
        const inc = expandIncludeRole(this.o.playbook, pn, g.target);
        this.plan.handlers.push(...inc.handlers.filter((x) => !this.plan.handlers.includes(x)));
        const nodes = selectTasks(withIncludeVars(inc.nodes, pn, g.vars), sel);
        failed.push(...(await this.runList(nodes, g.hosts)));
      }
    }
    return [...new Set(failed)];
  }

  /** The items of a task's loop (`loop:` or `with_<lookup>:`) for a host. */
  private loopItems(pn: PlanNode, h: string, scope: VarScope): unknown[] {
    const eff = pn.ctx.effective;
    let v = typeof eff.loop === 'string' ? scope.render(eff.loop, 'loop', pn.node.keywordPos.loop) : scope.evaluate(eff.loop, 'loop', pn.node.keywordPos.loop);
    if (eff.loop_with === 'items' && Array.isArray(v)) v = v.flatMap((x) => (Array.isArray(x) ? x : [x]));
    else if (eff.loop_with === 'dict' && v && typeof v === 'object' && !Array.isArray(v)) v = Object.entries(v).map(([key, value]) => ({ key, value }));
    else if (eff.loop_with === 'fileglob') v = this.fileglob(pn, v);
    if (!Array.isArray(v)) {
      throw new RunError(`loop must be a list, got ${v === null ? 'null' : typeof v}`, { pos: pn.node.keywordPos.loop ?? pn.node.pos, host: h, hint: 'use a list, or a template that yields one (e.g. "{{ groups[\'kube_control_plane\'] }}")' });
    }
    return v;
  }

  /** The variables one loop item binds: the loop var, ansible_loop_var, loop_control's index_var and extended. */
  private loopVars(pn: PlanNode, item: unknown, i: number, length: number): Record<string, unknown> {
    const lc = pn.ctx.effective.loop_control ?? {};
    const loopVar = lc.loop_var ?? 'item';
    const top: Record<string, unknown> = { [loopVar]: item, ansible_loop_var: loopVar };
    if (lc.index_var) top[lc.index_var] = i;
    if (lc.extended) top.ansible_loop = { index: i + 1, index0: i, first: i === 0, last: i === length - 1, length, revindex: length - i, revindex0: length - i - 1 };
    return top;
  }

  /** One task on one host (all loop items). Returns the host's outcome. */
  private async runOnHost(pn: PlanNode, h: string, ref: TaskRef): Promise<HostStatus | 'failed'> {
    const st = this.ex.hostState(h);
    const eff = pn.ctx.effective;
    const started = Date.now();
    const scope = this.scope(h, pn);
    const emit = (status: HostStatus, result: Record<string, unknown>, extra: { item?: string; ignored?: boolean; commands?: string[]; delegatedTo?: string } = {}): void => {
      this.o.bus.emit({ type: 'host.result', task: { ...ref, name: this.taskRef(pn, h).name }, host: h, status, result, durationMs: Date.now() - started, ...extra });
    };

    // With a loop, `when` is evaluated per item (it may use the loop variable).
    if (eff.loop === undefined && !this.evalCond(scope, pn.ctx.when, 'when')) {
      st.recap.skipped++;
      emit('skipped', { changed: false, skip_reason: 'Conditional result was False' });
      if (eff.register) st.setVar(eff.register, { changed: false, skipped: true, skip_reason: 'Conditional result was False' }, 'register');
      return 'skipped';
    }

    // Loop items
    const lc = eff.loop_control ?? {};
    const loopVar = lc.loop_var ?? 'item';
    const items = eff.loop !== undefined ? this.loopItems(pn, h, scope) : undefined;

    const noLogV = eff.no_log;
    const noLog = noLogV === undefined ? false : typeof noLogV === 'boolean' ? noLogV : truthy(scope.render(noLogV, 'no_log'));

    const runItem = async (top?: Record<string, unknown>): Promise<ItemResult> => {
      const s = top ? this.scope(h, pn, top) : scope;
      return this.execute(pn, h, s, top);
    };

    let final: ItemResult;
    if (items) {
      const results: Record<string, unknown>[] = [];
      let anyChanged = false;
      let anyFailed = false;
      let allSkipped = items.length > 0;
      const commands: string[] = [];
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        const top = this.loopVars(pn, item, i, items.length);
        const itemScope = this.scope(h, pn, top);
        const label = lc.label !== undefined ? String(itemScope.render(String(lc.label), 'loop_control.label')) : typeof item === 'string' ? item : JSON.stringify(item);
        let r: ItemResult;
        // `when` with a loop is evaluated per item (Ansible).
        if (!this.evalCond(itemScope, pn.ctx.when, 'when', top)) {
          r = { status: 'skipped', result: { changed: false, skipped: true, skip_reason: 'Conditional result was False' }, ignored: false, commands: [] };
        } else {
          r = await runItem(top);
          allSkipped = false;
        }
        const shown = noLog ? { censored: NO_LOG_MSG, changed: r.result.changed } : r.result;
        // no_log hides output, not data: the registered results keep everything (as Ansible does).
        results.push({ ...r.result, [loopVar]: item, ansible_loop_var: loopVar, item });
        anyChanged ||= r.status === 'changed';
        anyFailed ||= r.status === 'failed';
        commands.push(...r.commands);
        emit(r.status, shown, { item: noLog ? '(censored)' : label, ignored: r.ignored, commands: r.commands });
        if (lc.pause) await new Promise((res) => setTimeout(res, Math.min(Number(lc.pause), 3600) * 1000));
      }
      const res: ModuleResult = { changed: anyChanged, results, msg: anyFailed ? 'One or more items failed' : 'All items completed' };
      if (anyFailed) res.failed = true;
      if (allSkipped) res.skipped = true;
      const ignore = anyFailed && this.ignoreErrors(pn, scope);
      final = { status: anyFailed ? 'failed' : allSkipped ? 'skipped' : anyChanged ? 'changed' : 'ok', result: res, ignored: ignore, commands };
    } else {
      final = await runItem();
      const shown = noLog ? { censored: NO_LOG_MSG, changed: final.result.changed } : final.result;
      emit(final.status, shown, { ignored: final.ignored, commands: final.commands });
    }

    if (eff.register) st.setVar(eff.register, final.result, 'register');
    // Recap, notifications and failure bookkeeping for the whole task.
    switch (final.status) {
      case 'skipped':
        st.recap.skipped++;
        break;
      case 'changed':
        st.recap.ok++;
        st.recap.changed++;
        for (const hn of eff.notify ?? []) st.notified.add(String(scope.render(hn, 'notify')));
        break;
      case 'ok':
        st.recap.ok++;
        break;
      case 'unreachable':
        st.recap.unreachable++;
        st.unreachable = true;
        st.stoppedAt = { task: ref.name, pos: ref.pos, reason: String(final.result.msg ?? 'unreachable') };
        break;
      case 'failed':
        if (final.ignored) {
          st.recap.ok++;
          st.recap.ignored++;
          // Ansible (StrategyBase._process_pending_results) also counts an ignored failure's `changed`.
          if (final.result.changed) st.recap.changed++;
        } else {
          st.recap.failed++;
          st.failed = true;
          st.stoppedAt = { task: ref.name, pos: ref.pos, reason: String(final.result.msg ?? 'failed') };
          st.lastFailure = { task: { name: pn.node.name ?? ref.name, action: ref.action }, result: final.result };
          return 'failed';
        }
        break;
    }
    // An ignored failure is not a failure of the host: callers treat 'failed' as "the host leaves the
    // block/play" (and rescue), which ignore_errors must not trigger.
    return final.status === 'failed' && final.ignored ? 'ok' : final.status;
  }

  private ignoreErrors(pn: PlanNode, scope: VarScope): boolean {
    const v = pn.ctx.effective.ignore_errors;
    return v === undefined ? false : typeof v === 'boolean' ? v : truthy(scope.render(v, 'ignore_errors'));
  }

  private fileglob(pn: PlanNode, v: unknown): string[] {
    const terms = (Array.isArray(v) ? v : [v]).map(String);
    const out: string[] = [];
    const base = pn.ctx.role ? [join(pn.ctx.role.path, 'files'), pn.ctx.role.path] : [];
    base.push(join(this.play.dir, 'files'), this.play.dir);
    for (const t of terms) {
      for (const dir of base) {
        const pat = t.startsWith('/') ? t : join(dir, t);
        const d = pat.slice(0, pat.lastIndexOf('/'));
        const re = new RegExp('^' + pat.slice(pat.lastIndexOf('/') + 1).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
        if (!existsSync(d)) continue;
        const names = readdirSync(d).filter((f) => re.test(f)).sort();
        if (names.length) {
          out.push(...names.map((f) => join(d, f)));
          break;
        }
      }
    }
    return out;
  }

  private become(pn: PlanNode, scope: VarScope): boolean | BecomeOptions | undefined {
    const b = pn.ctx.effective.become;
    const on = b === undefined ? (scope.has('ansible_become') ? truthy(scope.get('ansible_become')) : false) : typeof b === 'boolean' ? b : truthy(scope.render(b, 'become'));
    if (!on) return undefined;
    const user = pn.ctx.effective.become_user !== undefined ? String(scope.render(pn.ctx.effective.become_user, 'become_user')) : scope.has('ansible_become_user') ? String(scope.get('ansible_become_user')) : undefined;
    const pwName = ['ansible_become_password', 'ansible_become_pass', 'ansible_sudo_pass'].find((k) => scope.has(k));
    const password = pwName ? scope.get(pwName) : undefined;
    const opts: BecomeOptions = {};
    if (user) opts.user = user;
    if (typeof password === 'string' && password !== '' && password !== OMIT_PLACEHOLDER) opts.password = password;
    return opts;
  }

  private environment(pn: PlanNode, scope: VarScope): Record<string, string> | undefined {
    const env = pn.ctx.effective.environment;
    if (!env?.length) return undefined;
    const out: Record<string, string> = {};
    for (const e of env) {
      const v = typeof e === 'string' ? scope.render(e, 'environment') : scope.evaluate(e, 'environment');
      if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out[k] = String(x);
    }
    return out;
  }

  /** Run the action once (one loop item), with retries/until, failed_when and changed_when. */
  private async execute(pn: PlanNode, h: string, scope: VarScope, top?: Record<string, unknown>): Promise<ItemResult> {
    const n = pn.node as Task | Extract<PlanNode['node'], { kind: 'include_vars' }>;
    const eff = pn.ctx.effective;
    const st = this.ex.hostState(h);
    const commands: string[] = [];
    const ignore = (): boolean => this.ignoreErrors(pn, scope);

    if (n.kind === 'include_vars') return this.includeVars(pn, h, scope);

    const module = n.action.module;
    // Template arguments.
    let args: Record<string, unknown>;
    let freeForm: string | undefined;
    try {
      args = dropOmit(scope.evaluate(n.action.args, `${module} arguments`, n.action.argsPos, top)) as Record<string, unknown>;
      if (n.action.varParams) {
        const extraArgs = scope.render(n.action.varParams, 'args', n.action.argsPos, top);
        if (extraArgs && typeof extraArgs === 'object') args = { ...(dropOmit(extraArgs) as Record<string, unknown>), ...args };
      }
      if (n.action.freeForm !== undefined) freeForm = String(scope.render(n.action.freeForm, module, n.action.argsPos, top));
    } catch (e) {
      return { status: 'failed', result: { changed: false, failed: true, msg: (e as Error).message }, ignored: ignore(), commands };
    }

    const engine = ENGINE_ACTIONS[module];
    let result: ModuleResult;
    const retriesV = eff.retries;
    const until = eff.until;
    const maxAttempts = until?.length ? Math.max(1, Number(retriesV === undefined ? 3 : typeof retriesV === 'number' ? retriesV : scope.render(retriesV, 'retries')) + 1) : 1;
    const delayV = eff.delay;
    const delay = Math.min(3600, Number(delayV === undefined ? 5 : typeof delayV === 'number' ? delayV : scope.render(delayV, 'delay')));
    let attempts = 0;
    for (;;) {
      attempts++;
      if (engine) {
        try {
          result = engine(args, scope, st, freeForm, this, top);
        } catch (e) {
          result = { changed: false, failed: true, msg: (e as Error).message };
        }
      } else {
        const mod = this.o.modules.get(module);
        if (!mod) throw new RunError(`module '${module}' is not available in this runner`, { pos: n.action.argsPos, host: h, exitCode: 4, hint: 'see docs/playbooks.md for the supported modules' });
        const delegate = eff.delegate_to !== undefined ? String(scope.render(eff.delegate_to, 'delegate_to', pn.node.keywordPos.delegate_to, top)) : undefined;
        const targetHost = delegate ?? h;
        const inner = delegate ? this.transportFor(delegate === 'localhost' || delegate === '127.0.0.1' ? 'localhost' : delegate) : this.transportFor(h, scope);
        const tt = new TaskTransport(inner, this.environment(pn, scope), Number(this.o.commandTimeout ?? 0), (c) => commands.push(c));
        const cm = eff.check_mode;
        const check = cm === undefined ? Boolean(this.o.check) : typeof cm === 'boolean' ? cm : truthy(scope.render(cm, 'check_mode'));
        const tState = this.ex.hostState(targetHost);
        const ctx: ModuleContext = {
          host: h,
          transport: tt,
          become: this.become(pn, scope),
          check,
          diff: Boolean(this.o.diff),
          facts: async () => {
            if (!tState.facts) tState.useFacts(await gatherFacts(tt, 120));
            return tState.facts!;
          },
          findFile: (kind, name) => this.findFile(pn, kind, name),
          // Template-file semantics (not scope.render's: see renderTemplateText), plus the template vars
          // Ansible's template action adds on top of the task vars (ansible_managed…).
          renderTemplate: (text, file) => renderTemplateText(scope, text, file, { ...top, ...templateVars(args.src, file, args.dest) }),
          timeout: Number(this.o.commandTimeout ?? 0),
          signal: this.o.signal ?? new AbortController().signal,
          warn: (m) => this.o.bus.emit({ type: 'warning', message: m, host: h, pos: posStr(pn.node.pos) }),
          trace: (c) => commands.push(c),
        };
        try {
          result = await mod.run(args, ctx, freeForm);
        } catch (e) {
          if (isTransportError(e) && e.reason !== 'become' && e.reason !== 'command-timeout' && e.reason !== 'remote') {
            const iu = eff.ignore_unreachable;
            if (iu !== undefined && truthy(typeof iu === 'boolean' ? iu : scope.render(iu, 'ignore_unreachable'))) {
              return { status: 'failed', result: { changed: false, unreachable: true, msg: e.message }, ignored: true, commands };
            }
            return { status: 'unreachable', result: { changed: false, unreachable: true, msg: e.message }, ignored: false, commands };
          }
          result = { changed: false, failed: true, msg: e instanceof ModuleArgError ? e.message : (e as Error).message };
        }
      }
      // failed_when / changed_when see the result under the register name (and as `result`).
      const reg = eff.register;
      const bind: Record<string, unknown> = { ...top };
      if (reg) bind[reg] = result;
      if (eff.changed_when?.length) result.changed = this.evalCond(scope, eff.changed_when, 'changed_when', bind);
      if (eff.failed_when?.length) {
        const f = this.evalCond(scope, eff.failed_when, 'failed_when', bind);
        result.failed = f;
        if (!f) delete result.msg;
        else result.failed_when_result = true;
      }
      if (maxAttempts > 1) {
        result.attempts = attempts;
        const done = this.evalCond(scope, until, 'until', bind);
        if (done) break;
        if (attempts >= maxAttempts) {
          result.failed = true;
          // ansible-core 2.14 (TaskExecutor._execute) reports `attempts` = retries (one less than the attempts
          // made) when they ran out, and keeps the module's msg.
          result.attempts = maxAttempts - 1;
          result.msg = result.msg ?? `retries exhausted (${attempts} attempts)`;
          break;
        }
        if (this.ex.isAborted()) break;
        await new Promise((res) => setTimeout(res, delay * 1000));
        continue;
      }
      break;
    }
    const status: HostStatus = result.failed ? 'failed' : result.skipped ? 'skipped' : result.changed ? 'changed' : 'ok';
    return { status, result, ignored: status === 'failed' && ignore(), commands };
  }

  private includeVars(pn: PlanNode, h: string, scope: VarScope): ItemResult {
    const n = pn.node as Extract<PlanNode['node'], { kind: 'include_vars' }>;
    const st = this.ex.hostState(h);
    const src = n.source.file ?? n.source.dir;
    if (!src) return { status: 'failed', result: { changed: false, failed: true, msg: 'include_vars needs a file or dir' }, ignored: false, commands: [] };
    const target = String(scope.render(src, 'include_vars', n.action.argsPos));
    const file = this.findFile(pn, 'vars', target);
    if (!file) return { status: 'failed', result: { changed: false, failed: true, msg: `include_vars: could not find ${target}` }, ignored: this.ignoreErrors(pn, scope), commands: [] };
    const vars = loadVarsFile(file);
    if (n.into) st.setVar(n.into, Object.fromEntries([...vars].map(([k, d]) => [k, d.value])), file, 'includeVars');
    else for (const [k, d] of vars) st.includeVars.set(k, d);
    return { status: 'ok', result: { changed: false, ansible_included_var_files: [file] }, ignored: false, commands: [] };
  }

  findFile(pn: PlanNode, kind: 'files' | 'templates' | 'vars', name: string): string | undefined {
    if (name.startsWith('/')) return existsSync(name) ? name : undefined;
    const dirs: string[] = [];
    const role = pn.ctx.role;
    if (role) dirs.push(join(role.path, kind), role.path);
    for (const r of pn.ctx.depChain) dirs.push(join(r.path, kind), r.path);
    dirs.push(join(this.play.dir, kind), this.play.dir);
    for (const d of dirs) {
      const p = join(d, name);
      if (existsSync(p)) return p;
    }
    return undefined;
  }

  // ------------------------------------------------------------------------------------------------
  // Handlers

  async flushHandlers(): Promise<void> {
    for (let round = 0; round < 10; round++) {
      const any = this.batch.some((h) => this.ex.hostState(h).notified.size && this.ex.hostState(h).active);
      if (!any) return;
      for (const hp of this.handlerOrder()) {
        const n = hp.node;
        if (n.kind !== 'task') continue;
        const names = new Set<string>([...(n.listen ?? [])]);
        if (n.name) {
          names.add(n.name);
          if (hp.ctx.role) names.add(`${hp.ctx.role.name} : ${n.name}`);
        }
        const hosts = this.active(this.batch).filter((h) => [...names].some((x) => this.ex.hostState(h).notified.has(x)));
        if (!hosts.length) continue;
        for (const h of hosts) for (const x of names) this.ex.hostState(h).notified.delete(x);
        const ref = { ...this.taskRef(hp), handler: true };
        this.o.bus.emit({ type: 'task.start', task: ref, hosts });
        const failedNow: string[] = [];
        await pool(hosts, this.o.forks, async (h) => {
          const started = Date.now();
          try {
            if ((await this.runOnHost(hp, h, ref)) === 'failed') failedNow.push(h);
          } catch (e) {
            this.hostError(h, ref, e, started);
          }
        });
        this.checkBatchFailures(ref, false, failedNow);
      }
      // Handlers notified by handlers run in the next round (bounded).
    }
  }
}


type EngineAction = (args: Record<string, unknown>, scope: VarScope, st: HostState, freeForm: string | undefined, run: PlayRun, top?: Record<string, unknown>) => ModuleResult;

/** Actions the engine runs itself: they read or change variables, never the target. */
const ENGINE_ACTIONS: Record<string, EngineAction> = {
  debug(args, scope) {
    if (args.var !== undefined) {
      const name = String(args.var);
      let v: unknown;
      try {
        v = scope.render(`{{ ${name} }}`, 'debug var');
      } catch {
        v = 'VARIABLE IS NOT DEFINED!';
      }
      return { changed: false, [name]: v, _verbose_always: true };
    }
    return { changed: false, msg: (args.msg ?? 'Hello world!') as string, _verbose_always: true };
  },
  set_fact(args, _scope, st) {
    const facts: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(args)) {
      if (k === 'cacheable') continue;
      st.setVar(k, v, 'set_fact');
      facts[k] = v;
    }
    return { changed: false, ansible_facts: facts };
  },
  assert(args, scope) {
    const that = Array.isArray(args.that) ? args.that : [args.that];
    for (const c of that) {
      const expr = String(c);
      const v = scope.render(expr.includes('{{') ? expr : `{% if ${expr} %}True{% else %}False{% endif %}`, 'assert');
      if (!truthy(v)) {
        const fm = args.fail_msg ?? args.msg;
        return { changed: false, failed: true, assertion: expr, evaluated_to: false, msg: fm !== undefined ? (fm as string) : 'Assertion failed', _verbose_always: true };
      }
    }
    const quiet = args.quiet === true || args.quiet === 'yes' || args.quiet === 'true';
    return { changed: false, msg: (args.success_msg as string) ?? 'All assertions passed', ...(quiet ? {} : { _verbose_always: true }) };
  },
  fail(args) {
    return { changed: false, failed: true, msg: (args.msg as string) ?? 'Failed as requested from task' };
  },
};

export const ENGINE_ACTION_NAMES = Object.keys(ENGINE_ACTIONS);
