/**
 * The preflight and ha step playbooks load with the runner's loader and module registry (an unknown keyword,
 * module or argument form fails here, with file:line), and are internally consistent: every notify has a
 * handler, every template exists, every checklist check is collected by the summary, the verify tasks the
 * step journal records are there, and tag selection runs the parts the docs promise.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { moduleSpecs } from '../../src/modules/index.js';
import { compilePlay, isGroup, listTasks, loadPlaybook, type PlanNode, type Playbook, type Task } from '../../src/playbook/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PB = join(ROOT, 'playbooks');

function load(name: string): Playbook {
  return loadPlaybook(join(PB, name), { modules: moduleSpecs() });
}

function leaves(list: PlanNode[]): PlanNode[] {
  return list.flatMap((pn) => (isGroup(pn) ? leaves([...(pn.block ?? []), ...(pn.rescue ?? []), ...(pn.always ?? [])]) : [pn]));
}

interface Found {
  play: string;
  task: Task;
  handler: boolean;
  role?: string;
}

function allTasks(pb: Playbook): Found[] {
  const out: Found[] = [];
  for (const play of pb.plays) {
    const plan = compilePlay(play);
    for (const pn of leaves([...plan.pre_tasks, ...plan.main, ...plan.post_tasks])) {
      if (pn.node.kind === 'task') out.push({ play: play.name, task: pn.node, handler: false, role: pn.ctx.role?.name });
    }
    for (const pn of plan.handlers) if (pn.node.kind === 'task') out.push({ play: play.name, task: pn.node, handler: true, role: pn.ctx.role?.name });
  }
  return out;
}

const STEPS = ['preflight.yml', 'ha.yml'] as const;

describe.each(STEPS)('%s', (file) => {
  const pb = load(file);
  const tasks = allTasks(pb);

  it('loads with the runner modules and has tasks', () => {
    expect(pb.plays.length).toBeGreaterThan(0);
    expect(tasks.filter((t) => !t.handler).length).toBeGreaterThan(5);
  });

  it('names every task (the journal and --start-at-task use the names)', () => {
    const unnamed = tasks.filter((t) => !t.task.name).map((t) => `${t.task.pos.file}:${t.task.pos.line}`);
    expect(unnamed).toEqual([]);
  });

  it('every notify has a handler in its play', () => {
    const missing: string[] = [];
    for (const play of pb.plays) {
      const handlers = new Set(tasks.filter((t) => t.handler && t.play === play.name).map((t) => t.task.name!));
      for (const t of tasks.filter((x) => x.play === play.name)) {
        for (const n of t.task.keywords.notify ?? []) if (!handlers.has(n)) missing.push(`${t.task.name} → ${n}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every template source exists in its role', () => {
    const missing: string[] = [];
    for (const t of tasks.filter((x) => x.task.action.module === 'template')) {
      const src = String(t.task.action.args.src);
      if (!existsSync(join(PB, 'roles', t.role ?? '?', 'templates', src))) missing.push(`${t.role}: ${src}`);
    }
    expect(missing).toEqual([]);
    expect(tasks.some((x) => x.task.action.module === 'template')).toBe(true);
  });

  it('uses only modules the runner knows', () => {
    const known = moduleSpecs();
    const engine = new Set(['assert', 'debug', 'fail', 'set_fact', 'meta']);
    const unknown = tasks.map((t) => t.task.action.module).filter((m) => !known.has(m) && !engine.has(m));
    expect(unknown).toEqual([]);
  });
});

describe('preflight.yml', () => {
  const pb = load('preflight.yml');
  const tasks = allTasks(pb);

  it('runs checklist, common and ntp, in that order', () => {
    expect(pb.plays.map((p) => p.roles.map((r) => r.role.name))).toEqual([['checklist'], ['common'], ['ntp']]);
    // not any_errors_fatal: the gate protects later steps, healthy hosts finish, --resume runs the failed ones
    expect(pb.plays.every((p) => p.keywords.any_errors_fatal === false)).toBe(true);
  });

  it('collects every checklist result in the summary', () => {
    const registered = tasks.filter((t) => t.role === 'checklist').map((t) => t.task.keywords.register).filter((r): r is string => !!r && r.startsWith('chk_'));
    const summary = readFileSync(join(PB, 'roles', 'checklist', 'tasks', 'summary.yml'), 'utf8');
    const collected = [...summary.matchAll(/\{\{ (chk_\w+) \| default\(\{\}\) \}\}/g)].map((m) => m[1]);
    expect(registered.length).toBeGreaterThan(20);
    expect(new Set(registered).size).toBe(registered.length);
    expect([...registered].sort()).toEqual([...collected].sort());
    // each check may fail without stopping the others: the summary fails once with all messages
    for (const t of tasks.filter((x) => x.task.keywords.register?.startsWith('chk_'))) {
      expect(t.task.keywords.ignore_errors, t.task.name).toBe(true);
    }
  });

  it('gives every assert a failure message', () => {
    const bare = tasks.filter((t) => t.task.action.module === 'assert' && !t.task.action.args.fail_msg).map((t) => t.task.name);
    expect(bare).toEqual([]);
  });

  it('has the chrony gate as a verify task', () => {
    const verify = tasks.filter((t) => /^verify\b/i.test(t.task.name ?? '')).map((t) => t.task.name);
    expect(verify).toEqual(['Verify the clock is synchronised']);
  });

  it('--tags checklist runs only the checks', () => {
    const listing = listTasks(pb, { tags: ['checklist'] });
    const names = listing.flatMap((p) => p.tasks.map((t) => t.name));
    expect(names.length).toBeGreaterThan(20);
    expect(names.every((n) => n.startsWith('checklist : '))).toBe(true);
  });
});

describe('ha.yml', () => {
  const pb = load('ha.yml');
  const tasks = allTasks(pb);

  it('runs haproxy, then keepalived, then the verification, on the control nodes', () => {
    expect(pb.plays.map((p) => p.hosts)).toEqual(['kube_control_plane', 'kube_control_plane', 'kube_control_plane']);
    expect(pb.plays.map((p) => p.roles.map((r) => r.role.name))).toEqual([['haproxy'], ['keepalived'], []]);
  });

  it('has the operator checks as verify tasks', () => {
    const verify = tasks.filter((t) => /^verify\b/i.test(t.task.name ?? '')).map((t) => t.task.name);
    expect(verify).toEqual([
      'Verify haproxy and keepalived are active',
      'Verify the VIP answers on the API port',
      'Verify exactly one control node holds the VIP',
    ]);
  });

  it('restarts services only from handlers (never unconditionally)', () => {
    const restarts = tasks.filter((t) => ['service', 'systemd'].includes(t.task.action.module) && /restarted|reloaded/.test(String(t.task.action.args.state)));
    expect(restarts.length).toBeGreaterThan(0);
    expect(restarts.filter((t) => !t.handler).map((t) => t.task.name)).toEqual([]);
  });

  it('writes haproxy files root:haproxy 0640', () => {
    const defaults = readFileSync(join(PB, 'roles', 'haproxy', 'defaults', 'main.yml'), 'utf8');
    expect(defaults).toMatch(/^haproxy_file_owner: root$/m);
    expect(defaults).toMatch(/^haproxy_file_group: haproxy$/m);
    expect(defaults).toMatch(/^haproxy_file_mode: "0640"$/m);
    const writes = tasks.filter((t) => t.role === 'haproxy' && t.task.action.module === 'template' && String(t.task.action.args.dest).includes('haproxy_conf'));
    expect(writes.length).toBe(2);
    for (const w of writes) {
      expect(w.task.action.args).toMatchObject({ owner: '{{ haproxy_file_owner }}', group: '{{ haproxy_file_group }}', mode: '{{ haproxy_file_mode }}' });
    }
  });
});
