/**
 * `ansible_connection=local`: the same shell protocol as ssh (src/transport/shell.ts), run by a local
 * `/bin/sh` started as a session leader (detached), exactly as sshd starts a remote command.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { runExec, runGet, runPut, type RawChannel, type RunContext } from './shell.js';
import type { ExecOptions, ExecResult, GetOptions, PutOptions, Transport } from './types.js';

export class LocalTransport implements Transport {
  readonly kind = 'local' as const;
  private readonly ctx: RunContext;
  private readonly running = new Set<number>();
  private closed = false;

  readonly host: string;

  constructor(host: string) {
    this.host = host;
    this.ctx = { host, open: (line) => this.open(line) };
  }

  async connect(): Promise<void> {}

  private async open(line: string): Promise<RawChannel> {
    const child = spawn('/bin/sh', ['-c', line], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const pid = child.pid;
    if (pid !== undefined) this.running.add(pid);
    let failCb: ((e: Error) => void) | undefined;
    let doneCb: ((code: number | null, signal: string | null) => void) | undefined;
    let done: [number | null, string | null] | undefined;
    let spawnError: Error | undefined;
    child.on('error', (e) => {
      spawnError = e;
      failCb?.(e);
    });
    child.on('close', (code, signal) => {
      if (pid !== undefined) this.running.delete(pid);
      done = [code, signal ? signal.replace(/^SIG/, '') : null];
      doneCb?.(done[0], done[1]);
    });
    return {
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      onDone(cb) {
        doneCb = cb;
        if (done) cb(done[0], done[1]);
      },
      onFail(cb) {
        failCb = cb;
        if (spawnError) cb(spawnError);
      },
      abort() {
        if (pid !== undefined && child.exitCode === null) {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }
      },
    };
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pid of this.running) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    this.running.clear();
  }
}
