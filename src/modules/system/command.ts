/**
 * `command`: run a program with arguments, never through a shell. The free-form text (or `cmd`) is split
 * like Python's shlex.split (what Ansible does); `argv` gives the words directly. Every word is quoted for
 * the target's sh and the program is `exec`ed, so `*`, `;`, `|`, quotes and backquotes reach it literally;
 * only `$VAR` / `${VAR}` and a leading `~` are expanded, as Ansible's command module does (expandArgv).
 *
 * Ansible semantics: `chdir` first (failure → "Unable to change directory"), then `creates`/`removes`
 * (globs, relative to chdir) may skip the run with changed=false; check mode skips the run otherwise;
 * rc ≠ 0 → failed with msg "non-zero return code"; changed=true whenever the command ran; trailing
 * newlines stripped (`strip_empty_ends`); `stdin` fed with a newline added (`stdin_add_newline`).
 * The shared runner also serves `shell` (./shell.ts), which passes the text to /bin/sh (or `executable`).
 */
import type { ModuleContext, ModuleResult } from '../types.js';
import {
  Args,
  argvLine,
  defineModule,
  Fail,
  globQuote,
  marker,
  nowMicros,
  pyDatetime,
  pyTimedelta,
  sh,
  shlexSplit,
  ShlexError,
  shq,
  splitlines,
  type ArgSpec,
} from './common.js';

export const COMMAND_SPEC: ArgSpec = {
  cmd: { type: 'str' },
  argv: { type: 'list', elements: 'str' },
  creates: { type: 'path' },
  removes: { type: 'path' },
  chdir: { type: 'path' },
  executable: { type: 'path' },
  stdin: { type: 'str' },
  stdin_add_newline: { type: 'bool', default: true },
  strip_empty_ends: { type: 'bool', default: true },
  _raw_params: { type: 'str' },
  _uses_shell: { type: 'bool', default: false },
};

/**
 * Ansible's command module expands `$VAR`, `${VAR}` (os.path.expandvars: unset variables stay as written)
 * and a leading `~`/`~user` (os.path.expanduser) in every argument — on the target, with the target's
 * environment — but no globs and nothing else of a shell. This builds the sh words that do exactly that:
 * literal parts single-quoted, each variable taken from a prelude assignment
 * (`if [ -n "${HOME+x}" ]; then _bv0=$HOME; else _bv0='$HOME'; fi`) so values are used verbatim.
 */
export function expandArgv(argv: readonly string[]): { prelude: string[]; words: string[] } {
  const prelude: string[] = [];
  const seen = new Map<string, string>();
  const words = argv.map((word) => {
    let out = '';
    let rest = word;
    const tilde = /^~([A-Za-z0-9._-]*)(?=\/|$)/.exec(rest);
    if (tilde) {
      out += `~${tilde[1]}`;
      rest = rest.slice(tilde[0].length);
      if (rest.startsWith('/')) {
        out += '/';
        rest = rest.slice(1);
      }
    }
    let last = 0;
    let piece = '';
    for (const m of rest.matchAll(/\$([A-Za-z0-9_]+|\{[^}]*\})/g)) {
      const name = m[1]!.startsWith('{') ? m[1]!.slice(1, -1) : m[1]!;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) continue; // not a name sh can read: stays literal
      piece += rest.slice(last, m.index);
      if (piece) out += shq(piece);
      piece = '';
      let v = seen.get(m[0]);
      if (!v) {
        v = `_bv${seen.size}`;
        seen.set(m[0], v);
        prelude.push(`if [ -n "\${${name}+x}" ]; then ${v}=$${name}; else ${v}=${shq(m[0])}; fi`);
      }
      out += `"$${v}"`;
      last = m.index! + m[0].length;
    }
    piece += rest.slice(last);
    if (piece || !out) out += shq(piece);
    return out;
  });
  return { prelude, words };
}

function stripEnds(s: string, strip: boolean): string {
  return strip ? s.replace(/[\r\n]+$/, '') : s;
}

/** Result fields Ansible returns when the command did not run. */
function notRun(cmd: string | string[], extra: Partial<ModuleResult>): ModuleResult {
  const stdout = (extra.stdout as string | undefined) ?? '';
  return {
    changed: false,
    cmd,
    delta: null,
    end: null,
    start: null,
    rc: 0,
    stdout,
    stderr: '',
    stdout_lines: splitlines(stdout),
    stderr_lines: [],
    msg: '',
    ...extra,
  };
}

/**
 * The checks Ansible makes before running: chdir exists (and is entered), creates / removes.
 * One round trip; prints `nochdir`, `creates <path>`, `removes <path>` or `run`.
 */
async function precheck(ctx: ModuleContext, chdir: string | undefined, creates: string | undefined, removes: string | undefined): Promise<string> {
  const lines: string[] = [];
  if (chdir) lines.push(`cd ${shq(chdir)} 2>/dev/null || { echo nochdir; exit 0; }`);
  if (creates) lines.push(`set -- ${globQuote(creates)}; if [ -e "$1" ] || [ -L "$1" ]; then echo creates; exit 0; fi`);
  if (removes) lines.push(`set -- ${globQuote(removes)}; if [ ! -e "$1" ] && [ ! -L "$1" ]; then echo removes; exit 0; fi`);
  lines.push('echo run');
  const r = await sh(ctx, lines.join('\n'));
  return r.stdout.trim().split('\n').pop() ?? '';
}

export async function runCommandLike(kind: 'command' | 'shell', a: Args, ctx: ModuleContext, freeForm: string | undefined): Promise<ModuleResult> {
  const useShell = kind === 'shell' || a.bool('_uses_shell');
  const text = freeForm ?? a.str('_raw_params') ?? a.str('cmd');
  const argvArg = a.list('argv');
  if (text !== undefined && text.trim() !== '' && argvArg?.length) throw new Fail('only command or argv can be given, not both', { rc: 256 });

  let cmdField: string | string[];
  let line: string;
  let argv0: string | undefined;
  let prelude: string[] = [];
  let words: string[] = [];
  if (useShell) {
    const t = text ?? (argvArg ? argvLine(argvArg) : '');
    if (t.trim() === '') throw new Fail('no command given', { rc: 256 });
    cmdField = t;
    const exe = a.str('executable');
    line = exe ? `exec ${shq(exe)} -c ${shq(t)}` : t;
  } else {
    let argv: string[];
    if (argvArg?.length) argv = argvArg;
    else {
      try {
        argv = shlexSplit(text ?? '');
      } catch (e) {
        if (e instanceof ShlexError) throw new Fail(`cannot split the command into words: ${e.message}`, { rc: 256, cmd: text });
        throw e;
      }
    }
    if (!argv.length) throw new Fail('no command given', { rc: 256 });
    if (a.str('executable')) ctx.warn('command: `executable` is ignored by the command module; use `shell` to choose a shell');
    cmdField = argv;
    argv0 = argv[0]!;
    const ex = expandArgv(argv);
    prelude = ex.prelude;
    words = ex.words;
    line = words.join(' ');
  }

  const chdir = a.str('chdir');
  const creates = a.str('creates');
  const removes = a.str('removes');
  if (chdir || creates || removes) {
    const verdict = await precheck(ctx, chdir, creates, removes);
    if (verdict === 'nochdir') {
      throw new Fail(`Unable to change directory before execution: [Errno 2] No such file or directory: b'${chdir}'`, {
        cmd: cmdField,
        rc: null,
        start: null,
        end: null,
        delta: null,
        stdout: '',
        stderr: '',
        stdout_lines: [],
        stderr_lines: [],
      });
    }
    const verb = ctx.check ? 'Would not' : 'Did not';
    if (verdict === 'creates') {
      return notRun(cmdField, { stdout: `skipped, since ${creates} exists`, msg: `${verb} run command since '${creates}' exists` });
    }
    if (verdict === 'removes') {
      return notRun(cmdField, { stdout: `skipped, since ${removes} does not exist`, msg: `${verb} run command since '${removes}' does not exist` });
    }
    if (verdict !== 'run') throw new Fail(`could not check chdir/creates/removes on the target (got '${verdict}')`);
  }
  if (ctx.check) return notRun(cmdField, { skipped: true, msg: 'Command would have run if not in check mode' });

  // A program that does not exist: Ansible (Python's execve) reports errno 2 with rc 2 and changed=false.
  let nf: string | undefined;
  if (argv0 !== undefined) {
    nf = marker('NOTFOUND');
    line = [...prelude, `command -v ${words[0]} >/dev/null 2>&1 || { printf '%s\\n' ${shq(nf)} >&2; exit 127; }`, `exec ${line}`].join('\n');
  }
  let stdin = a.str('stdin');
  if (stdin !== undefined && a.bool('stdin_add_newline')) stdin += '\n';
  const start = nowMicros();
  const r = await sh(ctx, line, { ...(stdin !== undefined ? { stdin } : {}), ...(chdir ? { cwd: chdir } : {}) });
  const end = nowMicros();
  if (nf && r.rc === 127 && r.stderr.includes(nf)) {
    throw new Fail(`[Errno 2] No such file or directory: b'${argv0}'`, { cmd: (cmdField as string[]).join(' '), rc: 2, stdout: '', stderr: '', stdout_lines: [], stderr_lines: [] });
  }
  const strip = a.bool('strip_empty_ends');
  const stdout = stripEnds(r.stdout, strip);
  const stderr = stripEnds(r.stderr, strip);
  const res: ModuleResult = {
    changed: true,
    cmd: cmdField,
    rc: r.rc,
    start: pyDatetime(start),
    end: pyDatetime(end),
    delta: pyTimedelta(end - start),
    stdout,
    stderr,
    stdout_lines: splitlines(stdout),
    stderr_lines: splitlines(stderr),
    msg: '',
  };
  if (r.rc !== 0) {
    res.failed = true;
    res.msg = 'non-zero return code';
  }
  return res;
}

export const command = defineModule({
  name: 'command',
  spec: COMMAND_SPEC,
  run: (a, ctx, freeForm) => runCommandLike('command', a, ctx, freeForm),
});
