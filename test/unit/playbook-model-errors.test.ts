/**
 * Every validation error of the playbook model, on fixture files: the error is a ParseError (exit 4) that
 * names the file, line and column of the offending key, says what is wrong, and carries a hint.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, ParseError } from '../../src/core/errors.js';
import { floorModules, loadPlaybook } from '../../src/playbook/index.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'playbooks', 'errors');

interface Case {
  file: string;
  /** the file the error points into, when not `file` */
  at?: string;
  line: number;
  col?: number;
  message: RegExp;
  hint?: RegExp;
}

const CASES: Case[] = [
  { file: 'unknown-keyword.yml', line: 5, col: 7, message: /^`whne` is not a valid task keyword$/, hint: /did you mean `when`\?/ },
  { file: 'unknown-keyword-nomodule.yml', line: 4, col: 7, message: /`delegate_too` is not a valid task keyword/, hint: /`delegate_to`/ },
  { file: 'unknown-play-keyword.yml', line: 2, col: 3, message: /`task` is not a valid keyword for a play/, hint: /did you mean `tasks`\?/ },
  { file: 'no-module.yml', line: 3, col: 7, message: /this task has no module/, hint: /indentation/ },
  { file: 'two-modules.yml', line: 5, col: 7, message: /only one module, found `debug` and `command`/, hint: /one task per module/ },
  { file: 'unknown-module.yml', line: 4, col: 7, message: /unknown module `debgu`/, hint: /did you mean `debug`\?/ },
  { file: 'block-with-module.yml', line: 5, col: 7, message: /a block cannot have a module \(`debug`\)/, hint: /inside `block:`/ },
  { file: 'block-loop.yml', line: 5, col: 7, message: /`loop` is not a valid keyword for a block/, hint: /loop over `include_tasks`/ },
  { file: 'block-task-keyword.yml', line: 5, col: 7, message: /`register` is not a valid keyword for a block/, hint: /tasks only/ },
  { file: 'rescue-without-block.yml', line: 4, col: 7, message: /`rescue` cannot be used without `block`/, hint: /block:/ },
  { file: 'handler-block.yml', line: 3, col: 7, message: /blocks are not supported in handlers/ },
  { file: 'when-type.yml', line: 6, col: 11, message: /`when` must be a condition .* got a mapping/, hint: /quote the condition/ },
  { file: 'loop-type.yml', line: 4, col: 7, message: /`loop` must be a list or a template .* 'my_list'/, hint: /loop: "\{\{ my_list \}\}"/ },
  { file: 'loop-and-with.yml', line: 5, col: 7, message: /`loop` and `with_items` cannot be used together/ },
  { file: 'loop-control-key.yml', line: 6, col: 9, message: /unknown loop_control option `loopvar`/, hint: /`loop_var`/ },
  { file: 'retries-type.yml', line: 6, col: 7, message: /`retries` must be an integer or a template, got a string 'three'/, hint: /\{\{ three \}\}/ },
  { file: 'bool-type.yml', line: 4, col: 7, message: /`become` must be a boolean, got a string 'maybe'/ },
  { file: 'tags-type.yml', line: 4, col: 7, message: /`tags` must be a list or a comma-separated string, got a mapping/ },
  { file: 'vars-type.yml', line: 2, col: 10, message: /`vars` must be a mapping of variable names to values, got a list/ },
  { file: 'register-name.yml', line: 4, col: 7, message: /invalid variable name in `register`: 'my-result'/ },
  { file: 'args-type.yml', line: 4, col: 7, message: /`args` must be a mapping or a template, got a string/, hint: /\{\{ chdir \}\}/ },
  { file: 'environment-type.yml', line: 4, col: 7, message: /`environment` must be a mapping or a template, got the string 'proxy_env'/ },
  { file: 'action-and-local.yml', line: 4, col: 7, message: /`action` and `local_action` cannot be used together/ },
  { file: 'listen-on-task.yml', line: 4, col: 7, message: /`listen` is only valid on handlers/ },
  { file: 'free-form.yml', line: 3, col: 13, message: /`copy` takes `key: value` arguments, not free-form text \('extra words'\)/ },
  { file: 'module-args.yml', line: 5, col: 9, message: /^template: missing required argument: dest$/, hint: /add dest/ },
  { file: 'module-exclusive.yml', line: 5, col: 9, message: /copy: arguments are mutually exclusive: src, content/ },
  { file: 'module-list-args.yml', line: 3, col: 7, message: /arguments of `debug` must be a mapping or a `key=value` string, got a list/ },
  { file: 'meta-unknown.yml', line: 3, col: 13, message: /unknown meta action 'flush_handler'/, hint: /`flush_handlers`/ },
  { file: 'task-not-mapping.yml', line: 3, col: 7, message: /a task must be a mapping .* got a string 'debug'/ },
  { file: 'include-removed.yml', line: 3, col: 7, message: /`include` was removed/ },
  { file: 'import-playbook-in-tasks.yml', line: 3, col: 7, message: /`import_playbook` is only valid at the top level/ },
  { file: 'import-loop-keyword.yml', line: 4, col: 7, message: /`import_tasks` cannot loop/, hint: /include_tasks/ },
  { file: 'include-become.yml', line: 4, col: 7, message: /`become` cannot be set on include_tasks/, hint: /apply: \{become/ },
  { file: 'include-vars-both.yml', line: 5, col: 9, message: /include_vars takes `file` or `dir`, not both/ },
  { file: 'include-role-option.yml', line: 5, col: 9, message: /invalid option `task_from` for include_role/, hint: /`tasks_from`/ },
  { file: 'include-role-tasks-from.yml', line: 5, col: 9, message: /role 'common' has no tasks file 'missing'/ },
  { file: 'missing-role.yml', line: 3, col: 7, message: /role 'comon' not found/, hint: /did you mean `common`\?.*searched .*errors\/roles/ },
  { file: 'role-name-missing.yml', line: 3, col: 7, message: /a role reference needs a role name/ },
  { file: 'role-loop.yml', at: 'roles/loop_b/meta/main.yml', line: 1, col: 17, message: /role dependency loop: loop_a → loop_b → loop_a/ },
  { file: 'role-meta-key.yml', at: 'roles/badmeta/meta/main.yml', line: 2, col: 1, message: /`allow_duplicate` is not a valid role meta key/, hint: /`allow_duplicates`/ },
  { file: 'import-not-found.yml', line: 3, col: 21, message: /import_tasks: file not found: tasks\/nope\.yml/, hint: /looked in: .*errors\/tasks\/nope\.yml/ },
  { file: 'include-not-found.yml', line: 4, col: 9, message: /include_tasks: file not found: tasks\/nope\.yml/ },
  { file: 'import-template-undefined.yml', line: 3, col: 21, message: /cannot resolve the template in import_tasks '\{\{ undefined_dir \}\}\/x\.yml'/, hint: /play vars and extra vars/ },
  { file: 'import-loop.yml', at: 'tasks/loop-b.yml', line: 1, col: 17, message: /import loop: import-loop\.yml → tasks\/loop-a\.yml → tasks\/loop-b\.yml → tasks\/loop-a\.yml/ },
  { file: 'playbook-loop.yml', line: 3, col: 3, message: /import_playbook loop: playbook-loop\.yml → playbook-loop\.yml/ },
  { file: 'import-playbook-keyword.yml', line: 2, col: 3, message: /`become` cannot be set on import_playbook/ },
  { file: 'hosts-missing.yml', line: 1, col: 3, message: /this play has no `hosts`/, hint: /hosts: <pattern>/ },
  { file: 'hosts-empty.yml', line: 1, col: 3, message: /`hosts` is an empty list/ },
  { file: 'serial-type.yml', line: 2, col: 3, message: /`serial` entries must be a host count, a percentage/ },
  { file: 'vars-prompt-name.yml', line: 3, col: 7, message: /a `vars_prompt` entry needs a `name`/ },
  { file: 'duplicate-key.yml', line: 5, col: 7, message: /duplicate key/ },
  { file: 'yaml-error.yml', line: 5, message: /^invalid YAML: /, hint: /indentation/ },
  { file: 'not-a-list.yml', line: 1, col: 1, message: /a playbook must be a list of plays, got a mapping/, hint: /- hosts:/ },
  { file: 'play-not-mapping.yml', line: 3, col: 3, message: /a playbook entry must be a play or an import_playbook, got a string/ },
  { file: 'empty.yml', line: 1, message: /empty playbook/ },
];

function loadError(file: string): ParseError {
  try {
    loadPlaybook(join(DIR, file), { modules: floorModules() });
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error(`${file}: loaded without an error`);
}

describe('playbook model: validation errors name file:line:col, what is wrong and a hint', () => {
  it.each(CASES)('$file', (c) => {
    const e = loadError(c.file);
    expect(e.exitCode).toBe(ExitCode.parse);
    expect(e.pos?.file).toBe(join(DIR, c.at ?? c.file));
    expect(e.pos?.line).toBe(c.line);
    if (c.col !== undefined) expect(e.pos?.col).toBe(c.col);
    expect(e.message).toMatch(c.message);
    if (c.hint) expect(e.hint).toMatch(c.hint);
    expect(e.stack === undefined || !e.message.includes('    at ')).toBe(true);
  });

  it('covers every error fixture', async () => {
    const { readdirSync } = await import('node:fs');
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yml') && f !== 'playbook-ok.yml');
    expect(files.sort()).toEqual(CASES.map((c) => c.file).sort());
  });

  it('a missing playbook is a ParseError too', () => {
    expect(() => loadPlaybook(join(DIR, 'no-such.yml'), { modules: floorModules() })).toThrow(/playbook not found/);
  });
});
