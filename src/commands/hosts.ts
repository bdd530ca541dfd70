import { Command, Flags } from '@oclif/core';
import { projectFlags } from './flags.js';

export default class Hosts extends Command {
  static override summary = 'List the hosts; with --vitals, their load, CPU, memory, swap, disk usage and uptime (one probe per host).';
  static override examples = ['<%= config.bin %> hosts --vitals', '<%= config.bin %> hosts --vitals -i inventory/ceph --limit kube_control_plane --json'];
  static override flags = {
    ...projectFlags,
    vitals: Flags.boolean({ description: 'probe every host for its vitals' }),
    limit: Flags.string({ char: 'l', description: 'host pattern' }),
    json: Flags.boolean({ description: 'print JSON' }),
    forks: Flags.integer({ char: 'f', min: 1, description: 'hosts probed in parallel' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Hosts);
    const { hostsReport } = await import('../app/hosts.js');
    const r = await hostsReport(flags);
    process.stdout.write(r.text);
    if (r.code) this.exit(r.code);
  }
}
