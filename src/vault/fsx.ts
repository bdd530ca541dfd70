/**
 * File helpers the vault needs beyond core/fsutil's one-shot writeFileAtomic:
 * - stageFile: the same temp-in-same-dir + fsync, but the commit is a separate step, so the create flow can
 *   prepare vault.yml and .vaultpass completely and then commit both back to back (and roll back the first
 *   if the second fails). `commitNoClobber` uses link(2), which fails if the target appeared meanwhile.
 * - wipe: overwrite with zeros, fsync, unlink — for decrypted text during `vault edit`. Synchronous, so it
 *   also runs from process 'exit' handlers.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, fstatSync, linkSync, lstatSync, openSync, readdirSync, renameSync, rmdirSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort, as in core/fsutil
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

/** Overwrite a regular file with zeros, fsync, unlink. Missing files are fine. */
export function wipeFile(path: string): void {
  let fd: number;
  try {
    if (!lstatSync(path).isFile()) {
      rmSync(path, { force: true });
      return;
    }
    fd = openSync(path, 'r+');
  } catch {
    rmSync(path, { force: true });
    return;
  }
  try {
    const size = fstatSync(fd).size;
    const zeros = Buffer.alloc(Math.min(size, 1 << 16));
    for (let off = 0; off < size; ) off += writeSync(fd, zeros, 0, Math.min(zeros.length, size - off), off);
    fsyncSync(fd);
  } catch {
    // still unlink below
  } finally {
    closeSync(fd);
  }
  unlinkSync(path);
}

/** Wipe every file under `dir` (editors leave swap and backup files there), then remove the directory. */
export function wipeDir(dir: string, depth = 0): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e);
    let isDir = false;
    try {
      isDir = lstatSync(p).isDirectory();
    } catch {
      continue;
    }
    if (isDir && depth < 8) wipeDir(p, depth + 1);
    else wipeFile(p);
  }
  try {
    rmdirSync(dir);
  } catch {
    rmSync(dir, { recursive: true, force: true });
  }
}

