/**
 * The shell protocol shared by the ssh and local transports, so both behave the same: one command line,
 * POSIX sh only, run through a small wrapper that
 *  - passes its process-group id (the session leader's `$$`: sshd and the local spawn both start the
 *    command as a session leader) to an inner shell,
 *  - optionally goes through `sudo` (password fed on stdin after a unique prompt, never argv/env),
 *  - starts a watchdog that kills the whole process group when the per-command timeout expires, so a
 *    timed-out command never stays running on the target, whether or not the link to it survives,
 *  - exports env, changes directory, and runs the user's command with the caller's stdin.
 */
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { BecomeError, CommandTimeoutError, TransportError } from './errors.js';
import type { BecomeOptions, ExecOptions, ExecResult, GetOptions, PutOptions } from './types.js';

/** Quotes a string as one POSIX sh word. */
export function shq(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const USER_NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.@-]*\$?$/;
/** marker the wrapper prints on stderr once sudo has let it through (so sudo's prompt never reaches stdin) */
const START = '\x1eBURROW-START-';
/** seconds between the TERM and the KILL sent to the process group on timeout */
const KILL_GRACE_S = 2;
/** extra seconds the controller waits for the remote watchdog before it gives up on the channel */
const CLIENT_GRACE_MS = (KILL_GRACE_S + 3) * 1000;

export function normalizeBecome(b: boolean | BecomeOptions | undefined): BecomeOptions | undefined {
  if (!b) return undefined;
  if (b === true) return {};
  return b;
}

export interface BuiltCommand {
  line: string;
  nonce: string;
  prompt?: string;
}

/** Builds the command line handed to the remote login shell (ssh) or `/bin/sh -c` (local). */
export function buildCommand(cmd: string, opts: ExecOptions = {}): BuiltCommand {
  const nonce = randomBytes(8).toString('hex');
  const become = normalizeBecome(opts.become);
  const t = opts.timeout && opts.timeout > 0 ? Math.ceil(opts.timeout) : 0;
  const inner: string[] = ['g=$1'];
  if (t > 0) {
    // Watchdog: sleeps in the background (its own fds on /dev/null so it never holds the channel open),
    // is cancelled with TERM when the command finishes, otherwise TERMs then KILLs the whole group.
    inner.push(
      `(trap 'kill $s 2>/dev/null; exit 0' TERM HUP; sleep ${t} & s=$!; wait $s || exit 0; ` +
        `trap '' TERM; kill -TERM -$g 2>/dev/null; sleep ${KILL_GRACE_S}; kill -KILL -$g 2>/dev/null) </dev/null >/dev/null 2>&1 &`,
      'w=$!',
    );
  } else {
    inner.push('w=');
  }
  if (become) inner.push(`printf '%s\\n' ${shq(START + nonce)} >&2`);
  if (opts.cwd) inner.push(`cd ${shq(opts.cwd)} || { [ -n "$w" ] && kill $w 2>/dev/null; exit 1; }`);
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (!ENV_NAME.test(k)) throw new TransportError('config', `invalid environment variable name ${JSON.stringify(k)}`);
    inner.push(`export ${k}=${shq(v)}`);
  }
  inner.push(`/bin/sh -c ${shq(cmd)}`, 'r=$?', '[ -n "$w" ] && kill $w 2>/dev/null', 'exit $r');
  const innerScript = inner.join('\n');
  if (!become) return { line: `exec /bin/sh -c ${shq(innerScript)} burrow "$$"`, nonce };
  const user = become.user ?? 'root';
  if (!USER_NAME.test(user)) throw new TransportError('config', `invalid become user ${JSON.stringify(user)}`);
  const prompt = `[burrow-sudo-${nonce}] password: `;
  const auth = become.password !== undefined ? `-S -p ${shq(prompt)}` : '-n';
  return {
    line: `exec sudo -H ${auth} -u ${shq(user)} -- /bin/sh -c ${shq(innerScript)} burrow "$$"`,
    nonce,
    prompt: become.password !== undefined ? prompt : undefined,
  };
}

/** A running command: ssh2 channel or child process, seen the same way. */
export interface RawChannel {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** called once the process exited and its output streams ended */
  onDone(cb: (code: number | null, signal: string | null) => void): void;
  /** called when the underlying link fails (ssh: connection lost) */
  onFail(cb: (err: Error) => void): void;
  /** stops waiting: closes the channel / kills the local process group */
  abort(): void;
}

export interface RunContext {
  host: string;
  open(line: string): Promise<RawChannel>;
}

export interface RawResult {
  rc: number;
  stdout: Buffer;
  stderr: Buffer;
  signal?: string;
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, USR1: 10, SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15 };

/** Runs one command through the wrapper; handles sudo's prompt, timeout and link failures. */
export async function runRaw(ctx: RunContext, cmd: string, opts: ExecOptions & { stdinStream?: Readable } = {}): Promise<RawResult> {
  const built = buildCommand(cmd, opts);
  const become = normalizeBecome(opts.become);
  const ch = await ctx.open(built.line);
  return new Promise<RawResult>((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    let started = !become;
    let preStart = '';
    let prompts = 0;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    let hardTimer: NodeJS.Timeout | undefined;
    const marker = START + built.nonce + '\n';

    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (hardTimer) clearTimeout(hardTimer);
      fn();
    };
    const fail = (e: Error) => finish(() => {
      ch.abort();
      reject(e);
    });
    const partial = (): ExecResult => ({ rc: -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });

    const sendStdin = () => {
      if (opts.stdinStream) {
        opts.stdinStream.on('error', (e) => fail(new TransportError('config', `reading the data to send failed: ${e.message}`, { host: ctx.host })));
        opts.stdinStream.pipe(ch.stdin);
      } else {
        ch.stdin.on('error', () => {
          /* the command may exit without reading its stdin */
        });
        if (opts.stdin !== undefined && opts.stdin.length > 0) ch.stdin.write(opts.stdin);
        ch.stdin.end();
      }
    };

    const sudoFailure = (text: string): BecomeError | undefined => {
      const user = become?.user ?? 'root';
      if (/a password is required/.test(text))
        return new BecomeError(`sudo needs a password to become ${user} and none was given`, {
          host: ctx.host,
          hint: 'set ansible_become_password for this host (vault it), or give the user NOPASSWD sudo',
        });
      if (/must have a tty|requiretty/.test(text))
        return new BecomeError(`sudo on this host requires a tty ("Defaults requiretty")`, {
          host: ctx.host,
          hint: 'add "Defaults:<user> !requiretty" to the sudoers of the target',
        });
      if (/not in the sudoers file|is not allowed to execute|may not run sudo/.test(text))
        return new BecomeError(`the login user is not allowed to run sudo as ${user}`, { host: ctx.host, hint: 'grant sudo to the login user on the target' });
      if (/incorrect password attempt|Sorry, try again/.test(text))
        return new BecomeError('incorrect sudo password', { host: ctx.host, hint: 'check ansible_become_password for this host' });
      if (/sudo: (not found|command not found)|sudo: .*No such file/.test(text) || /(^|\n)[^\n]*sudo[^\n]*not found/.test(text))
        return new BecomeError('sudo is not installed on the target', { host: ctx.host });
      if (/unknown user|user .* does not exist/i.test(text)) return new BecomeError(`become user ${user} does not exist on the target`, { host: ctx.host });
      return undefined;
    };

    ch.stdout.on('data', (d: Buffer) => out.push(d));
    ch.stderr.on('data', (d: Buffer) => {
      if (started) {
        err.push(d);
        return;
      }
      preStart += d.toString('utf8');
      const at = preStart.indexOf(marker);
      if (at >= 0) {
        started = true;
        const rest = preStart.slice(at + marker.length);
        if (rest) err.push(Buffer.from(rest, 'utf8'));
        preStart = '';
        sendStdin();
        return;
      }
      if (built.prompt) {
        let n = 0;
        for (let i = preStart.indexOf(built.prompt); i >= 0; i = preStart.indexOf(built.prompt, i + 1)) n++;
        if (n > prompts) {
          prompts = n;
          if (n === 1) ch.stdin.write(`${become?.password ?? ''}\n`);
          else fail(new BecomeError('incorrect sudo password', { host: ctx.host, hint: 'check ansible_become_password for this host' }));
          return;
        }
      }
      const f = sudoFailure(preStart);
      if (f) fail(f);
    });

    ch.onFail((e) => fail(e));
    const t0 = Date.now();
    ch.onDone((code, signal) =>
      finish(() => {
        // The remote watchdog usually fires before the controller's timer: a TERM/KILL ending at the
        // deadline is the watchdog's doing.
        const killed = signal === 'TERM' || signal === 'KILL' || code === 143 || code === 137;
        if (opts.timeout && killed && Date.now() - t0 >= Math.ceil(opts.timeout) * 1000 - 100) timedOut = true;
        if (timedOut) {
          reject(
            new CommandTimeoutError(`command timed out after ${opts.timeout}s; its process group was killed`, partial(), {
              host: ctx.host,
              hint: 'raise the task timeout (command_timeout) if the command legitimately needs longer',
            }),
          );
          return;
        }
        if (!started) {
          const text = preStart.split(built.prompt ?? '\x00').join('');
          const f = sudoFailure(text);
          reject(f ?? new BecomeError(`sudo failed (rc ${code ?? signal}): ${text.trim().slice(0, 500) || 'no message'}`, { host: ctx.host }));
          return;
        }
        let rc = code ?? -1;
        if (code === null && signal) rc = 128 + (SIGNALS[signal] ?? 0);
        const res: RawResult = { rc, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
        if (signal) res.signal = signal;
        else if (rc > 128 && rc - 128 <= 15) {
          const name = Object.entries(SIGNALS).find(([, n]) => n === rc - 128)?.[0];
          if (name) res.signal = name;
        }
        resolve(res);
      }),
    );

    if (opts.timeout && opts.timeout > 0) {
      timer = setTimeout(() => {
        timedOut = true;
        // The remote watchdog kills the group; if the channel is not closed soon after, give up on it.
        hardTimer = setTimeout(
          () =>
            fail(
              new CommandTimeoutError(`command timed out after ${opts.timeout}s and the host did not confirm it was killed`, partial(), {
                host: ctx.host,
              }),
            ),
          CLIENT_GRACE_MS,
        );
      }, Math.ceil(opts.timeout) * 1000 + 250);
    }
    if (started) sendStdin();
  });
}

export async function runExec(ctx: RunContext, cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
  const r = await runRaw(ctx, cmd, opts);
  const res: ExecResult = { rc: r.rc, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
  if (r.signal) res.signal = r.signal;
  return res;
}

export function modeString(mode: number | string | undefined): string {
  if (mode === undefined) return '644';
  if (typeof mode === 'number') {
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new TransportError('config', `invalid file mode ${mode}`);
    return mode.toString(8);
  }
  if (/^0?[0-7]{3,4}$/.test(mode)) return parseInt(mode, 8).toString(8);
  if (/^[ugoa]*[-+=][rwxXst]*(,[ugoa]*[-+=][rwxXst]*)*$/.test(mode)) return mode;
  throw new TransportError('config', `invalid file mode ${JSON.stringify(mode)}`, { hint: 'use an octal string such as "0644"' });
}

function splitPath(path: string): { dir: string; base: string } {
  const i = path.lastIndexOf('/');
  if (i < 0) return { dir: '.', base: path };
  return { dir: i === 0 ? '/' : path.slice(0, i), base: path.slice(i + 1) };
}

/** put: temp file in the target directory, written with umask 077, chmod/chown, then rename over the target. */
export async function runPut(ctx: RunContext, content: string | Uint8Array | Readable, path: string, opts: PutOptions = {}): Promise<void> {
  const { dir, base } = splitPath(path);
  if (!base) throw new TransportError('config', `put: ${path} is a directory path, not a file`, { host: ctx.host });
  const mode = modeString(opts.mode);
  const tmp = `${dir === '/' ? '' : dir}/.${base}.burrow-${randomBytes(6).toString('hex')}.tmp`;
  const steps = [
    'umask 077',
    `t=${shq(tmp)}`,
    `(set -C; : > "$t")`,
    `cat > "$t"`,
    `chmod ${shq(mode)} "$t"`,
  ];
  if (opts.owner) steps.push(`chown ${shq(opts.owner)} "$t"`);
  if (opts.group) steps.push(`chgrp ${shq(opts.group)} "$t"`);
  steps.push(`mv -f "$t" ${shq(path)}`);
  const script = `${steps.join(' && ')} || { r=$?; rm -f "$t"; exit $r; }`;
  const isStream = typeof content !== 'string' && !(content instanceof Uint8Array);
  const r = await runRaw(ctx, script, {
    become: opts.become,
    timeout: opts.timeout,
    ...(isStream ? { stdinStream: content as Readable } : { stdin: content as string | Uint8Array }),
  });
  if (r.rc !== 0) {
    throw new TransportError('remote', `writing ${path} failed (rc ${r.rc}): ${r.stderr.toString('utf8').trim() || 'no message'}`, {
      host: ctx.host,
      exitCode: 2,
    });
  }
}

export async function runGet(ctx: RunContext, path: string, opts: GetOptions = {}): Promise<Buffer> {
  const r = await runRaw(ctx, `cat -- ${shq(path)}`, { become: opts.become, timeout: opts.timeout });
  if (r.rc !== 0) {
    throw new TransportError('remote', `reading ${path} failed (rc ${r.rc}): ${r.stderr.toString('utf8').trim() || 'no message'}`, {
      host: ctx.host,
      exitCode: 2,
    });
  }
  return r.stdout;
}
