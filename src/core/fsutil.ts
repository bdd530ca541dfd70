import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Atomic file writes: the data goes to a temp file in the target's directory (so the rename is atomic on
 * one filesystem), created with the final mode (a secret is never world-readable), fsynced, then committed
 * by rename (or by link(2) when the target must not exist yet), and the directory is fsynced. Readers see
 * the old or the new file, never a partial one.
 */
function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Directory fsync is best-effort (not supported on every filesystem).
  }
}

export interface StagedFile {
  readonly path: string;
  readonly tmp: string;
  /** rename over the target (replaces an existing file) */
  commitReplace(): void;
  /** create the target only if it does not exist (EEXIST otherwise); the temp file is removed either way */
  commitNoClobber(): void;
  /** remove the temp file (no-op after a commit) */
  abort(): void;
}

export function stageFile(path: string, data: string | Uint8Array, mode: number): StagedFile {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  let done = false;
  return {
    path,
    tmp,
    commitReplace() {
      renameSync(tmp, path);
      done = true;
      fsyncDir(dir);
    },
    commitNoClobber() {
      try {
        linkSync(tmp, path);
        done = true;
      } finally {
        rmSync(tmp, { force: true });
      }
      fsyncDir(dir);
    },
    abort() {
      if (!done) rmSync(tmp, { force: true });
    },
  };
}

/** Write a file atomically (see above), replacing it when it exists. */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const staged = stageFile(path, data, mode);
  try {
    staged.commitReplace();
  } catch (e) {
    staged.abort();
    throw e;
  }
}
