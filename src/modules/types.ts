/**
 * The module contract (ARCHITECTURE.md, after pyinfra): a module is a small planner over the target's
 * state. Given its (already templated) arguments, it inspects the host through the transport, decides what
 * must change, and — unless `ctx.check` — makes it so with POSIX shell commands and atomic file writes.
 * It returns an Ansible-shaped result and reports `changed` honestly, so a second run is `changed=0`.
 *
 * A module never prints and never opens connections itself: the executor hands it a Transport (already
 * delegated and with become resolved) and turns the result into events. Needs no Python on targets.
 */
import type { Facts } from '../facts/probe.js';
import type { ModuleSpec } from '../playbook/types.js';
import type { BecomeOptions, Transport } from '../transport/types.js';

export interface FileDiff {
  before: string;
  after: string;
  before_header?: string;
  after_header?: string;
}

export interface ModuleResult {
  changed: boolean;
  failed?: boolean;
  skipped?: boolean;
  msg?: string;
  rc?: number;
  stdout?: string;
  stderr?: string;
  stdout_lines?: string[];
  stderr_lines?: string[];
  diff?: FileDiff | FileDiff[];
  /** debug and similar: print the result even without -v (Ansible's _ansible_verbose_always) */
  _verbose_always?: boolean;
  [key: string]: unknown;
}

export interface ModuleContext {
  /** inventory host the task runs for (facts, vars and results belong to it) */
  host: string;
  /** connection to act on: the host's, or the delegate's when delegate_to is set */
  transport: Transport;
  /** effective become for this task (undefined = no privilege escalation) */
  become?: boolean | BecomeOptions;
  /** check mode: plan, report what would change, change nothing */
  check: boolean;
  /** --diff: include before/after of files in the result */
  diff: boolean;
  /** facts of the transport's host, gathered once per run */
  facts(): Promise<Facts>;
  /**
   * Controller-side lookup of a relative `src`: the role's `files/` or `templates/`, the role dir, then the
   * playbook's `files/` / `templates/` and dir (Ansible's search order). Absolute paths are returned as is.
   */
  findFile(kind: 'files' | 'templates', name: string): string | undefined;
  /** render Jinja text with this task's variables (Ansible template module semantics, `#jinja2:` header) */
  renderTemplate(text: string, file: string): string;
  /** per-command timeout in seconds (0 = none), from run.cfg command_timeout or the task's `timeout` */
  timeout: number;
  /** aborted on interrupt: stop polling loops, return quickly */
  signal: AbortSignal;
  /** a warning shown in the console and event log */
  warn(message: string): void;
  /** record a command for -vvv display (modules call this for each exec) */
  trace(command: string): void;
}

export interface Module extends ModuleSpec {
  /** short name: `copy`, `k8s`, `openssl_privatekey` (FQCNs are normalised by the playbook loader) */
  name: string;
  /**
   * Run the module. `args` are templated with `omit` entries removed; `freeForm` is the templated free-form
   * text (`command: echo hi`). Throw TransportError for an unreachable host; return `failed: true` with a
   * clear `msg` for anything else that went wrong on a reachable host.
   */
  run(args: Record<string, unknown>, ctx: ModuleContext, freeForm?: string): Promise<ModuleResult>;
}

/** Ansible-style boolean coercion for module arguments: yes/no/true/false/on/off/1/0. */
export function argBool(v: unknown, name: string, dflt = false): boolean {
  if (v === undefined || v === null || v === '') return dflt;
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (['yes', 'true', 'on', '1', 'y', 't'].includes(s)) return true;
  if (['no', 'false', 'off', '0', 'n', 'f'].includes(s)) return false;
  throw new ModuleArgError(`argument '${name}' must be a boolean, got '${String(v)}'`);
}

/** A bad argument found at run time (after templating); the executor reports it as a task failure. */
export class ModuleArgError extends Error {}

export { shq } from '../transport/shell.js';
