/**
 * Test helper: a real ModuleContext over a real transport (an sshd test host or the local machine), so
 * module tests exercise modules exactly as the executor will, minus the playbook machinery.
 */
import { isAbsolute, join } from 'node:path';
import { existsSync } from 'node:fs';
import { gatherFacts, type Facts } from '../../src/facts/probe.js';
import type { ModuleContext } from '../../src/modules/types.js';
import type { BecomeOptions, Transport } from '../../src/transport/types.js';
import { renderString } from '../../src/template/templar.js';

export interface TestContextOptions {
  check?: boolean;
  diff?: boolean;
  become?: boolean | BecomeOptions;
  /** directory searched for relative src (as a role/playbook dir with files/ and templates/) */
  baseDir?: string;
  /** variables for renderTemplate */
  vars?: Record<string, unknown>;
  timeout?: number;
}

export function moduleContext(transport: Transport, opts: TestContextOptions = {}): ModuleContext & { warnings: string[]; commands: string[] } {
  let facts: Promise<Facts> | undefined;
  const warnings: string[] = [];
  const commands: string[] = [];
  const base = opts.baseDir;
  return {
    host: transport.host,
    transport,
    become: opts.become,
    check: opts.check ?? false,
    diff: opts.diff ?? false,
    facts: () => (facts ??= gatherFacts(transport)),
    findFile(kind, name) {
      if (isAbsolute(name)) return existsSync(name) ? name : undefined;
      if (!base) return undefined;
      for (const c of [join(base, kind, name), join(base, name)]) if (existsSync(c)) return c;
      return undefined;
    },
    renderTemplate: (text) => String(renderString(text, opts.vars ?? {})),
    timeout: opts.timeout ?? 0,
    signal: new AbortController().signal,
    warn: (m) => warnings.push(m),
    trace: (c) => commands.push(c),
    warnings,
    commands,
  };
}
