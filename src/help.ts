/**
 * Root help (`./run`, `./run --help`): the install steps in run order, then the other commands, each with
 * one line and an example. oclif's default would sort everything alphabetically, which hides the order
 * an installer must follow.
 */
import { Help } from '@oclif/core';
import { STEPS } from './steps/registry.js';

export default class RunHelp extends Help {
  protected override async showRootHelp(): Promise<void> {
    const lines: string[] = [];
    lines.push('Offline installer runner: ./run <step> installs OpenStack on Kubernetes over SSH, step by step.', '');
    lines.push('USAGE', '  $ ./run <step|command> [options]      (./run <command> --help shows its options and examples)', '');
    lines.push('INSTALL STEPS, in order (a step starts only when the ones before it succeeded):');
    const w = Math.max(...STEPS.map((s) => s.name.length));
    STEPS.forEach((s, i) => lines.push(`  ${String(i + 1).padStart(2)}. ${s.name.padEnd(w)}  ${s.summary}`));
    lines.push('     (ceph only when in storage_backends; powerflex_* with PowerFlex; registry and landing only offline)', '');
    lines.push('COMMANDS');
    const other: [string, string][] = [
      ['status', 'every step\'s state and what to run next'],
      ['ping', 'check that every host answers over SSH (QA: --checks)'],
      ['hosts', 'host vitals: load, CPU, memory, swap, disks, uptime (--vitals)'],
      ['inventory', 'the inventory as ansible-inventory shows it (--list, --graph, --host)'],
      ['vars', "a host's merged variables; --explain shows where one comes from"],
      ['vault', 'create the cluster secrets; view, edit, rekey, encrypt-string, get'],
      ['playbook', 'run any Ansible-syntax playbook with the runner'],
      ['exec', 'run one module ad hoc on a host pattern (like `ansible`)'],
      ['eval', "evaluate an expression or render a template with a host's variables"],
      ['config', 'effective run.cfg settings and their sources'],
    ];
    const known = new Set(this.config.commands.map((c) => c.id.split(':')[0]));
    const cw = Math.max(...other.map(([n]) => n.length));
    for (const [n, d] of other) if (known.has(n)) lines.push(`  ${n.padEnd(cw)}  ${d}`);
    lines.push('', 'EXAMPLES', '  $ ./run ping -i inventory/ceph', '  $ ./run preflight -i inventory/ceph', '  $ ./run status', '  $ ./run vars control1 keepalived_vip --explain');
    this.log(lines.join('\n'));
  }
}
