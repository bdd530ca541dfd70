/**
 * The playbook model on fixture playbooks: every task keyword, every module-argument form, roles (search
 * path, defaults/vars with positions, meta dependencies, params, instances), static imports, dynamic
 * includes expanded the way the executor will, tag inheritance and selection.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../src/core/errors.js';
import {
  compilePlay, expandIncludeRole, expandIncludeTasks, floorModules, isGroup, listTasks, loadPlaybook, selectTasks,
  shouldRun, taskLabel,
  type Block, type ImportRole, type IncludeRole, type IncludeTasks, type IncludeVars, type LoadOptions, type ModuleSpec,
  type PlanNode, type Play, type Playbook, type Task, type TaskNode,
} from '../../src/playbook/index.js';
import { parseKv, splitArgs } from '../../src/playbook/kv.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'playbooks', 'oracle');
const OPTS: LoadOptions = { modules: floorModules(), rolesPath: [join(DIR, 'extra-roles'), join(DIR, 'sub', 'roles')] };

function load(name: string, opts: Partial<LoadOptions> = {}): Playbook {
  return loadPlaybook(join(DIR, name), { ...OPTS, ...opts });
}

function leaves(list: PlanNode[]): PlanNode[] {
  return list.flatMap((pn) => (isGroup(pn) ? leaves([...(pn.block ?? []), ...(pn.rescue ?? []), ...(pn.always ?? [])]) : [pn]));
}

function planned(play: Play): PlanNode[] {
  const p = compilePlay(play);
  return leaves([...p.pre_tasks, ...p.main, ...p.post_tasks]);
}

function byName(list: PlanNode[], name: string): PlanNode {
  const found = list.find((pn) => pn.node.name === name);
  if (!found) throw new Error(`no task named ${name}: ${list.map((p) => p.node.name).join(', ')}`);
  return found;
}

function task(n: TaskNode | undefined): Task {
  if (n?.kind !== 'task') throw new Error(`expected a task, got ${n?.kind}`);
  return n;
}

function tmpPlaybook(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'pbm-'));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(d, f, '..'), { recursive: true });
    writeFileSync(join(d, f), text);
  }
  return d;
}

describe('tasks: keywords and module arguments', () => {
  const pb = load('01-basic.yml');
  const play = pb.plays[0]!;
  const t = (i: number): Task => task(play.tasks[i]);

  it('reads play keywords', () => {
    expect(play.name).toBe('basics');
    expect(play.hosts).toBe('all');
    expect(play.gather_facts).toBe(false);
    expect(play.keywords.tags).toEqual(['play1']);
    expect(play.pos).toEqual({ file: join(DIR, '01-basic.yml'), line: 2, col: 3 });
    expect(play.tasks).toHaveLength(9);
  });

  it('k=v text, FQCN modules normalised, positions of every argument', () => {
    expect(t(0).name).toBeUndefined();
    expect(t(0).action).toMatchObject({ module: 'debug', written: 'debug', args: { msg: 'no name' } });
    expect(t(0).pos).toMatchObject({ line: 7, col: 7 });
    const copy = t(1).action;
    expect(copy).toMatchObject({ module: 'copy', written: 'ansible.builtin.copy', args: { content: 'x', dest: '/tmp/x' } });
    expect(copy.argsPos).toMatchObject({ line: 10, col: 9 });
    expect(copy.argPos.dest).toMatchObject({ line: 11, col: 9 });
    expect(t(1).keywords.tags).toEqual(['copy']);
  });

  it('free-form text for command-like modules keeps only their own k=v words as arguments', () => {
    expect(t(2).action).toMatchObject({ module: 'command', freeForm: 'echo hi', args: { chdir: '/tmp' } });
    expect(t(2).keywords.tags).toEqual(['cmd', 'shell']);
    expect(t(3).action).toMatchObject({ module: 'shell', written: 'shell', freeForm: 'echo hi', args: {} });
    expect(t(4).action).toMatchObject({ module: 'command', freeForm: 'echo local' });
    expect(t(4).keywords.delegate_to).toBe('localhost');
    expect(t(5).action).toMatchObject({ freeForm: 'ls', args: { chdir: '/tmp' } });
    expect(t(5).keywords.tags).toEqual(['a', 'b', 'a']);
  });

  it('loops: loop + loop_control, with_<lookup>', () => {
    expect(t(6).name).toBe("{{ 'templated' }} name"); // names stay raw
    expect(t(6).keywords.loop).toEqual([1, 2]);
    expect(t(6).keywords.loop_control).toEqual({ loop_var: 'it', label: '{{ it }}' });
    expect(t(7).keywords.loop).toEqual([1, 2]);
    expect(t(7).keywords.loop_with).toBe('items');
    expect(t(7).action.args).toEqual({ msg: '{{ item }}' });
  });

  it('every other task keyword, typed and positioned', () => {
    const k = t(8).keywords;
    expect(k.register).toBe('r');
    expect(k.until).toEqual([{ expr: 'r.status == 200', pos: { file: join(DIR, '01-basic.yml'), line: 37, col: 14 } }]);
    expect(k.retries).toBe(3);
    expect(k.delay).toBe(1);
    expect(k.failed_when).toEqual([expect.objectContaining({ expr: false })]);
    expect(k.changed_when).toEqual([expect.objectContaining({ expr: false })]);
    expect(k.ignore_errors).toBe(true);
    expect(k.no_log).toBe(true);
    expect(k.become).toBe(true);
    expect(k.become_user).toBe('root');
    expect(k.environment).toEqual([{ A: 'b' }]);
    expect(k.vars?.get('v')).toEqual({ value: 1, pos: expect.objectContaining({ line: 47 }) });
    expect(k.check_mode).toBe(false);
    expect(k.diff).toBe(false);
    expect(k.throttle).toBe(1);
    expect(t(8).keywordPos.retries).toMatchObject({ line: 38, col: 7 });
  });

  it('multi-play keywords: host lists, serial, percentages, templated names kept raw', () => {
    const plays = load('09-multi-play.yml').plays;
    expect(plays[0]!.hosts).toEqual(['web', 'db']);
    expect(plays[0]!.name).toBe('web,db');
    expect(plays[0]!.gather_facts).toBe(false);
    expect(plays[1]!.serial).toEqual([1, '50%']);
    expect(plays[1]!.max_fail_percentage).toBe(20);
    expect(plays[1]!.keywords.any_errors_fatal).toBe(true);
    expect(task(plays[1]!.tasks[0]).action).toMatchObject({ module: 'ping', args: {} });
    expect(plays[2]!.name).toBe('play {{ templated }}');
    expect(plays[2]!.hosts).toBe("{{ target | default('all') }}");
  });

  it('FQCNs of collections normalise to the short module name', () => {
    const plays = load('11-burrito-like.yml').plays;
    const tasks = planned(plays[1]!);
    expect(task(byName(tasks, 'Addon | helm').node).action.module).toBe('helm');
    expect(task(byName(tasks, 'Addon | ca key').node).action).toMatchObject({ module: 'openssl_privatekey', written: 'community.crypto.openssl_privatekey' });
    expect(task(byName(planned(plays[0]!), 'addon k8s').node).action.module).toBe('k8s');
  });

  it('module argument schemas come from the module map (ModuleSpec.validate)', () => {
    const d = tmpPlaybook({ 'pb.yml': '- hosts: all\n  tasks:\n    - name: x\n      mymod:\n        size: big\n' });
    const spec: ModuleSpec = {
      validate: (a) => (typeof a.args.size === 'number' ? [] : [{ message: 'size must be a number', arg: 'size', hint: 'e.g. size: 3' }]),
    };
    const modules = new Map([['mymod', spec]]);
    try {
      loadPlaybook(join(d, 'pb.yml'), { modules });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ParseError);
      expect((e as ParseError).message).toBe('mymod: size must be a number');
      expect((e as ParseError).pos).toEqual({ file: join(d, 'pb.yml'), line: 5, col: 9 });
      expect((e as ParseError).hint).toBe('e.g. size: 3');
    }
    // a module missing from the map is unknown
    expect(() => loadPlaybook(join(d, 'pb.yml'), { modules: new Map() })).toThrow(/unknown module `mymod`/);
    // a map keyed by a collection name keeps it
    const d2 = tmpPlaybook({ 'pb.yml': '- hosts: all\n  tasks:\n    - dellemc.powerflex.info: {gather_subset: [vol]}\n' });
    const pb = loadPlaybook(join(d2, 'pb.yml'), { modules: floorModules() });
    expect(task(pb.plays[0]!.tasks[0]).action.module).toBe('dellemc.powerflex.info');
  });

  it('a template as the whole argument value is kept for the engine', () => {
    const d = tmpPlaybook({ 'pb.yml': '- hosts: all\n  tasks:\n    - copy: "{{ copy_args }}"\n    - debug:\n      args: "{{ more }}"\n' });
    const pb = loadPlaybook(join(d, 'pb.yml'), { modules: floorModules() });
    expect(task(pb.plays[0]!.tasks[0]).action).toMatchObject({ module: 'copy', varParams: '{{ copy_args }}', args: {} });
    expect(task(pb.plays[0]!.tasks[1]).action).toMatchObject({ module: 'debug', varParams: '{{ more }}' });
  });

  it('reads YAML as PyYAML does: y/n stay strings, yes/no/on are booleans, 0644 is octal', () => {
    const d = tmpPlaybook({ 'pb.yml': '- hosts: all\n  tasks:\n    - debug:\n        a: y\n        b: n\n        c: yes\n        d: off\n        e: 0644\n' });
    const pb = loadPlaybook(join(d, 'pb.yml'), { modules: floorModules() });
    expect(task(pb.plays[0]!.tasks[0]).action.args).toEqual({ a: 'y', b: 'n', c: true, d: false, e: 420 });
  });

  it('keeps values under YAML tags it does not know (e.g. !unsafe) as plain strings', () => {
    const d = tmpPlaybook({ 'pb.yml': "- hosts: all\n  tasks:\n    - debug:\n        msg: !unsafe '{{ raw }}'\n" });
    const pb = loadPlaybook(join(d, 'pb.yml'), { modules: floorModules() });
    expect(task(pb.plays[0]!.tasks[0]).action.args).toEqual({ msg: '{{ raw }}' });
  });

  it('action: with a mapping, and YAML merge keys', () => {
    const d = tmpPlaybook({
      'pb.yml': [
        '- hosts: all',
        '  vars: {base: &b {dest: /tmp/b, mode: "0644"}}',
        '  tasks:',
        '    - action:',
        '        module: copy',
        '        src: a',
        '        dest: /tmp/a',
        '    - copy:',
        '        <<: *b',
        '        src: c',
        '',
      ].join('\n'),
    });
    const pb = loadPlaybook(join(d, 'pb.yml'), { modules: floorModules() });
    expect(task(pb.plays[0]!.tasks[0]).action).toMatchObject({ module: 'copy', args: { src: 'a', dest: '/tmp/a' } });
    expect(task(pb.plays[0]!.tasks[1]).action.args).toEqual({ src: 'c', dest: '/tmp/b', mode: '0644' });
  });
});

describe('k=v argument strings', () => {
  it('splits on blanks but not inside quotes or Jinja', () => {
    expect(splitArgs('a=1 b="two words" c={{ x | default("y z") }}').map((w) => w.word)).toEqual(['a=1', 'b="two words"', 'c={{ x | default("y z") }}']);
    expect(parseKv('src=a dest="/tmp/with space" mode=0644')).toEqual({ args: { src: 'a', dest: '/tmp/with space', mode: '0644' } });
  });

  it('keeps free-form words, with command-style keys only when asked', () => {
    expect(parseKv('echo a=b chdir=/tmp', ['chdir'])).toEqual({ args: { chdir: '/tmp' }, raw: 'echo a=b' });
    expect(parseKv('echo  two  spaces', ['chdir']).raw).toBe('echo  two  spaces');
    expect(parseKv('a\\=b c=d')).toEqual({ args: { c: 'd' }, raw: 'a=b' });
    // as Ansible: outer quotes removed only when they match; escapes decoded; values trimmed
    expect(parseKv("msg='it''s' x=a\\tb y='a b' z=\\n")).toEqual({ args: { msg: "it''s", x: 'a\tb', y: 'a b', z: '' } });
  });

  it('rejects unbalanced quotes and Jinja', () => {
    expect(() => parseKv('a="open')).toThrow(/unbalanced quotes/);
    expect(() => parseKv('a={{ x')).toThrow(/unbalanced Jinja/);
  });
});

describe('roles', () => {
  const pb = load('02-roles.yml');
  const play = pb.plays[0]!;

  it('are found in <playbook>/roles, then the extra role directories', () => {
    expect(play.roles.map((r) => r.name)).toEqual(['common', 'web', 'addon', 'ext_role']);
    expect(play.roles[0]!.role.path).toBe(join(DIR, 'roles', 'common'));
    expect(play.roles[3]!.role.path).toBe(join(DIR, 'extra-roles', 'ext_role'));
    expect(play.roles[1]!.pos).toMatchObject({ line: 4, col: 7 });
  });

  it('expose defaults and vars as positioned variables (main.yml or a main/ directory)', () => {
    const common = play.roles[0]!.role;
    expect(common.defaults.get('common_port')).toEqual({ value: 80, pos: { file: join(DIR, 'roles/common/defaults/main.yml'), line: 1, col: 1 } });
    expect(common.defaults.get('common_answer')?.value).toBe('y');
    expect(common.vars.get('common_dir')?.value).toBe('/opt/common');
    expect(common.files).toMatchObject({ tasks: join(DIR, 'roles/common/tasks/main.yml'), handlers: join(DIR, 'roles/common/handlers/main.yml') });
    const addon = play.roles[2]!.role;
    expect(addon.defaults.get('addon_shared')).toMatchObject({ value: 'from_b', pos: { file: join(DIR, 'roles/addon/defaults/main/b.yml') } });
    expect(addon.defaults.get('addon_a')?.value).toBe(1);
    expect(addon.files.tasks).toBe(join(DIR, 'roles/addon/tasks/main.yaml'));
  });

  it('split role parameters from role keywords', () => {
    const addon = play.roles[2]!.role;
    expect(addon.params.get('some_param')?.value).toBe(1);
    expect(addon.keywords.tags).toEqual(['addon_t']);
    const web = play.roles[1]!.role;
    expect(web.keywords.when).toEqual([expect.objectContaining({ expr: true })]);
    expect(web.params.size).toBe(0);
  });

  it('load meta dependencies recursively, with the dependency reference keywords', () => {
    const web = play.roles[1]!.role;
    expect(web.dependencies.map((d) => d.name)).toEqual(['base']);
    const base = web.dependencies[0]!.role;
    expect(base.dependencies[0]!.role.keywords.tags).toEqual(['from_base']);
    // common with tags from_base is another instance than plain common
    expect(base.dependencies[0]!.role).not.toBe(play.roles[0]!.role);
    expect(task(play.roles[0]!.role.handlers[0]).listen).toEqual([]);
    expect(task(web.handlers[0]).listen).toEqual(['web changed']);
  });

  it('share one Role per (name, params, tags, when, vars) in a play, as Ansible does', () => {
    const p = load('10-role-deps.yml').plays[0]!;
    const [web1, web2, dup1, dup2, base] = p.roles.map((r) => r.role);
    expect(web1).not.toBe(web2); // tags differ
    expect(dup1).not.toBe(dup2); // params differ
    expect(dup1!.allowDuplicates).toBe(true);
    expect([dup1!.id, dup2!.id]).toEqual(['dup', 'dup#2']);
    // base's dependency `common (tags: from_base)` is one object whichever way it is reached
    expect(base!.dependencies[0]!.role).toBe(web1!.dependencies[0]!.role.dependencies[0]!.role);
    // the plan lists role tasks once per mention (the executor runs a role once per host)
    const names = planned(p).map(taskLabel);
    expect(names.filter((n) => n === 'common : common hello')).toHaveLength(3);
  });

  it('decrypt whole-file vaulted role vars through the caller, and refuse them without a password', () => {
    const d = tmpPlaybook({
      'pb.yml': '- hosts: all\n  roles: [sec]\n',
      'roles/sec/defaults/main.yml': '$ANSIBLE_VAULT;1.1;AES256\n3132\n',
      'roles/sec/tasks/main.yml': '- debug: msg=x\n',
    });
    const seen: string[] = [];
    const pb = loadPlaybook(join(d, 'pb.yml'), {
      modules: floorModules(),
      decryptFile: (text, file) => {
        seen.push(file);
        return text.startsWith('$ANSIBLE_VAULT') ? 'secret_a: 1\n' : text;
      },
    });
    expect(pb.plays[0]!.roles[0]!.role.defaults.get('secret_a')).toEqual({ value: 1, pos: { file: join(d, 'roles/sec/defaults/main.yml'), line: 1, col: 1 } });
    expect(seen).toEqual([join(d, 'roles/sec/defaults/main.yml')]);
    expect(() => loadPlaybook(join(d, 'pb.yml'), { modules: floorModules() })).toThrow(/vault-encrypted and no vault password/);
  });

  it('role names by relative path keep the path; templated role names use play vars', () => {
    expect(load('12-role-paths.yml').plays[0]!.roles[0]!.role.name).toBe('roles/common');
    const p = load('14-templated-static.yml').plays[0]!;
    expect(p.roles[0]!.name).toBe('common');
  });
});

describe('static imports and dynamic includes', () => {
  it('expand import_tasks into a block that carries the import keywords, resolving nested paths', () => {
    const p = load('03-import-tasks.yml').plays[0]!;
    const imp = p.tasks[0] as Block;
    expect(imp.kind).toBe('block');
    expect(imp.origin).toEqual({ kind: 'import_tasks', target: 'tasks/common.yml', file: join(DIR, 'tasks/common.yml') });
    expect(imp.keywords.tags).toEqual(['imp']);
    expect(imp.keywords.when).toEqual([expect.objectContaining({ expr: 'x is defined' })]);
    expect(imp.block.map((t) => t.name)).toEqual(['shared one', 'shared two']);
    const nested = p.tasks[2] as Block;
    const deeper = nested.block[1] as Block;
    expect(deeper.origin?.file).toBe(join(DIR, 'tasks/nested/deeper.yml')); // relative to the importing file's dir
    const fq = p.tasks[4] as Block;
    expect(fq.origin?.target).toBe('tasks/common.yml');
    expect(fq.keywords.vars?.get('q')?.value).toBe(1);
  });

  it('imported tasks inherit the importer tags and conditions (each imported task, as Ansible)', () => {
    const tasks = planned(load('03-import-tasks.yml').plays[0]!);
    expect(tasks[0]!.ctx.tags).toEqual(['imp']);
    expect(tasks[1]!.ctx.tags).toEqual(['imp', 'two']);
    expect(tasks[1]!.ctx.when.map((c) => c.expr)).toEqual(['x is defined']);
    expect(byName(tasks, 'deeper task').ctx.tags).toEqual(['nested', 'deeper', 'deep_t']);
  });

  it('keep include_tasks as a typed node, resolved at load when its name is static', () => {
    const p = load('03-import-tasks.yml').plays[0]!;
    const inc = p.tasks[3] as IncludeTasks;
    expect(inc.kind).toBe('include_tasks');
    expect(inc.file).toBe('tasks/common.yml');
    expect(inc.resolved).toBe(join(DIR, 'tasks/common.yml'));
    expect(inc.keywords.tags).toEqual(['inc']);
    const t = load('14-templated-static.yml').plays[0]!;
    expect((t.tasks[0] as Block).origin?.file).toBe(join(DIR, 'tasks/common.yml')); // import path templated with play vars
    const dyn = t.tasks[1] as IncludeTasks;
    expect(dyn.file).toBe("{{ task_dir }}/{{ which | default('common') }}.yml");
    expect(dyn.resolved).toBeUndefined();
  });

  it('resolve role-relative imports through the import chain', () => {
    const web = load('02-roles.yml').plays[0]!.roles[1]!.role;
    const setup = web.tasks[2] as Block;
    expect(setup.origin?.file).toBe(join(DIR, 'roles/web/tasks/sub/setup.yml'));
    expect((setup.block[1] as Block).origin?.file).toBe(join(DIR, 'roles/web/tasks/sub/leaf.yml'));
    expect((web.tasks[1] as IncludeTasks).resolved).toBe(join(DIR, 'roles/web/tasks/extra.yml'));
    expect(web.tasks.every((t) => t.role === web)).toBe(true);
  });

  it('type include_role, import_role and include_vars', () => {
    const p = load('07-include.yml').plays[0]!;
    const ir = p.tasks[0] as IncludeRole;
    expect(ir).toMatchObject({ kind: 'include_role', roleName: 'addon', tasksFrom: 'alt', resolved: join(DIR, 'roles/addon') });
    const ir2 = p.tasks[1] as IncludeRole;
    expect(ir2.roleName).toBe('common');
    const imp = p.tasks[2] as ImportRole;
    expect(imp.kind).toBe('import_role');
    expect(imp.ref.role.files.tasks).toBe(join(DIR, 'roles/addon/tasks/alt.yml'));
    expect(imp.ref.role.fromInclude).toBe(true);
    const withApply = p.tasks[4] as IncludeTasks;
    expect(withApply.apply?.keywords.tags).toEqual(['applied']);
    const iv = p.tasks[5] as IncludeVars;
    expect(iv).toMatchObject({ kind: 'include_vars', source: { file: 'vars/x.yml' } });
    expect((p.tasks[6] as IncludeTasks).keywords.loop).toEqual([1, 2]);
  });

  it('expand include_tasks at run time: the include passes down only vars and `apply`', () => {
    const pb = load('07-include.yml');
    const plan = compilePlay(pb.plays[0]!);
    const inc = plan.main.find((pn) => pn.node.name === 'include with apply')!;
    expect(inc.ctx.tags).toEqual(['always']);
    const nodes = expandIncludeTasks(pb, inc, 'tasks/common.yml');
    expect(nodes.map((n) => n.node.name)).toEqual(['shared one', 'shared two']);
    expect(nodes[0]!.ctx.tags).toEqual(['applied']); // not `always`: include keywords stay on the include
    expect(nodes[1]!.ctx.tags).toEqual(['applied', 'two']);
    expect(nodes[0]!.ctx.chain.map((c) => c.kind)).toEqual(['play', 'include_tasks', 'apply']);
    expect(nodes[0]!.ctx.includeDepth).toBe(1);
    expect(() => expandIncludeTasks(pb, inc, 'tasks/none.yml')).toThrow(/include_tasks: file not found: tasks\/none.yml/);
  });

  it('expand include_role at run time with tasks_from, sharing the play role cache', () => {
    const pb = load('07-include.yml');
    const plan = compilePlay(pb.plays[0]!);
    const ir = plan.main.find((pn) => pn.node.name === 'include role')!;
    const r = expandIncludeRole(pb, ir, 'addon', { tasks: 'alt' });
    expect(r.role.name).toBe('addon');
    expect(r.nodes.map(taskLabel)).toEqual(['addon : addon alt']);
    expect(r.nodes[0]!.ctx.role).toBe(r.role);
    expect(expandIncludeRole(pb, ir, 'addon', { tasks: 'alt' }).role).toBe(r.role);
    const base = expandIncludeRole(pb, plan.main[1]!, 'web');
    expect(leaves(base.nodes).map(taskLabel).slice(0, 5)).toEqual(['common : common hello', 'common : detect os', 'common : os packages', 'common : untagged common', 'base : base task']);
    expect(() => expandIncludeRole(pb, ir, 'nope')).toThrow(/role 'nope' not found/);
  });

  it('carry import_playbook when/tags/vars onto the imported plays', () => {
    const plays = load('06-import-playbook.yml').plays;
    expect(plays.map((p) => p.name)).toEqual(['basics', 'middle', 'sub play', 'localhost']);
    expect(plays[0]!.when.map((c) => c.expr)).toEqual(['do_basic | default(true)']);
    expect(plays[0]!.keywords.tags).toEqual(['play1', 'imported']);
    expect(plays[0]!.file).toBe(join(DIR, '01-basic.yml'));
    expect(plays[0]!.importedFrom).toEqual([expect.objectContaining({ file: join(DIR, '06-import-playbook.yml'), line: 1 })]);
    expect(plays[2]!.vars.get('subvar')?.value).toBe(1);
    expect(plays[2]!.dir).toBe(join(DIR, 'sub'));
    expect(plays[2]!.roles[0]!.role.path).toBe(join(DIR, 'sub/roles/subrole')); // roles/ next to the imported playbook
    expect(plays[3]!.keywords.tags).toEqual(['sub_imp', 'inner_imp']);
    expect(plays[3]!.vars.get('subvar')?.value).toBe(1);
    expect(plays[3]!.importedFrom).toHaveLength(2);
    // the carried condition applies to every task of the play
    expect(planned(plays[0]!)[0]!.ctx.when.map((c) => c.expr)).toEqual(['do_basic | default(true)']);
  });
});

describe('compiled plays: order, handlers, inheritance', () => {
  it('orders pre_tasks, roles (dependencies first), tasks, post_tasks', () => {
    const plan = compilePlay(load('08-pre-post.yml').plays[0]!);
    expect(leaves(plan.pre_tasks).map(taskLabel)).toEqual(['pre one']);
    expect(leaves(plan.main).map(taskLabel)).toEqual([
      'common : common hello', 'common : detect os', 'common : os packages', 'common : untagged common', 'main one', 'meta', 'explicit meta',
    ]);
    expect(leaves(plan.post_tasks).map(taskLabel)).toEqual(['post one', 'shared one', 'shared two']);
    const main = leaves(plan.main);
    expect(task(main[5]!.node).action).toMatchObject({ module: 'meta', freeForm: 'flush_handlers' });
    expect(task(main[6]!.node).action).toMatchObject({ module: 'meta', freeForm: 'noop' });
    expect(task(main[4]!.node).keywords.notify).toEqual(['h1', 'topic']);
  });

  it('lists handlers: play handlers (imports flattened), then role handlers', () => {
    const plan = compilePlay(load('08-pre-post.yml').plays[0]!);
    expect(plan.handlers.map(taskLabel)).toEqual(['h1', 'h2', 'h3', 'common : restart common']);
    expect(task(plan.handlers[1]!.node).listen).toEqual(['topic']);
    expect(plan.handlers[3]!.ctx.role?.name).toBe('common');
    const web = compilePlay(load('02-roles.yml').plays[0]!).handlers.map(taskLabel);
    expect(web).toEqual(['common : restart common', 'common : restart common', 'web : restart web']);
  });

  it('resolves inherited keywords: nearest wins, environment and conditions accumulate outermost first', () => {
    const tasks = planned(load('13-inheritance.yml').plays[0]!);
    const dup = byName(tasks, 'dup task');
    expect(dup.ctx.role?.name).toBe('dup');
    expect(dup.ctx.when.map((c) => c.expr)).toEqual(['role_cond']);
    expect(dup.ctx.effective).toMatchObject({ become: true, become_user: 'app', environment: [{ PLAY: '1' }] });
    const inner = byName(tasks, 'inner task');
    expect(inner.ctx.when.map((c) => c.expr)).toEqual(['block_cond', 'task_cond']);
    expect(inner.ctx.effective).toMatchObject({ become: false, delegate_to: 'localhost', environment: [{ PLAY: '1' }, { BLOCK: '1' }, { TASK: '1' }] });
    expect(inner.ctx.tags).toEqual(['outer']);
    const shared = byName(tasks, 'shared two');
    expect(shared.ctx.when.map((c) => c.expr)).toEqual(['block_cond', 'import_cond']);
    expect(shared.ctx.tags).toEqual(['outer', 'imp', 'two']);
    expect(shared.ctx.chain.map((c) => c.kind)).toEqual(['play', 'block', 'import_tasks']);
    expect(shared.ctx.chain[2]!.keywords.vars?.get('iv')?.value).toBe(2);
    expect(shared.ctx.effective.become).toBe(false);
  });

  it('computes tags through roles, dependencies, blocks and imports', () => {
    const tasks = planned(load('02-roles.yml').plays[0]!);
    const leaf = tasks.find((pn) => pn.node.name === 'web leaf')!;
    expect([...leaf.ctx.tags].sort()).toEqual(['leaf', 'leaf_t', 'setup', 'web']);
    const viaDep = tasks.filter((pn) => taskLabel(pn) === 'common : os packages')[1]!;
    expect([...viaDep.ctx.tags].sort()).toEqual(['from_base', 'os', 'pkg', 'web']);
    expect(viaDep.ctx.depChain.map((r) => r.name)).toEqual(['web', 'base']);
  });
});

describe('tag selection', () => {
  it('follows ansible-playbook: all, tagged, untagged, always, never', () => {
    const cases: [string[], string[], string[], boolean][] = [
      [[], [], [], true],
      [[], [], ['never'], false],
      [[], ['x'], ['always'], true],
      [['x'], [], [], false],
      [['x'], [], ['x', 'never'], true],
      [['never'], [], ['never'], true],
      [['tagged'], [], ['a'], true],
      [['tagged'], [], [], false],
      [['tagged'], [], ['never', 'a'], false],
      [['untagged'], [], [], true],
      [['untagged'], [], ['a'], false],
      [[], ['always'], ['always'], false],
      [[], ['all'], ['always'], true],
      [[], ['all'], ['a'], false],
      [[], ['tagged'], ['a'], false],
      [[], ['tagged'], [], true],
      [[], ['a'], ['a', 'b'], false],
      [['all'], [], ['always', 'never'], true],
    ];
    for (const [tags, skipTags, taskTags, expected] of cases) {
      expect(shouldRun(taskTags, { tags, skipTags }), JSON.stringify({ tags, skipTags, taskTags })).toBe(expected);
    }
  });

  it('selectTasks keeps blocks while something in them runs', () => {
    const plan = compilePlay(load('04-blocks.yml').plays[0]!);
    const sel = selectTasks(plan.main, { tags: ['inner_t'] });
    expect(sel).toHaveLength(1);
    expect(leaves(sel).map(taskLabel)).toEqual(['b2 nested']);
    expect(leaves(selectTasks(plan.main, { tags: ['rescue_t'] })).map(taskLabel)).toEqual(['r1']);
    expect(selectTasks(plan.main, { tags: ['nothing'] })).toEqual([]);
  });

  it('listTasks gives the ansible-playbook listing', () => {
    const [p] = listTasks(load('04-blocks.yml'));
    expect(p).toMatchObject({ index: 1, name: 'all', hosts: 'all', tags: ['p4'], taskTags: ['inner_t', 'nested_block', 'outer', 'p4'] });
    expect(p!.tasks.map((t) => [t.name, t.tags])).toEqual([
      ['b1', ['outer', 'p4']], ['b2 nested', ['inner_t', 'nested_block', 'outer', 'p4']], ['after block', ['p4']],
    ]);
    const [q] = listTasks(load('09-multi-play.yml'), { tags: ['never'] }).slice(2);
    expect(q!.hosts).toBe('all'); // templated host pattern, as ansible-playbook lists it
  });
});
