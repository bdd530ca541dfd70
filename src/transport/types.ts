/**
 * The transport interface every step and module uses to act on a target host. Two implementations
 * behave the same: `ssh` (ssh2, pooled connection per host) and `local` (`ansible_connection=local`,
 * child_process). Targets need only a POSIX sh: every operation is a shell command line, never Python.
 */
import type { Readable } from 'node:stream';

export interface BecomeOptions {
  /** user to become (default root) */
  user?: string;
  /** sudo password; fed on stdin after sudo's unique prompt, never in argv or env. Absent → `sudo -n`. */
  password?: string;
}

export interface ExecOptions {
  /** bytes fed to the command's stdin (after the sudo password, when one is needed); EOF follows */
  stdin?: string | Uint8Array;
  /** exported in the target shell (after become, so sudo's env_reset keeps them) */
  env?: Record<string, string>;
  /** working directory on the target; the command fails with rc 1 when it does not exist */
  cwd?: string;
  /** seconds; 0/undefined = none. On expiry the whole remote process group is killed and CommandTimeoutError thrown */
  timeout?: number;
  /** run through sudo; `true` = root without password (`sudo -n`) */
  become?: boolean | BecomeOptions;
}

export interface ExecResult {
  rc: number;
  stdout: string;
  stderr: string;
  /** name of the signal ("TERM", "KILL" …) when the command was ended by one */
  signal?: string;
}

export interface PutOptions {
  /** file mode, number (0o640) or octal string ("0640"); default 0644 */
  mode?: number | string;
  owner?: string;
  group?: string;
  become?: boolean | BecomeOptions;
  /** seconds; 0/undefined = none */
  timeout?: number;
}

export interface GetOptions {
  become?: boolean | BecomeOptions;
  timeout?: number;
}

export interface Transport {
  /** inventory name of the host this transport reaches */
  readonly host: string;
  /** 'ssh' or 'local' */
  readonly kind: 'ssh' | 'local';
  /** opens the connection now (ssh) so connection errors surface before the first command; idempotent */
  connect(): Promise<void>;
  /** runs a POSIX sh command line; resolves with its exit status (non-zero rc is not an error) */
  exec(cmd: string, opts?: ExecOptions): Promise<ExecResult>;
  /** writes a file atomically on the target: temp file in the same directory, chmod/chown, then rename */
  put(content: string | Uint8Array | Readable, path: string, opts?: PutOptions): Promise<void>;
  /** reads a whole file from the target */
  get(path: string, opts?: GetOptions): Promise<Buffer>;
  /** releases this host's connection (the pool closes it when the last user is done) */
  close(): Promise<void>;
}

/** Why a host could not be reached or a become failed; `ping` tells these apart. */
export type FailureReason =
  | 'refused'
  | 'timeout'
  | 'dns'
  | 'auth'
  | 'hostkey'
  | 'unreachable'
  | 'lost'
  | 'become'
  | 'command-timeout'
  /** a file operation failed on a reachable host (permission denied, no such directory …) */
  | 'remote'
  | 'config';
