/**
 * The real Ansible as an oracle for the inventory tests: `ansible-inventory` (Debian ansible-core 2.14)
 * and its Python modules, run with a clean environment in an empty directory (no ansible.cfg anywhere:
 * HOME and the working directory are a fresh temp dir), at most two processes at a time (2-core machine).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ANSIBLE_INVENTORY = '/usr/bin/ansible-inventory';
export const SYSTEM_PYTHON = '/usr/bin/python3';
export const hasAnsibleInventory = existsSync(ANSIBLE_INVENTORY) && existsSync(SYSTEM_PYTHON);

export interface ProcResult {
  code: number;
  stdout: string;
  stderr: string;
}

let scratch: string | undefined;
function scratchDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'inv-oracle-'));
  return scratch;
}
export function cleanupOracle(): void {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

export function oracleEnv(): NodeJS.ProcessEnv {
  const home = scratchDir();
  return {
    PATH: '/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    ANSIBLE_INVENTORY_UNPARSED_WARNING: 'True',
    // a source no plugin can parse is a failure (not a warning and an empty inventory)
    ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED: 'True',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_LOCAL_TEMP: join(home, 'tmp'),
  };
}

// at most two child processes at once
let running = 0;
const waiting: (() => void)[] = [];
async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export function run(cmd: string, args: string[], input?: string): Promise<ProcResult> {
  return slot(
    () =>
      new Promise<ProcResult>((resolve) => {
        const child = execFile(
          cmd,
          args,
          { cwd: scratchDir(), env: oracleEnv(), timeout: 120_000, maxBuffer: 64 << 20, encoding: 'utf8' },
          (err, stdout, stderr) => {
            const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
        if (input !== undefined) child.stdin?.end(input);
      }),
  );
}

/** `ansible-inventory -i S1 -i S2 … ARGS` */
export function ansibleInventory(sources: string[], args: string[]): Promise<ProcResult> {
  return run(ANSIBLE_INVENTORY, [...sources.flatMap((s) => ['-i', s]), ...args]);
}

/** Run a Python script with Ansible importable; `input` goes to stdin; stdout is parsed as JSON. */
export async function pythonJson<T>(script: string, input: unknown): Promise<T> {
  const r = await run(SYSTEM_PYTHON, ['-c', script], JSON.stringify(input));
  if (r.code !== 0) throw new Error(`python failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
