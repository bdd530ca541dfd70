/**
 * The run journal: `.run/state.json` in the project directory. It records, per step, its status, times,
 * per-host recap counts, log directory and the fingerprint of the configuration it ran with, so that
 * gating ("a step starts only when every earlier applicable step succeeded for this configuration"),
 * resume and `./run status` all read one source of truth.
 *
 * Writes are atomic (temp + fsync + rename): a crash or Ctrl-C never leaves a half-written journal.
 * A lock file (`.run/lock`, O_EXCL, holding pid/host/command/time) keeps two runs from overlapping; a lock
 * whose pid is dead on this machine is stale and is taken over with a notice.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ParseError, RunError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fsutil.js';
import type { RecapCounts } from '../output/events.js';

export type StepStatus = 'never-run' | 'running' | 'succeeded' | 'failed' | 'interrupted';

/** Per-host recap counts, as in PLAY RECAP. */
export type HostRecap = RecapCounts;

export interface VerifyResult {
  name: string;
  passed: boolean;
  detail?: string;
}

export interface StepRecord {
  status: StepStatus;
  startedAt?: string;
  endedAt?: string;
  fingerprint?: string;
  /** hosts the step must cover (its plays' hosts, without --limit) */
  targets?: string[];
  /** hosts on which the step completed, for this fingerprint (a --limit or --resume run adds to it) */
  done?: string[];
  /** files behind the fingerprint and their hashes, to tell what changed */
  files?: Record<string, string>;
  limit?: string;
  forced?: { at: string; missing: string[] };
  recap?: Record<string, HostRecap>;
  /** hosts that failed or were unreachable, with the task they stopped at (for --resume) */
  pending?: Record<string, { task?: string; taskPos?: string; reason: string; notified?: string[]; play?: number }>;
  verify?: VerifyResult[];
  logDir?: string;
  exitCode?: number;
  message?: string;
}

export interface JournalData {
  version: 1;
  steps: Record<string, StepRecord>;
}

export class Journal {
  readonly dir: string;
  readonly file: string;
  data: JournalData;

  constructor(projectDir: string) {
    this.dir = join(projectDir, '.run');
    this.file = join(this.dir, 'state.json');
    this.data = this.read();
  }

  private read(): JournalData {
    if (!existsSync(this.file)) return { version: 1, steps: {} };
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (e) {
      throw new ParseError(`run journal is not valid JSON: ${(e as Error).message}`, {
        pos: { file: this.file },
        hint: 'it is written atomically, so this means it was edited by hand; restore it or delete it to forget all step results',
      });
    }
    const d = parsed as JournalData;
    if (d?.version !== 1 || typeof d.steps !== 'object') {
      throw new ParseError('run journal has an unknown format', { pos: { file: this.file }, hint: 'delete it to start over' });
    }
    return d;
  }

  step(name: string): StepRecord {
    return this.data.steps[name] ?? { status: 'never-run' };
  }

  update(name: string, patch: Partial<StepRecord>): StepRecord {
    const rec = { ...this.step(name), ...patch };
    this.data.steps[name] = rec;
    this.save();
    return rec;
  }

  save(): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(this.file, JSON.stringify(this.data, null, 2) + '\n', 0o644);
  }
}

export interface LockInfo {
  pid: number;
  host: string;
  command: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the project lock or throw a RunError naming the holder. Returns a release function. */
export function acquireLock(projectDir: string, command: string, onStale?: (l: LockInfo) => void): () => void {
  const dir = join(projectDir, '.run');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'lock');
  const me: LockInfo = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, JSON.stringify(me) + '\n');
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          const cur = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
          if (cur.pid === me.pid && cur.host === me.host) rmSync(file, { force: true });
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder: LockInfo | undefined;
      try {
        holder = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
      } catch {
        holder = undefined;
      }
      if (holder && holder.host === hostname() && !alive(holder.pid)) {
        onStale?.(holder);
        rmSync(file, { force: true });
        continue;
      }
      throw new RunError(
        holder
          ? `another run holds the lock: '${holder.command}' (pid ${holder.pid} on ${holder.host}, since ${holder.since})`
          : `the lock file ${file} exists but cannot be read`,
        {
          exitCode: 1,
          hint: holder
            ? 'wait for it to finish; if that process is gone (e.g. a crashed session on another machine), delete ' + file
            : `delete ${file} if no other run is active`,
        },
      );
    }
  }
  throw new RunError(`could not take the lock ${file}`, { exitCode: 1 });
}
