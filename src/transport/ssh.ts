/**
 * SSH transport on ssh2, with a connection pool: one connection per host, opened on first use and
 * reused by every task of a run; commands are channels multiplexed on it, at most `maxChannels` at a
 * time (below sshd's MaxSessions, 10 by default). A connection that fails or breaks marks its host
 * unreachable: everything queued or started on it fails with the reason, other hosts carry on.
 *
 * This module is heavy (ssh2, crypto) and is imported lazily, only when an ssh host is contacted.
 */
import { userInfo } from 'node:os';
import type { Readable } from 'node:stream';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, Client as SshClient, ClientChannel, ConnectConfig, ServerHostKeyAlgorithm } from 'ssh2';
import { TransportError } from './errors.js';
import { KeyStore, expandHome, type PromptFn } from './keys.js';
import { KnownHosts, blobType, fingerprint, hostField, type HostKeyMode } from './knownhosts.js';
import { runExec, runGet, runPut, type RawChannel, type RunContext } from './shell.js';
import type { ExecOptions, ExecResult, GetOptions, PutOptions, Transport } from './types.js';

/** Where and as whom to connect; resolved from inventory vars by src/transport/spec.ts. */
export interface SshTarget {
  /** inventory name (used in messages) */
  name: string;
  /** address to connect to (ansible_host, or the name) */
  address: string;
  port: number;
  user: string;
  /** explicit private key (ansible_ssh_private_key_file / private_key_file) */
  keyFile?: string;
  /** ansible_password: password / keyboard-interactive auth */
  password?: string;
  /** reached through this host (ProxyJump): a forwarded TCP channel over the jump host's connection */
  jump?: SshTarget;
  /** per-host overrides (`-o UserKnownHostsFile=…`, `-o StrictHostKeyChecking=…`, ansible_host_key_checking) */
  knownHostsFile?: string;
  hostKeyChecking?: HostKeyMode;
}

export interface SshPoolOptions {
  /** seconds for TCP connect + SSH handshake + auth (config `timeout`) */
  connectTimeout?: number;
  /** milliseconds between keepalives; the link is declared dead after keepaliveCountMax unanswered */
  keepaliveInterval?: number;
  keepaliveCountMax?: number;
  /** concurrent channels per connection; must stay below the server's MaxSessions (10) */
  maxChannels?: number;
  hostKeyChecking?: HostKeyMode;
  knownHostsFile?: string;
  /** asks for key passphrases (once per key); undefined = no terminal: encrypted keys need the agent */
  prompt?: PromptFn;
  /** ssh-agent socket; default $SSH_AUTH_SOCK; false = do not use an agent */
  agent?: string | false;
  /** keys tried when a target names none (default ~/.ssh/id_ed25519, id_ecdsa, id_rsa if present and unencrypted) */
  defaultKeyFiles?: string[];
}

const DEFAULT_MAX_CHANNELS = 8;

function targetKey(t: SshTarget): string {
  // Credentials are part of the key: two inventory aliases of one machine with different keys get two connections.
  return `${t.user}@${t.address}:${t.port} key=${t.keyFile ?? ''} pw=${t.password === undefined ? 0 : 1}${t.jump ? ` via ${targetKey(t.jump)}` : ''}`;
}

function where(t: SshTarget): string {
  return `${t.user}@${hostField(t.address, t.port).replace(/^([^[].*)$/, '$1:22')}${t.jump ? ` via ${t.jump.address}` : ''}`;
}

const RSA_ALGS = ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
const HOSTKEY_ALGS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', ...RSA_ALGS];

/** Host key algorithms with those already recorded for the host first, as OpenSSH orders them. */
function hostKeyOrder(known: string[]): string[] {
  const first: string[] = [];
  for (const t of known) {
    if (t === 'ssh-rsa') first.push(...RSA_ALGS);
    else if (HOSTKEY_ALGS.includes(t)) first.push(t);
  }
  return [...new Set([...first, ...HOSTKEY_ALGS])];
}

type Waiter = { resolve: () => void; reject: (e: Error) => void };

/** The server refused a channel (MaxSessions reached, for a moment or for good). */
class ChannelRefused extends TransportError {
  constructor(message: string, opts: { host: string }) {
    super('unreachable', message, { ...opts, exitCode: 2 });
  }
}
/** retries of a refused channel open (10 ms, 20 ms, … 200 ms apart: about 2 s in all) */
const OPEN_RETRIES = 20;

/** One ssh2 connection to one host. */
class Connection {
  readonly target: SshTarget;
  readonly ready: Promise<void>;
  client: SshClient | undefined;
  dead: TransportError | undefined;
  private active = 0;
  private readonly queue: Waiter[] = [];
  private readonly inflight = new Set<(e: Error) => void>();
  /** number of completed logins (1 per connection; tests count them in sshd's log) */
  readonly openedAt = Date.now();

  constructor(
    target: SshTarget,
    private readonly pool: SshPool,
  ) {
    this.target = target;
    this.ready = this.establish();
    this.ready.catch(() => undefined);
  }

  private async establish(): Promise<void> {
    const t = this.target;
    const opts = this.pool.opts;
    const timeoutMs = (opts.connectTimeout ?? 10) * 1000;
    const auth = await this.pool.authList(t);
    if (auth.methods.length === 0) {
      throw this.markDead(
        new TransportError('auth', `no credentials to log in as ${t.user}: no key file, no ssh-agent, no password`, {
          host: t.name,
          hint: 'set ansible_ssh_private_key_file (or private_key_file in run.cfg), start ssh-agent, or set ansible_password',
        }),
      );
    }
    let sock: Readable | undefined;
    if (t.jump) {
      const jump = this.pool.connection(t.jump);
      try {
        await jump.ready;
        sock = await jump.forward(t.address, t.port, timeoutMs);
      } catch (e) {
        const why = e instanceof TransportError ? e.message : (e as Error).message;
        const reason = e instanceof TransportError && !e.host?.startsWith(t.jump.name) ? e.reason : 'unreachable';
        throw this.markDead(
          new TransportError(reason === 'hostkey' || reason === 'auth' ? reason : 'unreachable', `cannot reach ${t.address}:${t.port} through jump host ${t.jump.name}: ${why}`, {
            host: t.name,
            cause: e,
          }),
        );
      }
    }
    const kh = this.pool.knownHostsFor(t.knownHostsFile);
    const mode = t.hostKeyChecking ?? opts.hostKeyChecking ?? 'accept-new';
    let hostKeyError: TransportError | undefined;
    const client = new ssh2.Client();
    this.client = client;
    const config: ConnectConfig = {
      host: t.address,
      port: t.port,
      username: t.user,
      readyTimeout: timeoutMs,
      keepaliveInterval: opts.keepaliveInterval ?? 15_000,
      keepaliveCountMax: opts.keepaliveCountMax ?? 3,
      authHandler: auth.methods as ConnectConfig['authHandler'],
      algorithms: { serverHostKey: hostKeyOrder(mode === 'off' ? [] : kh.knownTypes(t.address, t.port)) as ServerHostKeyAlgorithm[] },
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        if (mode === 'off') return verify(true);
        const v = kh.check(t.address, t.port, key);
        const fp = fingerprint(key);
        if (v.status === 'ok') return verify(true);
        if (v.status === 'mismatch') {
          const known = v.known.map((e) => `${fingerprint(e.blob)} (${e.file}:${e.line})`).join(', ');
          hostKeyError = new TransportError(
            'hostkey',
            `HOST KEY MISMATCH for ${t.name} (${hostField(t.address, t.port)}): known_hosts has ${blobType(key)} key ${known}, the host presented ${fp}. Someone may be intercepting the connection, or the host was reinstalled.`,
            { host: t.name, hint: `if the host was reinstalled, remove the old key: ssh-keygen -R '${hostField(t.address, t.port)}' -f ${kh.file}` },
          );
          return verify(false);
        }
        if (v.status === 'revoked') {
          hostKeyError = new TransportError('hostkey', `host key ${fp} of ${t.name} is marked @revoked in ${v.entry.file}:${v.entry.line}`, { host: t.name });
          return verify(false);
        }
        if (mode === 'strict') {
          hostKeyError = new TransportError(
            'hostkey',
            `host key of ${t.name} (${hostField(t.address, t.port)}, ${blobType(key)} ${fp}) is not in ${kh.file} and host_key_checking is strict`,
            { host: t.name, hint: 'verify the fingerprint out of band and add it to known_hosts, or use host_key_checking = accept-new for first contact' },
          );
          return verify(false);
        }
        kh.append(t.address, t.port, key).then(
          () => verify(true),
          (e: Error) => {
            hostKeyError = new TransportError('hostkey', `could not record the host key of ${t.name} in ${kh.file}: ${e.message}`, { host: t.name });
            verify(false);
          },
        );
      },
    };
    if (sock) config.sock = sock;
    await new Promise<void>((resolve, reject) => {
      let done = false;
      client.on('keyboard-interactive', (_n, _i, _l, prompts, finish) => finish(prompts.map(() => t.password ?? '')));
      client.once('ready', () => {
        done = true;
        resolve();
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (!done) {
          done = true;
          reject(this.markDead(hostKeyError ?? this.classify(err, auth.tried)));
          client.end();
          return;
        }
        this.lost(
          err.level === 'client-timeout'
            ? new TransportError('lost', `connection to ${t.name} stopped answering keepalives (${where(t)})`, { host: t.name })
            : new TransportError('lost', `connection to ${t.name} failed: ${err.message}`, { host: t.name }),
        );
      });
      client.on('close', () => {
        if (!done) {
          done = true;
          reject(this.markDead(hostKeyError ?? new TransportError('lost', `${where(t)} closed the connection during the handshake`, { host: t.name })));
          return;
        }
        this.lost(new TransportError('lost', `connection to ${t.name} (${where(t)}) was closed by the remote end`, { host: t.name }));
      });
      try {
        client.connect(config);
        // ssh2 leaves Nagle on: each small packet then waits for a delayed ACK (~40 ms per command).
        client.setNoDelay(true);
      } catch (e) {
        done = true;
        reject(this.markDead(new TransportError('config', `cannot connect to ${t.name}: ${(e as Error).message}`, { host: t.name })));
      }
    });
  }

  private classify(err: Error & { level?: string; code?: string }, tried: string[]): TransportError {
    const t = this.target;
    const host = t.name;
    const code = err.code ?? '';
    if (code === 'ECONNREFUSED') return new TransportError('refused', `connection refused by ${where(t)} (is sshd running?)`, { host });
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL')
      return new TransportError('dns', `cannot resolve host name ${JSON.stringify(t.address)} (${code})`, {
        host,
        hint: 'set ansible_host to an address, or add the name to /etc/hosts on the deployer',
      });
    if (err.level === 'client-timeout' || code === 'ETIMEDOUT')
      return new TransportError('timeout', `timed out after ${this.pool.opts.connectTimeout ?? 10}s connecting to ${where(t)} (no SSH handshake)`, {
        host,
        hint: 'the host is down, firewalled or overloaded; raise timeout in run.cfg if it is just slow',
      });
    if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new TransportError('unreachable', `no route to ${where(t)} (${code})`, { host });
    if (err.level === 'client-authentication')
      return new TransportError('auth', `authentication failed for ${where(t)} (tried: ${tried.join(', ') || 'nothing'})`, {
        host,
        hint: 'check ansible_user, the key (ansible_ssh_private_key_file), the ssh-agent, or ansible_password',
      });
    if (code === 'ECONNRESET' || code === 'EPIPE') return new TransportError('lost', `${where(t)} reset the connection during the handshake`, { host });
    return new TransportError('unreachable', `cannot connect to ${where(t)}: ${err.message}`, { host });
  }

  private markDead(e: TransportError): TransportError {
    if (!this.dead) this.dead = e;
    const q = this.queue.splice(0);
    for (const w of q) w.reject(this.dead);
    return this.dead;
  }

  private lost(e: TransportError): void {
    const first = !this.dead;
    this.markDead(e);
    if (first) for (const f of [...this.inflight]) f(this.dead!);
    this.inflight.clear();
  }

  private async slot(): Promise<void> {
    if (this.dead) throw this.dead;
    const max = Math.max(1, this.pool.opts.maxChannels ?? DEFAULT_MAX_CHANNELS);
    if (this.active < max) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve, reject) => this.queue.push({ resolve, reject }));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next.resolve();
    else this.active--;
  }

  /** Opens a direct-tcpip channel to dst (this connection is the jump host). */
  async forward(dstHost: string, dstPort: number, timeoutMs: number): Promise<ClientChannel> {
    await this.ready;
    if (this.dead) throw this.dead;
    const client = this.client!;
    return new Promise<ClientChannel>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to the forwarding request within ${timeoutMs / 1000}s`)), timeoutMs);
      client.forwardOut('127.0.0.1', 0, dstHost, dstPort, (err, stream) => {
        clearTimeout(timer);
        if (err) reject(new Error(`the jump host could not open a connection to ${dstHost}:${dstPort} (${err.message})`));
        else resolve(stream);
      });
    });
  }

  /** Starts a command on a channel of this connection (waits for a free channel slot). */
  async open(line: string): Promise<RawChannel> {
    await this.ready;
    await this.slot();
    const client = this.client!;
    const t = this.target;
    let exit: [number | null, string | null] | undefined;
    const attempt = () =>
      new Promise<ClientChannel>((resolve, reject) => {
        if (this.dead) return reject(this.dead);
        const onLost = (e: Error) => reject(e);
        this.inflight.add(onLost);
        client.exec(line, (err, s) => {
          this.inflight.delete(onLost);
          if (err) {
            reject(this.dead ?? new ChannelRefused(`${t.name} refused to open a command channel: ${err.message}`, { host: t.name }));
            return;
          }
          // Listen now, not after the await: a fast command's exit status can arrive in the same read
          // as the channel confirmation, and ssh2 emits 'exit' only once.
          s.on('exit', (code: number | null, signal?: string) => {
            exit = [code ?? null, signal ? String(signal).replace(/^SIG/, '') : null];
          });
          resolve(s);
        });
      });
    let stream: ClientChannel | undefined;
    try {
      // sshd frees a closed session a moment after the close reaches it, so a channel opened right
      // after another one closed can briefly exceed MaxSessions: retry a refused open, bounded.
      for (let i = 0; ; i++) {
        try {
          stream = await attempt();
          break;
        } catch (e) {
          if (!(e instanceof ChannelRefused) || i >= OPEN_RETRIES) throw e;
          await new Promise((r) => setTimeout(r, 10 * (i + 1)));
        }
      }
    } catch (e) {
      this.release();
      throw e;
    }
    let doneCb: ((code: number | null, signal: string | null) => void) | undefined;
    let failCb: ((e: Error) => void) | undefined;
    let closed = false;
    let failed: Error | undefined;
    const onLost = (e: Error) => {
      failed = e;
      failCb?.(e);
    };
    this.inflight.add(onLost);
    stream.on('close', () => {
      if (closed) return;
      closed = true;
      this.inflight.delete(onLost);
      this.release();
      if (!exit) {
        // No exit status: the link died under the command (sshd killed, network cut).
        setImmediate(() =>
          onLost(
            this.dead ??
              new TransportError('lost', `the connection to ${t.name} broke while a command was running (no exit status received)`, { host: t.name }),
          ),
        );
        return;
      }
      doneCb?.(exit[0], exit[1]);
    });
    stream.on('error', () => {
      /* surfaced through close / the connection */
    });
    return {
      stdin: stream,
      stdout: stream,
      stderr: stream.stderr,
      onDone(cb) {
        doneCb = cb;
        if (closed && exit) cb(exit[0], exit[1]);
      },
      onFail(cb) {
        failCb = cb;
        if (failed) cb(failed);
      },
      abort() {
        if (!closed) stream.close();
      },
    };
  }

  end(): void {
    this.markDead(new TransportError('unreachable', `connection to ${this.target.name} was closed by the runner`, { host: this.target.name }));
    this.client?.end();
  }
}

/** The run's SSH connections, one per (user, address, port, jump). */
export class SshPool {
  readonly opts: SshPoolOptions;
  readonly keys: KeyStore;
  /** default identities (~/.ssh/id_*): read once per run, never prompted for */
  private readonly defaultKeys = new KeyStore();
  private readonly conns = new Map<string, Connection>();
  private readonly knownHostsFiles = new Map<string, KnownHosts>();

  constructor(opts: SshPoolOptions = {}) {
    this.opts = opts;
    this.keys = new KeyStore(opts.prompt);
  }

  /** The known_hosts file of a target (its own, else the pool's), one reader/writer per file. */
  knownHostsFor(file?: string): KnownHosts {
    const f = expandHome(file ?? this.opts.knownHostsFile ?? '~/.ssh/known_hosts');
    let kh = this.knownHostsFiles.get(f);
    if (!kh) {
      kh = new KnownHosts(f);
      this.knownHostsFiles.set(f, kh);
    }
    return kh;
  }

  connection(t: SshTarget): Connection {
    const k = targetKey(t);
    let c = this.conns.get(k);
    if (!c) {
      c = new Connection(t, this);
      this.conns.set(k, c);
    }
    return c;
  }

  transport(t: SshTarget): SshTransport {
    return new SshTransport(t, this);
  }

  /** The auth methods for a target, in order: its key file, ssh-agent, default keys, password. */
  async authList(t: SshTarget): Promise<{ methods: AuthMethod[]; tried: string[] }> {
    const methods: AuthMethod[] = [];
    const tried: string[] = [];
    const username = t.user;
    if (t.keyFile) {
      const k = await this.keys.load(t.keyFile);
      methods.push({ type: 'publickey', username, key: k.parsed as unknown as Buffer });
      tried.push(`key ${k.path} (${k.type})`);
    }
    const agent = this.opts.agent === undefined ? process.env.SSH_AUTH_SOCK : this.opts.agent;
    if (agent) {
      methods.push({ type: 'agent', username, agent });
      tried.push('ssh-agent');
    }
    if (!t.keyFile) {
      const home = userInfo().homedir;
      const defaults = this.opts.defaultKeyFiles ?? [`${home}/.ssh/id_ed25519`, `${home}/.ssh/id_ecdsa`, `${home}/.ssh/id_rsa`];
      const probe = this.defaultKeys;
      for (const f of defaults) {
        try {
          const k = await probe.load(f);
          methods.push({ type: 'publickey', username, key: k.parsed as unknown as Buffer });
          tried.push(`key ${k.path} (${k.type})`);
        } catch {
          /* absent or encrypted default key: skipped, as a missing identity file is for ssh */
        }
      }
    }
    if (t.password !== undefined) {
      methods.push({ type: 'password', username, password: t.password });
      methods.push({ type: 'keyboard-interactive', username, prompt: (_n: string, _i: string, _l: string, prompts: unknown[], finish: (r: string[]) => void) => finish(prompts.map(() => t.password!)) });
      tried.push('password');
    }
    return { methods, tried };
  }

  /** Number of connections opened so far (for diagnostics and tests). */
  get size(): number {
    return this.conns.size;
  }

  /** Closes every connection of the run. */
  async closeAll(): Promise<void> {
    const all = [...this.conns.values()];
    this.conns.clear();
    for (const c of all) c.end();
  }
}

type AuthMethod = AnyAuthMethod;

/** Transport for one inventory host over the pool's shared connection. */
export class SshTransport implements Transport {
  readonly kind = 'ssh' as const;
  readonly host: string;
  private readonly ctx: RunContext;
  private readonly conn: Connection;

  constructor(target: SshTarget, pool: SshPool) {
    this.host = target.name;
    this.conn = pool.connection(target);
    this.ctx = { host: target.name, open: (line) => this.conn.open(line) };
  }

  connect(): Promise<void> {
    return this.conn.ready;
  }

  exec(cmd: string, opts?: ExecOptions): Promise<ExecResult> {
    return runExec(this.ctx, cmd, opts);
  }

  put(content: string | Uint8Array | Readable, path: string, opts?: PutOptions): Promise<void> {
    return runPut(this.ctx, content, path, opts);
  }

  get(path: string, opts?: GetOptions): Promise<Buffer> {
    return runGet(this.ctx, path, opts);
  }

  /** The connection stays open for the rest of the run (other tasks reuse it); SshPool.closeAll ends it. */
  async close(): Promise<void> {}
}
