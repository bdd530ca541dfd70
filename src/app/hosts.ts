/** `./run hosts --vitals`: one probe per host, in parallel, as a table or JSON. */
import type { ProjectFlagValues } from '../commands/flags.js';
import { parseVitals, VITALS_PROBE, type Vitals } from '../facts/vitals.js';
import { selectHosts } from '../inventory/patterns.js';
import { connectionsFor, lazyHostVars } from './connections.js';
import { openProject } from './project.js';

export interface HostsFlags extends ProjectFlagValues {
  limit?: string;
  vitals?: boolean;
  json?: boolean;
  forks?: number;
}

interface Row {
  host: string;
  vitals?: Vitals;
  error?: string;
}

function uptime(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m`;
}

export async function hostsReport(flags: HostsFlags): Promise<{ text: string; code: number }> {
  const project = await openProject(flags);
  const names = selectHosts(project.inventory, flags.limit ?? 'all', { source: flags.limit ? '--limit' : 'inventory' });
  if (!flags.vitals) {
    const rows = names.map((h) => ({ host: h, address: String(lazyHostVars(project, h).ansible_host ?? h) }));
    return { text: flags.json ? JSON.stringify(rows, null, 2) + '\n' : rows.map((r) => `${r.host.padEnd(24)} ${r.address}`).join('\n') + '\n', code: 0 };
  }
  const connections = connectionsFor(project);
  const rows: Row[] = [];
  try {
    let next = 0;
    const forks = flags.forks ?? project.config.get('forks');
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(forks, names.length)) }, async () => {
        while (next < names.length) {
          const host = names[next++]!;
          try {
            const t = connections.forHost(host, lazyHostVars(project, host)).transport;
            const r = await t.exec(VITALS_PROBE, { timeout: 30 });
            rows.push(r.stdout.includes('@@end') ? { host, vitals: parseVitals(r.stdout) } : { host, error: `probe failed (rc ${r.rc})` });
          } catch (e) {
            rows.push({ host, error: (e as Error).message });
          }
        }
      }),
    );
  } finally {
    await connections.closeAll();
  }
  rows.sort((a, b) => names.indexOf(a.host) - names.indexOf(b.host));
  const code = rows.some((r) => r.error) ? 3 : 0;
  if (flags.json) return { text: JSON.stringify(rows, null, 2) + '\n', code };
  const head = ['HOST', 'LOAD 1/5/15', 'CPU USR/SYS/WAIT', 'MEMORY', 'SWAP', 'DISKS', 'UPTIME'];
  const table = rows.map((r) => {
    if (!r.vitals) return [r.host, `unreachable: ${r.error}`, '', '', '', '', ''];
    const v = r.vitals;
    return [
      r.host,
      v.load.map((x) => x.toFixed(2)).join(' '),
      `${v.cpu.user}% ${v.cpu.sys}% ${v.cpu.wait}%`,
      `${v.memory.percent}% (${(v.memory.usedMiB / 1024).toFixed(1)}/${(v.memory.totalMiB / 1024).toFixed(1)}G)`,
      `${v.swap.percent}% (${(v.swap.usedMiB / 1024).toFixed(1)}/${(v.swap.totalMiB / 1024).toFixed(1)}G)`,
      v.disks.map((d) => `${d.mount} ${d.percent}%`).join(', '),
      uptime(v.uptimeSeconds),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return { text: [fmt(head), ...table.map(fmt)].join('\n') + '\n', code };
}
