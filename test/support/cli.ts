/**
 * Run the CLI as users do (`./run …`, or BURROW_CLI such as "node_modules/node/bin/node dist/cli.js" for a
 * prebuilt build), capture its output, bound its time, and optionally interrupt it (SIGINT) after a delay.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface CliResult {
  rc: number;
  out: string;
  signal?: NodeJS.Signals | null;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** send SIGINT once this text appears in the output (bounded by the timeout) */
  interruptWhen?: RegExp;
}

export function runCli(args: string[], o: CliOptions = {}): Promise<CliResult> {
  const timeoutMs = o.timeoutMs ?? 240_000;
  return new Promise((done, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...o.env };
    delete env.FORCE_COLOR;
    const cli = (process.env.BURROW_CLI ?? join(ROOT, 'run')).split(' ');
    const child = spawn(cli[0]!, [...cli.slice(1), ...args], { cwd: o.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let interrupted = false;
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (o.interruptWhen && !interrupted && o.interruptWhen.test(out)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`./run ${args.join(' ')} did not finish in ${timeoutMs} ms\n${out}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ rc: code ?? -1, out, signal });
    });
  });
}

/** The PLAY RECAP line of a host. */
export function recapLine(out: string, host: string): string {
  return out.split('\n').find((l) => l.startsWith(`${host} `) && l.includes('ok=')) ?? `(no recap line for ${host})`;
}
