import { Args, Command, Flags } from '@oclif/core';
import { formatPos, UsageError } from '../core/errors.js';

export default class Inventory extends Command {
  static override summary = 'Show the inventory as Ansible sees it (same output as ansible-inventory).';
  static override description =
    'Reads an INI or YAML inventory file, a directory of them, or a host list (a,b,), with Ansible\'s rules: ' +
    'ranges, :children/:vars, value typing, ungrouped, group depth and ansible_group_priority. ' +
    '--list prints the same JSON as `ansible-inventory --list`, --host the merged variables of one host, ' +
    '--graph the group tree. Variables shown are the inventory\'s own (group_vars/ and host_vars/ files are ' +
    'the vars layer\'s: see ./run vars).';
  static override examples = [
    '<%= config.bin %> inventory --list',
    '<%= config.bin %> inventory --list -i inventory/ceph',
    '<%= config.bin %> inventory --graph -i inventory/ceph',
    '<%= config.bin %> inventory --graph k8s_cluster --vars -i inventory/ceph',
    '<%= config.bin %> inventory --host control1 -i inventory/ceph',
    '<%= config.bin %> inventory --list --yaml -i inventory/powerflex-hci',
  ];
  static override args = {
    group: Args.string({ required: false, description: 'with --graph: the group to start at (default all)' }),
  };
  static override flags = {
    inventory: Flags.string({ char: 'i', multiple: true, description: 'inventory file, directory or host list (repeatable; default: run.cfg `inventory`)' }),
    config: Flags.string({ description: 'config file (default: $RUN_CONFIG, ./run.cfg, <install dir>/run.cfg)' }),
    list: Flags.boolean({ description: 'print all hosts, groups and host variables as JSON' }),
    host: Flags.string({ description: 'print the variables of one host as JSON' }),
    graph: Flags.boolean({ description: 'print the group tree (from GROUP, default all)' }),
    vars: Flags.boolean({ description: 'with --graph: also print variables' }),
    yaml: Flags.boolean({ description: 'with --list/--host: print YAML instead of JSON' }),
    export: Flags.boolean({ description: 'with --list: group vars in their groups, only own vars per host (like ansible-inventory --export)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Inventory);
    const actions = [flags.list, flags.host !== undefined, flags.graph].filter(Boolean).length;
    if (actions !== 1) {
      throw new UsageError(actions ? 'choose only one of --list, --host and --graph' : 'No action selected, at least one of --host, --graph or --list needs to be specified.', {
        hint: 'e.g. ./run inventory --list -i inventory/ceph',
      });
    }
    if (args.group && !flags.graph) throw new UsageError(`unexpected argument '${args.group}'`, { hint: 'a GROUP argument goes with --graph' });
    // Loaded only now: oclif loads every command class at start-up.
    const { loadInventory } = await import('../inventory/load.js');
    const out = await import('../inventory/output.js');
    let sources = flags.inventory;
    if (!sources?.length) {
      const { loadRunConfig } = await import('../config/config.js');
      sources = [loadRunConfig({ configPath: flags.config }).get('inventory')];
    }
    const inv = loadInventory(sources);
    for (const w of inv.warnings) process.stderr.write(`[WARNING]: ${w.pos ? formatPos(w.pos) + ': ' : ''}${w.message}\n`);
    const opts = { export: flags.export };
    let text: string;
    if (flags.graph) text = out.inventoryGraph(inv, args.group ?? 'all', { vars: flags.vars });
    else if (flags.host !== undefined) {
      text = flags.yaml ? out.yamlText(out.inventoryHostObject(inv, flags.host, opts)) : out.inventoryHostJson(inv, flags.host, opts);
    } else text = flags.yaml ? out.inventoryListYaml(inv, opts) : out.inventoryListJson(inv, opts);
    process.stdout.write(text + '\n');
  }
}
