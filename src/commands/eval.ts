import { readFileSync } from 'node:fs';
import { Args, Command, Flags } from '@oclif/core';
import { projectFlags } from './flags.js';

export default class Eval extends Command {
  static override summary = "Evaluate a Jinja2 expression or render a template file with a host's variables (changes nothing).";
  static override description = 'The fastest way to debug a template: same variables and precedence as a run (facts are not gathered).';
  static override examples = [
    "<%= config.bin %> eval control1 'groups.kube_control_plane | length' -i inventory/ceph",
    "<%= config.bin %> eval control1 'ha[ha_level]' -i inventory/ceph -e @vars.yml.sample",
    '<%= config.bin %> eval control1 --template playbooks/roles/haproxy/templates/haproxy.cfg.j2 -i inventory/ceph -e @vars.yml.sample',
  ];
  static override args = {
    host: Args.string({ required: true, description: 'inventory host whose variables are used' }),
    expression: Args.string({ required: false, description: 'Jinja2 expression (without {{ }})' }),
  };
  static override flags = { ...projectFlags, template: Flags.string({ description: 'render this template file instead' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Eval);
    if (!args.expression && !flags.template) this.error('give an expression or --template FILE', { exit: 5 });
    const { openProject } = await import('../app/project.js');
    const { redact } = await import('../vault/redact.js');
    const project = await openProject(flags);
    project.requireHost(args.host);
    const scope = project.scope(args.host);
    const out = flags.template
      ? String(scope.render(readFileSync(flags.template, 'utf8'), flags.template, { file: flags.template }))
      : scope.render(`{{ ${args.expression} }}`, 'expression');
    process.stdout.write(redact(typeof out === 'string' ? out : JSON.stringify(out, null, 2)) + '\n');
  }
}
