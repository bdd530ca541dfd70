/**
 * Typed events: the only output channel of a run. The executor emits them; renderers (console, progress,
 * NDJSON log, journal) subscribe. Events are redacted once, at the bus, before any renderer sees them.
 */
export type HostStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

export interface TaskRef {
  /** display name (templated), e.g. "haproxy : Install packages" */
  name: string;
  /** module name */
  action: string;
  /** file:line of the task */
  pos?: string;
  /** 0-based position of the task in the play, for progress and resume */
  index?: number;
  handler?: boolean;
}

export interface RecapCounts {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export type RunEvent =
  | { type: 'run.start'; runId: string; command: string; time: string; logDir?: string; check: boolean }
  | { type: 'play.start'; play: string; pos?: string; hosts: string[]; taskCount: number }
  | { type: 'task.start'; task: TaskRef; hosts: string[] }
  | {
      type: 'host.result';
      task: TaskRef;
      host: string;
      delegatedTo?: string;
      status: HostStatus;
      /** loop item label, when the result is one item of a loop */
      item?: string;
      /** the failure was ignored (ignore_errors / failed_when false) */
      ignored?: boolean;
      /** a summary result shaped like Ansible's (rc, stdout, msg, changed, failed, results…) */
      result: Record<string, unknown>;
      durationMs: number;
      /** commands run on the host (shown at -vvv) */
      commands?: string[];
    }
  | { type: 'host.unreachable'; host: string; reason: string }
  | { type: 'warning'; message: string; host?: string; pos?: string }
  | { type: 'play.recap'; stats: Record<string, RecapCounts> }
  | { type: 'step.gate'; step: string; allowed: boolean; missing: { step: string; why: string }[]; forced: boolean }
  | { type: 'verify.result'; step: string; name: string; passed: boolean; detail?: string }
  | { type: 'run.end'; exitCode: number; durationMs: number; interrupted?: boolean };

export type Listener = (e: RunEvent) => void;
