/**
 * Ansible-style console output (the default callback's format, which operators already read):
 * `PLAY [..] ****`, `TASK [..] ****`, `ok: [host]`, `fatal: [host]: FAILED! => {...}`, and PLAY RECAP in
 * Ansible's exact column format. Colour only when wanted (TTY, no NO_COLOR); plain lines otherwise.
 */
import { Chalk } from 'chalk';
import type { RecapCounts, RunEvent } from './events.js';

export interface ConsoleOptions {
  color: boolean;
  verbosity: number;
  /** banner width; Ansible uses the terminal width, at least 79 */
  columns?: number;
}

export function wantColor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if ('NO_COLOR' in env && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export function banner(msg: string, columns = 79): string {
  const m = msg.trim();
  const stars = Math.max(columns - m.length, 3);
  return `\n${m} ${'*'.repeat(stars)}`;
}

/** One recap line exactly as Ansible prints it without colour. */
export function recapLine(host: string, t: RecapCounts): string {
  const c = (lead: string, n: number): string => `${lead}=${String(n).padEnd(4)}`;
  return `${host.padEnd(26)} : ${c('ok', t.ok)} ${c('changed', t.changed)} ${c('unreachable', t.unreachable)} ${c('failed', t.failed)} ${c('skipped', t.skipped)} ${c('rescued', t.rescued)} ${c('ignored', t.ignored)}`;
}

/**
 * JSON as Python's json.dumps(sort_keys=True) writes it — the form Ansible prints results in — so output
 * reads the same as operators are used to: `{"changed": true, "msg": "x"}`, or indented by 4 when asked.
 */
export function pyJson(v: unknown, indent?: number, depth = 0): string {
  const nl = indent === undefined ? '' : '\n' + ' '.repeat(indent * (depth + 1));
  const end = indent === undefined ? '' : '\n' + ' '.repeat(indent * depth);
  const sep = indent === undefined ? ', ' : ',';
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'NaN';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return '[' + nl + v.map((x) => pyJson(x, indent, depth + 1)).join(sep + nl) + end + ']';
  }
  if (typeof v === 'object') {
    const keys = Object.keys(v as object).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort();
    if (!keys.length) return '{}';
    return '{' + nl + keys.map((k) => `${JSON.stringify(k)}: ${pyJson((v as Record<string, unknown>)[k], indent, depth + 1)}`).join(sep + nl) + end + '}';
  }
  return JSON.stringify(String(v));
}

/** A result as Ansible prints it: internal `_…` keys dropped; indented when verbose (-vvv) or the module asks. */
function shownResult(r: Record<string, unknown>, verbosity: number, action?: string): string {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!k.startsWith('_') && !(k === 'changed' && action === 'debug')) clean[k] = v;
  return pyJson(clean, verbosity >= 3 || r._verbose_always ? 4 : undefined);
}

export class ConsoleRenderer {
  private readonly ch: InstanceType<typeof Chalk>;
  private lastTask: string | undefined;

  constructor(
    private readonly write: (line: string) => void,
    private readonly opts: ConsoleOptions,
  ) {
    this.ch = new Chalk({ level: opts.color ? 1 : 0 });
  }

  handle = (e: RunEvent): void => {
    const ch = this.ch;
    const cols = Math.max(this.opts.columns ?? 79, 79);
    switch (e.type) {
      case 'play.start':
        this.write(banner(`PLAY [${e.play}]`, cols));
        break;
      case 'task.start':
        this.lastTask = e.task.name;
        this.write(banner(`${e.task.handler ? 'RUNNING HANDLER' : 'TASK'} [${e.task.name}]`, cols));
        if (this.opts.verbosity >= 2 && e.task.pos) this.write(`task path: ${e.task.pos}`);
        break;
      case 'host.result': {
        const who = e.delegatedTo && e.delegatedTo !== e.host ? `[${e.host} -> ${e.delegatedTo}]` : `[${e.host}]`;
        const item = e.item !== undefined ? ` => (item=${e.item})` : '';
        if (this.opts.verbosity >= 3 && e.commands?.length) for (const c of e.commands) this.write(ch.blue(`<${e.host}> EXEC ${c}`));
        const res = this.opts.verbosity >= 1 || e.result._verbose_always ? ` => ${shownResult(e.result, this.opts.verbosity, e.task.action)}` : '';
        switch (e.status) {
          case 'ok':
            this.write(ch.green(`ok: ${who}${item}${res}`));
            break;
          case 'changed':
            this.write(ch.yellow(`changed: ${who}${item}${res}`));
            break;
          case 'skipped':
            this.write(ch.cyan(`skipping: ${who}${item}`));
            break;
          case 'unreachable':
            this.write(ch.red.bold(`fatal: ${who}: UNREACHABLE! => ${shownResult(e.result, this.opts.verbosity)}`));
            break;
          case 'failed':
            if (e.item !== undefined) this.write(ch.red(`failed: ${who} (item=${e.item}) => ${shownResult(e.result, this.opts.verbosity)}`));
            else this.write(ch.red(`fatal: ${who}: FAILED! => ${shownResult(e.result, this.opts.verbosity)}`));
            if (e.ignored) this.write(ch.cyan('...ignoring'));
            break;
        }
        break;
      }
      case 'warning':
        this.write(ch.magenta(`[WARNING]: ${e.host ? `${e.host}: ` : ''}${e.message}${e.pos ? ` (${e.pos})` : ''}`));
        break;
      case 'play.recap': {
        this.write(banner('PLAY RECAP', cols));
        for (const [host, t] of Object.entries(e.stats)) {
          const line = recapLine(host, t);
          const col = t.failed || t.unreachable ? ch.red : t.changed ? ch.yellow : ch.green;
          this.write(this.opts.color ? col(line) : line);
        }
        this.write('');
        break;
      }
      case 'step.gate':
        if (!e.allowed) {
          for (const m of e.missing) this.write(ch.red(`  step ${m.step} ${m.why}`));
        } else if (e.forced) this.write(ch.magenta(`[WARNING]: --force: starting ${e.step} although: ${e.missing.map((m) => `${m.step} ${m.why}`).join('; ')}`));
        break;
      case 'verify.result':
        this.write((e.passed ? ch.green : ch.red)(`verify ${e.passed ? 'passed' : 'FAILED'}: ${e.name}${e.detail ? ` — ${e.detail}` : ''}`));
        break;
      default:
        break;
    }
  };
}
