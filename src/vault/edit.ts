/**
 * `vault edit FILE`: the one place decrypted text is written to a file, because an editor needs one.
 * It goes to a private directory (0700, from mkdtemp) under /dev/shm when that is a writable tmpfs — memory,
 * not disk — else under the system temp dir (with a warning). The file is 0600. After the editor exits, on
 * an error, on SIGINT/SIGTERM/SIGHUP and at process exit, every file in that directory (editors leave swap
 * and backup files) is overwritten with zeros and removed, and the directory with it.
 * The vault file is re-encrypted — same password, same vault id — only when the text changed.
 */
import { spawn } from 'node:child_process';
import { accessSync, chmodSync, closeSync, constants, mkdtempSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { RunError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fsutil.js';
import { VaultInterruptedError } from './errors.js';
import { decryptFile } from './file.js';
import { wipeDir } from './fsx.js';
import { audit, debug } from './log.js';
import type { VaultSecrets } from './secrets.js';

export interface EditOptions {
  /** editor command (shell words); default $EDITOR, else vi */
  editor?: string;
  /** parent of the private dir; default RUN_VAULT_TMPDIR, else /dev/shm, else os.tmpdir() */
  tmpRoot?: string;
  logDir?: string;
  /** called with a warning line (e.g. falling back to a disk-backed temp dir) */
  warn?: (msg: string) => void;
}

export interface EditResult {
  changed: boolean;
  label: string;
}

function usable(dir: string): boolean {
  try {
    if (!statSync(dir).isDirectory()) return false;
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function pickTmpRoot(explicit?: string): { dir: string; memory: boolean } {
  if (explicit) return { dir: explicit, memory: explicit.startsWith('/dev/shm') };
  const env = process.env.RUN_VAULT_TMPDIR;
  if (env) return { dir: env, memory: env.startsWith('/dev/shm') };
  if (usable('/dev/shm')) return { dir: '/dev/shm', memory: true };
  return { dir: tmpdir(), memory: false };
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_EXIT: Record<(typeof SIGNALS)[number], number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

export async function editVaultFile(file: string, secrets: VaultSecrets, opts: EditOptions = {}): Promise<EditResult> {
  const { plaintext, fileLabel, secret } = decryptFile(file, secrets);
  const root = pickTmpRoot(opts.tmpRoot);
  if (!root.memory) (opts.warn ?? ((m) => process.stderr.write(`WARNING: ${m}\n`)))(`no /dev/shm: the decrypted text is kept in ${root.dir} (disk) while you edit; it is wiped afterwards`);
  const dir = mkdtempSync(join(root.dir, 'run-vault-edit-'));
  chmodSync(dir, 0o700);
  const path = join(dir, basename(file));
  // Idempotent: runs again after the editor is gone, in case it wrote (a swap file) after an early wipe.
  const wipe = (): void => {
    wipeDir(dir);
    debug(`wiped the edit directory ${dir}`);
  };
  process.on('exit', wipe);
  let child: ReturnType<typeof spawn> | undefined;
  let running = false;
  let gotSignal: (typeof SIGNALS)[number] | undefined;
  const onSignal = (sig: (typeof SIGNALS)[number]): void => {
    // Ctrl-C belongs to the editor while it runs (vim users press it to leave insert mode): ignore it here,
    // as git does. SIGTERM / SIGHUP (terminal closed) end the session: stop the editor, wipe now.
    if (sig === 'SIGINT' && running) return;
    gotSignal = sig;
    if (running) child?.kill('SIGTERM');
    wipe();
    if (!running) process.exit(SIGNAL_EXIT[sig]);
  };
  const handlers = SIGNALS.map((s) => [s, () => onSignal(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      let off = 0;
      while (off < plaintext.length) off += writeSync(fd, plaintext, off, plaintext.length - off);
    } finally {
      closeSync(fd);
    }
    debug(`decrypted copy for editing at ${path} (0600, dir 0700)`);
    const editor = opts.editor ?? process.env.EDITOR ?? 'vi';
    // Like git: the shell splits $EDITOR ("code --wait", "vim -n"), the file is passed as "$1".
    const code = await new Promise<number | string>((done, fail) => {
      child = spawn('/bin/sh', ['-c', `${editor} "$1"`, 'editor', path], { stdio: 'inherit' });
      running = true;
      child.on('error', fail);
      child.on('exit', (c, sig) => done(sig ?? c ?? 1));
    }).finally(() => {
      running = false;
    });
    if (gotSignal) throw new VaultInterruptedError(`interrupted by ${gotSignal}: ${file} is unchanged and the decrypted copy was wiped`);
    if (typeof code === 'string') throw new VaultInterruptedError(`the editor was killed by ${code}: ${file} is unchanged and the decrypted copy was wiped`);
    if (code !== 0) throw new RunError(`the editor (${editor}) exited with ${code}: the vault file is unchanged`, { pos: { file } });
    let edited: Buffer;
    try {
      edited = readFileSync(path);
    } catch {
      throw new RunError('the editor removed the file: the vault file is unchanged', { pos: { file } });
    }
    if (edited.equals(plaintext)) {
      debug(`no change in ${file}`);
      audit(opts.logDir, { op: 'edit', file: resolve(file), vault_id: fileLabel, result: 'unchanged' });
      return { changed: false, label: fileLabel };
    }
    const envelope = secret.encrypt(edited, fileLabel);
    edited.fill(0);
    writeFileAtomic(file, envelope, 0o600);
    audit(opts.logDir, { op: 'edit', file: resolve(file), vault_id: fileLabel, result: 'changed' });
    return { changed: true, label: fileLabel };
  } finally {
    plaintext.fill(0);
    wipe();
    for (const [s, h] of handlers) process.off(s, h);
    process.off('exit', wipe);
  }
}
