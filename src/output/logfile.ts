/**
 * Per-run log directory: `<log_path>/<time>-<command>/` with `events.ndjson` (one JSON event per line, the
 * integration surface for QA tooling) and `console.log` (the console text without colour). Both receive
 * already-redacted events from the bus.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent } from './events.js';

export class RunLog {
  readonly dir: string;
  private readonly events: number;
  private readonly console: number;

  constructor(logPath: string, command: string, now = new Date()) {
    const stamp = now.toISOString().replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
    this.dir = join(logPath, `${stamp}-${command.replace(/[^A-Za-z0-9_.-]/g, '_')}-${process.pid}`);
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    this.events = openSync(join(this.dir, 'events.ndjson'), 'a', 0o640);
    this.console = openSync(join(this.dir, 'console.log'), 'a', 0o640);
  }

  event = (e: RunEvent): void => {
    writeSync(this.events, JSON.stringify({ ...e, ts: new Date().toISOString() }) + '\n');
  };

  line = (s: string): void => {
    // eslint-disable-next-line no-control-regex
    writeSync(this.console, s.replace(/\u001b\[[0-9;]*m/g, '') + '\n');
  };

  close(): void {
    closeSync(this.events);
    closeSync(this.console);
  }
}
