/** The run's connection pool, configured from run.cfg and resolving hosts through the project's variables. */
import { terminalPrompt } from '../transport/keys.js';
import { Connections } from '../transport/index.js';
import type { Project } from '../vars/project.js';

/**
 * A host's variables as a read-only view that evaluates each variable when read: only the connection
 * variables are ever evaluated, and a host whose variable fails to evaluate fails alone.
 */
export function lazyHostVars(project: Project, host: string): Record<string, unknown> {
  const scope = project.scope(host);
  return new Proxy({} as Record<string, unknown>, {
    get: (_t, k) => (typeof k === 'string' && scope.has(k) ? scope.get(k) : undefined),
  });
}

export function connectionsFor(project: Project): Connections {
  const config = project.config;
  return new Connections({
    connectTimeout: config.get('timeout'),
    hostKeyChecking: config.get('host_key_checking'),
    knownHostsFile: config.get('known_hosts_file'),
    remoteUser: config.get('remote_user'),
    privateKeyFile: config.get('private_key_file'),
    prompt: terminalPrompt(),
    lookupHost: (n) => (project.inventory.hosts.has(n) ? lazyHostVars(project, n) : undefined),
  });
}
