/**
 * File helpers of the vault (staged atomic writes are in core/fsutil: the create flow prepares vault.yml
 * and .vaultpass completely, then commits both back to back and rolls back the first if the second fails):
 * - wipe: overwrite with zeros, fsync, unlink — for decrypted text during `vault edit`. Synchronous, so it
 *   also runs from process 'exit' handlers.
 */
import { closeSync, fsyncSync, fstatSync, lstatSync, openSync, readdirSync, rmdirSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export { stageFile, type StagedFile } from '../core/fsutil.js';

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

