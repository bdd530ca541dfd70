/**
 * Entry point for the rest of the runner: `Connections` hands out one Transport per inventory host
 * (local or ssh) for the whole run and closes them at the end. The ssh implementation (ssh2 + crypto)
 * is imported only when the first ssh host is contacted, so local-only runs start fast.
 */
import { LocalTransport } from './local.js';
import type { PromptFn } from './keys.js';
import type { HostKeyMode } from './knownhosts.js';
import type { SshPool, SshPoolOptions } from './ssh.js';
import { resolveConnection, type ConnectionDefaults, type HostConnection } from './spec.js';
import type { BecomeOptions, ExecOptions, ExecResult, GetOptions, PutOptions, Transport } from './types.js';
import type { Readable } from 'node:stream';

export type { Transport, ExecOptions, ExecResult, PutOptions, GetOptions, BecomeOptions } from './types.js';
export { TransportError, BecomeError, CommandTimeoutError, isTransportError } from './errors.js';
export { resolveConnection } from './spec.js';

export interface ConnectionsOptions extends ConnectionDefaults {
  connectTimeout?: number;
  maxChannels?: number;
  hostKeyChecking?: HostKeyMode;
  knownHostsFile?: string;
  prompt?: PromptFn;
  agent?: string | false;
  keepaliveInterval?: number;
  keepaliveCountMax?: number;
  /** variables of any inventory host (for jump hosts named by inventory name) */
  lookupHost?: (name: string) => Record<string, unknown> | undefined;
}

/** Resolves lazily to the ssh transport of one host, so callers can treat every host the same way. */
class LazySshTransport implements Transport {
  readonly kind = 'ssh' as const;
  readonly host: string;
  private inner: Promise<Transport> | undefined;
  private readonly make: () => Promise<Transport>;

  constructor(host: string, make: () => Promise<Transport>) {
    this.host = host;
    this.make = make;
  }

  private t(): Promise<Transport> {
    this.inner ??= this.make();
    return this.inner;
  }

  async connect(): Promise<void> {
    return (await this.t()).connect();
  }
  async exec(cmd: string, opts?: ExecOptions): Promise<ExecResult> {
    return (await this.t()).exec(cmd, opts);
  }
  async put(content: string | Uint8Array | Readable, path: string, opts?: PutOptions): Promise<void> {
    return (await this.t()).put(content, path, opts);
  }
  async get(path: string, opts?: GetOptions): Promise<Buffer> {
    return (await this.t()).get(path, opts);
  }
  async close(): Promise<void> {
    if (this.inner) await (await this.inner).close();
  }
}

export interface HostHandle {
  transport: Transport;
  connection: HostConnection;
  /** the host's become settings (user, password) from its variables */
  become: BecomeOptions;
}

export class Connections {
  private readonly opts: ConnectionsOptions;
  private pool: Promise<SshPool> | undefined;
  private readonly handles = new Map<string, HostHandle>();

  constructor(opts: ConnectionsOptions = {}) {
    this.opts = opts;
  }

  private sshPool(): Promise<SshPool> {
    this.pool ??= import('./ssh.js').then(({ SshPool }) => {
      const o = this.opts;
      const po: SshPoolOptions = {
        connectTimeout: o.connectTimeout,
        maxChannels: o.maxChannels,
        hostKeyChecking: o.hostKeyChecking,
        knownHostsFile: o.knownHostsFile,
        prompt: o.prompt,
        agent: o.agent,
        keepaliveInterval: o.keepaliveInterval,
        keepaliveCountMax: o.keepaliveCountMax,
      };
      return new SshPool(po);
    });
    return this.pool;
  }

  /** The transport of one inventory host (one per host for the whole run), from its merged variables. */
  forHost(name: string, vars: Record<string, unknown>): HostHandle {
    let h = this.handles.get(name);
    if (h) return h;
    const connection = resolveConnection(name, vars, { defaults: this.opts, lookupHost: this.opts.lookupHost });
    const transport: Transport =
      connection.kind === 'local'
        ? new LocalTransport(name)
        : new LazySshTransport(name, async () => (await this.sshPool()).transport(connection.target));
    h = { transport, connection, become: connection.become };
    this.handles.set(name, h);
    return h;
  }

  /** Closes every transport and connection of the run. */
  async closeAll(): Promise<void> {
    const hs = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(hs.map((h) => h.transport.close()));
    if (this.pool) await (await this.pool).closeAll();
  }
}
