/**
 * CLI entry. Parses nothing itself: oclif maps argv to a command class (src/commands/), and this file
 * only turns whatever escapes into a clear message and an ansible-playbook compatible exit code.
 */
import { Errors, flush, run } from '@oclif/core';
import { ExitCode, formatRunError, isRunError } from './core/errors.js';

function report(e: unknown): number {
  if (isRunError(e)) {
    process.stderr.write(formatRunError(e) + '\n');
    return e.exitCode;
  }
  if (e instanceof Errors.ExitError) return e.oclif.exit ?? 0;
  if (e instanceof Errors.CLIError) {
    // oclif's own parse errors: unknown flag, missing argument, bad option value → usage (5).
    process.stderr.write(`ERROR: ${e.message.replace(/\n\s*See more help with --help$/m, '')}\n  hint: see ./run ${process.argv[2] ?? ''} --help\n`);
    return ExitCode.usage;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  process.stderr.write(
    `ERROR: unexpected internal error: ${err.message}\n` +
      `  This is a bug in the runner, not in your input. Re-run with RUN_DEBUG=1 for the stack and report it.\n`,
  );
  if (process.env.RUN_DEBUG) process.stderr.write(`${err.stack ?? ''}\n`);
  return ExitCode.unexpected;
}

/** `-v`, `-vv`, `-vvv` as Ansible users type them → `--verbose=N` (oclif does not count flags). */
function expandVerbosity(argv: string[]): string[] {
  return argv.map((a) => (/^-v+$/.test(a) ? `--verbose=${a.length - 1}` : a));
}

try {
  await run(expandVerbosity(process.argv.slice(2)), import.meta.url);
  await flush();
} catch (e) {
  process.exitCode = report(e);
}
