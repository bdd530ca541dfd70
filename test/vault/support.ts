/**
 * Test support for the vault tests: a private build of the CLI, temp projects, running commands (plain or
 * on a pseudo-terminal), real ansible-vault, and watchers that look for plaintext on disk.
 *
 * The CLI is compiled from the current sources into .run/vault-cli (tsc emits even when another area of the
 * tree has type errors, which would make ./run refuse to start), with a copy of package.json so oclif finds
 * the command map there. RUN_VAULT_TEST_CLI=./run uses the real entry point instead.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunError } from '../../src/core/errors.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NODE = join(REPO, 'node_modules', 'node', 'bin', 'node');
const CLI_DIR = join(REPO, '.run', 'vault-cli');
export const ANSIBLE_VAULT = '/usr/bin/ansible-vault';
export const ANSIBLE = '/usr/bin/ansible';
export const PYTHON = '/usr/bin/python3';
export const hasAnsible = existsSync(ANSIBLE_VAULT);
/** the terminal tests drive the CLI through python's pty module */
export const hasPython = existsSync(PYTHON);

function newestMtime(dir: string): number {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) m = Math.max(m, newestMtime(p));
    else if (e.name.endsWith('.ts')) m = Math.max(m, statSync(p).mtimeMs);
  }
  return m;
}

/** Build (once, under a lock shared by parallel test files) and return the argv prefix to run the CLI. */
export function cli(): string[] {
  if (process.env.RUN_VAULT_TEST_CLI) return [resolve(REPO, process.env.RUN_VAULT_TEST_CLI)];
  mkdirSync(CLI_DIR, { recursive: true });
  const stamp = join(CLI_DIR, '.built');
  const fresh = (): boolean => existsSync(stamp) && statSync(stamp).mtimeMs >= newestMtime(join(REPO, 'src'));
  if (!fresh()) {
    const script =
      `if [ ! -f '${stamp}' ] || [ -n "$(find '${REPO}/src' -newer '${stamp}' -name '*.ts' -print -quit)" ]; then ` +
      `touch '${CLI_DIR}/.start'; ` +
      `'${NODE}' '${REPO}/node_modules/typescript/bin/tsc' -p '${REPO}/tsconfig.json' --outDir '${CLI_DIR}/dist' ` +
      `--tsBuildInfoFile '${CLI_DIR}/tsbuildinfo' >'${CLI_DIR}/build.log' 2>&1; ` +
      `mv '${CLI_DIR}/.start' '${stamp}'; fi`;
    const r = spawnSync('flock', [join(CLI_DIR, '.lock'), 'sh', '-c', script], { stdio: 'inherit', timeout: 300_000 });
    if (r.status !== 0) throw new Error('building the test CLI failed');
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(CLI_DIR, 'package.json'), JSON.stringify(pkg, null, 2));
  }
  if (!existsSync(join(CLI_DIR, 'dist', 'cli.js'))) throw new Error(`no CLI build; see ${CLI_DIR}/build.log`);
  return [NODE, join(CLI_DIR, 'dist', 'cli.js')];
}

export interface Project {
  dir: string;
  cfg: string;
  vaultFile: string;
  passFile: string;
  logDir: string;
  cleanup(): void;
}

/** A temp project dir with a run.cfg (vault_password_file = .vaultpass, log_path = logs). */
export function makeProject(prefix = 'vault-test-'): Project {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const cfg = join(dir, 'run.cfg');
  writeFileSync(cfg, '[defaults]\nvault_password_file = .vaultpass\nlog_path = logs\n');
  mkdirSync(join(dir, 'group_vars', 'all'), { recursive: true });
  return {
    dir,
    cfg,
    vaultFile: join(dir, 'group_vars', 'all', 'vault.yml'),
    passFile: join(dir, '.vaultpass'),
    logDir: join(dir, 'logs'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Base environment for CLI runs: no inherited RUN_* or vault variables. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RUN_') && !k.startsWith('ANSIBLE_')) env[k] = v;
  env.USER = env.USER ?? 'root';
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete env[k];
  else env[k] = v;
  return env;
}

/** Run the CLI (async, so fs.watch callbacks in the test process keep running). */
export function runCli(args: string[], opts: { cwd: string; env?: Record<string, string | undefined>; input?: string | Buffer; timeoutMs?: number }): Promise<RunResult> {
  const [cmd, ...pre] = cli();
  return runProcess(cmd!, [...pre, ...args], opts);
}

export function runProcess(cmd: string, args: string[], opts: { cwd: string; env?: Record<string, string | undefined>; input?: string | Buffer; timeoutMs?: number; rawEnv?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.rawEnv ?? cleanEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** One step of a terminal conversation: wait for `expect` (regex on the output so far), then type `send`. */
export interface PtyStep {
  expect: string;
  send: string;
}

/**
 * Run the CLI on a pseudo-terminal (python's pty module), answering prompts. Returns everything the terminal
 * showed (so a test can check that typed passwords were not echoed).
 */
export function runCliPty(args: string[], steps: PtyStep[], opts: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number }): Promise<RunResult> {
  const [cmd, ...pre] = cli();
  const spec = JSON.stringify({ argv: [cmd, ...pre, ...args], steps, timeout: (opts.timeoutMs ?? 60_000) / 1000 });
  return runProcess(PYTHON, [join(REPO, 'test', 'vault', 'vault_pty.py')], { cwd: opts.cwd, env: opts.env, input: spec, timeoutMs: (opts.timeoutMs ?? 60_000) + 5000 });
}

/** An empty ansible.cfg, so no configuration on this machine changes what ansible does. */
function emptyAnsibleCfg(): string {
  const p = join(tmpdir(), 'vault-tests-empty-ansible.cfg');
  if (!existsSync(p)) writeFileSync(p, '[defaults]\n');
  return p;
}

/** Run real ansible-vault with a clean environment (no ansible.cfg from the cwd). */
export function ansibleVault(args: string[], opts: { cwd: string; input?: string }): RunResult {
  const r = spawnSync(ANSIBLE_VAULT, args, {
    cwd: opts.cwd,
    env: cleanEnv({ ANSIBLE_CONFIG: emptyAnsibleCfg(), ANSIBLE_LOCAL_TEMP: join(opts.cwd, '.ansible-tmp'), ANSIBLE_NOCOLOR: '1' }),
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function ansible(args: string[], opts: { cwd: string }): RunResult {
  const r = spawnSync(ANSIBLE, args, {
    cwd: opts.cwd,
    env: cleanEnv({ ANSIBLE_CONFIG: emptyAnsibleCfg(), ANSIBLE_LOCAL_TEMP: join(opts.cwd, '.ansible-tmp'), ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'false' }),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Watch directories (recursively) while a command runs and read every file an event names, looking for any
 * of the marker strings. Short-lived files may vanish before they are read; `strace` (below) covers those.
 */
export class PlaintextWatcher {
  private watchers: FSWatcher[] = [];
  readonly seen = new Set<string>();
  readonly hits: { path: string; marker: string }[] = [];

  constructor(
    private readonly markers: string[],
    private readonly allowed: (path: string) => boolean = () => false,
  ) {}

  watch(dir: string): this {
    const w = watch(dir, { recursive: true }, (_ev, name) => {
      if (!name) return;
      this.check(join(dir, name.toString()));
    });
    this.watchers.push(w);
    return this;
  }

  check(path: string): void {
    this.seen.add(path);
    let data: string;
    try {
      if (!statSync(path).isFile()) return;
      data = readFileSync(path, 'latin1');
    } catch {
      return;
    }
    for (const m of this.markers) if (data.includes(m) && !this.allowed(path)) this.hits.push({ path, marker: m.slice(0, 4) + '…' });
  }

  /** Final sweep of every file under the dirs, then stop. */
  close(dirs: string[]): void {
    for (const d of dirs) for (const f of listFiles(d)) this.check(f);
    for (const w of this.watchers) w.close();
  }
}

export function listFiles(dir: string, depth = 0): string[] {
  const out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory() && depth < 10) out.push(...listFiles(p, depth + 1));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

export const hasStrace = spawnSync('strace', ['-V'], { encoding: 'utf8' }).status === 0;

/** A path of a file (not a pipe, socket, terminal or /dev/null); /dev/shm counts — it is where edit copies live. */
const isFilePath = (path: string): boolean => path.startsWith('/') && (!path.startsWith('/dev/') || path.startsWith('/dev/shm/'));

/** Every write(2)-family call to a regular file, with its path and data, from an `strace -f -y -xx` log. */
export function fileWritesFromStrace(log: string): { path: string; data: Buffer }[] {
  const out: { path: string; data: Buffer }[] = [];
  const unhex = (s: string): Buffer => Buffer.from(s.replace(/\\x/g, ''), 'hex');
  const re = /\b(?:write|pwrite64)\(\d+<((?:\\x[0-9a-f]{2})+)>, "((?:\\x[0-9a-f]{2})*)"/g;
  for (const m of log.matchAll(re)) {
    const path = unhex(m[1]!).toString('utf8');
    if (!isFilePath(path)) continue;
    out.push({ path, data: unhex(m[2]!) });
  }
  // writev(fd<path>, [{iov_base="…", iov_len=n}, …], k)
  for (const line of log.split('\n')) {
    const m = /\bwritev\(\d+<((?:\\x[0-9a-f]{2})+)>, \[(.*)/.exec(line);
    if (!m) continue;
    const path = unhex(m[1]!).toString('utf8');
    if (!isFilePath(path)) continue;
    const parts = [...m[2]!.matchAll(/iov_base="((?:\\x[0-9a-f]{2})*)"/g)].map((x) => unhex(x[1]!));
    out.push({ path, data: Buffer.concat(parts) });
  }
  return out;
}

/** Run the CLI under strace; returns the run result and the file writes it made. */
export async function runCliTraced(args: string[], opts: { cwd: string; env?: Record<string, string | undefined>; input?: string }): Promise<RunResult & { writes: { path: string; data: Buffer }[] }> {
  const [cmd, ...pre] = cli();
  const log = join(mkdtempSync(join(tmpdir(), 'vault-strace-')), 'trace');
  const r = await runProcess('strace', ['-f', '-y', '-xx', '-s', '1000000', '-e', 'trace=write,pwrite64,writev', '-o', log, cmd!, ...pre, ...args], opts);
  const text = readFileSync(log, 'utf8');
  rmSync(dirname(log), { recursive: true, force: true });
  return { ...r, writes: fileWritesFromStrace(text) };
}

/** Decrypt with real ansible-vault (password file in a temp dir of the test's own). */
export function ansibleDecrypt(file: string, passFile: string, cwd: string, vaultId?: string): RunResult {
  return ansibleVault(['view', ...(vaultId ? ['--vault-id', `${vaultId}@${passFile}`] : ['--vault-password-file', passFile]), file], { cwd });
}

/**
 * Flip bits of one byte of the AES ciphertext inside a vault envelope, keeping the envelope well-formed
 * (valid hex, 80-column wrapping): the damage only the HMAC can see.
 */
export function flipCiphertextByte(envelope: string, index = 5, mask = 0x5a): string {
  const lines = envelope.trimEnd().split('\n');
  const inner = Buffer.from(lines.slice(1).join(''), 'hex').toString('latin1').split('\n');
  const ct = Buffer.from(inner[2]!, 'hex');
  ct[index % ct.length]! ^= mask;
  inner[2] = ct.toString('hex');
  const outer = Buffer.from(inner.join('\n'), 'latin1').toString('hex');
  return [lines[0], ...(outer.match(/.{1,80}/g) ?? [])].join('\n') + '\n';
}

/** The RunError a function throws (fails the test when it throws nothing or something else). */
export function caught(fn: () => unknown): RunError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RunError) return e;
    throw e;
  }
  throw new Error('expected an error');
}
