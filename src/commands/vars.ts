import { Args, Command, Flags } from '@oclif/core';
import { formatPos } from '../core/errors.js';
import { projectFlags } from './flags.js';
import { relative } from 'node:path';
import type { Definition } from '../vars/scope.js';

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

function shortPos(d: Definition): string {
  const rel = relative(process.cwd(), d.def.pos.file);
  return formatPos({ ...d.def.pos, file: rel && !rel.startsWith('..') ? rel : d.def.pos.file });
}

function where(d: Definition): string {
  return `${shortPos(d)}  (${d.layer.kind}${d.layer.label.startsWith('[') || d.layer.label.startsWith('host ') ? ' ' + d.layer.label : ''})`;
}

export default class Vars extends Command {
  static override summary = "Print a host's merged variables, one variable, or where a variable comes from.";
  static override description =
    'Variables are merged with Ansible precedence (inventory group vars < group_vars/all < group_vars/<group> < inventory host vars < host_vars < vars.yml < -e). ' +
    'Templated values are evaluated with the host\'s variables. --explain lists every source that defines VAR, lowest precedence first, with file:line, marks the winner and shows the variables its value refers to.';
  static override examples = [
    '<%= config.bin %> vars localhost',
    '<%= config.bin %> vars control1 keepalived_vip -i inventory/ceph',
    '<%= config.bin %> vars control1 inter --explain -i inventory/ceph -e @vars.yml.sample',
  ];
  static override args = {
    host: Args.string({ required: true, description: 'inventory host name' }),
    var: Args.string({ required: false, description: 'one variable name' }),
  };
  static override flags = {
    ...projectFlags,
    explain: Flags.boolean({ description: 'show every source of VAR in precedence order, with file:line' }),
    json: Flags.boolean({ description: 'print JSON' }),
    raw: Flags.boolean({ description: 'print values as written (templates not evaluated)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Vars);
    // Loaded only now: oclif loads every command class at start-up.
    const { openProject } = await import('../app/project.js');
    const { redact } = await import('../vault/redact.js');
    // Vault values are shown as ******** everywhere here; `./run vault get /name` is the way to read one.
    const log = (s: string): void => this.log(redact(s));
    const project = await openProject(flags);
    const host = args.host;
    project.requireHost(host);
    const scope = project.scope(host);
    if (flags.explain) {
      if (!args.var) this.error('--explain needs a variable name: ./run vars HOST VAR --explain', { exit: 5 });
      const ex = scope.explain(args.var);
      if (flags.json) {
        log(
          JSON.stringify(
            {
              host,
              var: ex.name,
              value: ex.value,
              error: ex.error,
              definitions: ex.definitions.map((d, i) => ({
                source: d.layer.kind,
                label: d.layer.label,
                pos: d.def.pos,
                value: d.def.value,
                winner: i === ex.definitions.length - 1,
              })),
              references: ex.references.map((r) => ({ name: r.name, pos: r.winner?.def.pos, source: r.winner?.layer.kind, magic: r.magic ?? false })),
            },
            null,
            2,
          ),
        );
        return;
      }
      if (!ex.definitions.length) {
        log(`${ex.name} is not defined for ${host}${scope.has(ex.name) ? ' (it is a magic variable the runner provides)' : ''}`);
        if (ex.value !== undefined) log(`value: ${show(ex.value)}`);
        return;
      }
      log(`${ex.name} on ${host}`);
      log(ex.error ? `  value: cannot evaluate: ${ex.error}` : `  value: ${show(ex.value)}`);
      log('  defined in (lowest precedence first):');
      ex.definitions.forEach((d, i) => {
        const win = i === ex.definitions.length - 1;
        log(`  ${win ? '→' : ' '} ${i + 1}. ${where(d)}`);
        log(`        ${show(d.def.value)}${win ? '   ← wins' : '   (overridden)'}`);
      });
      if (ex.references.length) {
        log('  its value refers to:');
        for (const r of ex.references) {
          if (r.winner) log(`    ${r.name}  ← ${where(r.winner)}`);
          else log(`    ${r.name}  ← ${r.magic ? 'magic variable (provided by the runner)' : 'NOT DEFINED'}`);
        }
      }
      return;
    }
    if (args.var) {
      const v = flags.raw ? scope.merged().get(args.var)?.def.value : scope.get(args.var);
      log(flags.json || typeof v !== 'string' ? JSON.stringify(v, null, 2) : v);
      return;
    }
    const all: Record<string, unknown> = {};
    const merged = scope.merged();
    for (const k of [...merged.keys()].sort()) all[k] = flags.raw ? merged.get(k)!.def.value : scope.get(k);
    log(JSON.stringify(all, null, 2));
  }
}
