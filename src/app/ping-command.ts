/** Glue for `./run ping`: project → selected hosts → connections → runPing → lines or JSON, exit code. */
import type { ProjectFlagValues } from '../commands/flags.js';
import { selectHosts } from '../inventory/patterns.js';
import { connectionsFor, lazyHostVars } from './connections.js';
import { openProject } from './project.js';
import { formatLine, formatSummary, pingExitCode, runPing, summarize, useColor, type PingResult } from './ping.js';

export interface PingFlags extends ProjectFlagValues {
  limit?: string;
  become?: boolean;
  checks?: boolean;
  'max-skew'?: number;
  json?: boolean;
  forks?: number;
}

export async function runPingCommand(flags: PingFlags, write: (s: string) => void): Promise<number> {
  const started = performance.now();
  const project = await openProject(flags);
  const config = project.config;
  const names = selectHosts(project.inventory, flags.limit ?? 'all', { source: flags.limit ? '--limit' : 'inventory' });
  const connections = connectionsFor(project);
  const style = { color: !flags.json && useColor(process.stdout) };
  const width = Math.min(40, Math.max(4, ...names.map((n) => n.length)));
  let results: PingResult[];
  try {
    results = await runPing({
      hosts: names.map((name) => ({ name, vars: lazyHostVars(project, name) })),
      connections,
      forks: flags.forks ?? config.get('forks'),
      become: flags.become,
      checks: flags.checks,
      maxSkew: flags['max-skew'],
      commandTimeout: config.get('command_timeout') || 30,
      onResult: flags.json ? undefined : (r) => write(formatLine(r, width, style) + '\n'),
    });
  } finally {
    await connections.closeAll();
  }
  const elapsed = performance.now() - started;
  if (flags.json) {
    write(JSON.stringify({ hosts: results, summary: summarize(results, elapsed) }, null, 2) + '\n');
  } else {
    if (names.length === 0) write('ping: no hosts selected\n');
    write(formatSummary(results, elapsed, style) + '\n');
  }
  return pingExitCode(results);
}
