/**
 * `pause`: waits `seconds` or `minutes` (integers, as in Ansible), interruptible by the run's abort signal.
 * A `prompt` is only asked when the context is interactive: the module uses an optional
 * `ctx.prompt(text, echo)` if the executor provides one (a TTY run); otherwise — as Ansible does when stdin
 * is not a terminal — it does not wait for an answer and warns. Runs in check mode too (Ansible does).
 */
import type { ModuleContext } from '../types.js';
import { defineModule, Fail, ModuleArgError, nowMicros, pyDatetime, sleep } from './common.js';

/** The optional hook an interactive executor may add to the context. */
export type InteractiveContext = ModuleContext & { prompt?: (text: string, echo: boolean) => Promise<string> };

function intOf(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const s = String(v).trim();
  if (!/^[-+]?\d+$/.test(s)) throw new ModuleArgError(`non-integer value given for prompt duration: ${name}=${s}`);
  return Number(s);
}

/** Python's repr of round(x, 2): `1.0`, `0.25`. */
function pyFloat(x: number): string {
  const r = Math.round(x * 100) / 100;
  return Number.isInteger(r) ? `${r}.0` : String(r);
}

export const pause = defineModule({
  name: 'pause',
  spec: {
    seconds: { type: 'raw' },
    minutes: { type: 'raw' },
    prompt: { type: 'str' },
    echo: { type: 'bool', default: true },
  },
  async run(a, ctx: InteractiveContext) {
    const minutes = intOf(a.raw('minutes'), 'minutes');
    const seconds = minutes !== undefined ? minutes * 60 : intOf(a.raw('seconds'), 'seconds');
    const prompt = a.str('prompt');
    const echo = a.bool('echo');
    const start = nowMicros();
    let userInput = '';
    if (seconds !== undefined) {
      if (prompt !== undefined && ctx.prompt) ctx.warn(`pause: ${prompt} (continuing after ${seconds}s)`);
      const done = await sleep(Math.max(0, seconds) * 1000, ctx.signal);
      if (!done) throw new Fail('pause interrupted');
    } else if (ctx.prompt) {
      userInput = await ctx.prompt(prompt ?? 'Press enter to continue, Ctrl+C to interrupt', echo);
    } else {
      ctx.warn('Not waiting for response to prompt as stdin is not interactive');
    }
    const stop = nowMicros();
    const secs = (stop - start) / 1_000_000;
    const res: Record<string, unknown> = {
      changed: false,
      rc: 0,
      start: pyDatetime(start),
      stop: pyDatetime(stop),
      delta: Math.floor((stop - start) / 1_000_000),
      echo,
      stderr: '',
      stdout: `Paused for ${pyFloat(minutes !== undefined || seconds === undefined ? secs / 60 : secs)} ${minutes !== undefined || seconds === undefined ? 'minutes' : 'seconds'}`,
      user_input: userInput,
    };
    return res as { changed: boolean };
  },
});
