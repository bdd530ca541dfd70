/**
 * `pip`: Python packages on the target, made for offline use (`extra_args: --no-index --find-links DIR`).
 *
 * `virtualenv` is created when missing (`virtualenv_command`, default `virtualenv` when installed, else
 * `<virtualenv_python|python3> -m venv`), then its own pip is used. `changed` is honest: `pip freeze` before
 * and after; named packages already present (at the pinned version, for `name==1.2` or `version:`) are not
 * touched. Requirements files always go to pip, and the freeze comparison decides. Check mode: changed when
 * a named package is missing / present (absent), and — as Ansible — always for requirements / latest.
 */
import type { ModuleContext } from '../types.js';
import { argvLine, defineModule, Fail, sh, shlexSplit, shq, splitlines, tail } from './common.js';

/** PEP 503 normalised name. */
export function normName(n: string): string {
  return n.toLowerCase().replace(/[-_.]+/g, '-');
}

/** `pip freeze` → normalised name → version (editable / URL lines keep their text as version). */
export function parseFreeze(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const l = line.trim();
    if (!l || l.startsWith('#')) continue;
    let r = /^([A-Za-z0-9][A-Za-z0-9._-]*)==(.+)$/.exec(l);
    if (r) {
      m.set(normName(r[1]!), r[2]!.trim());
      continue;
    }
    r = /^([A-Za-z0-9][A-Za-z0-9._-]*) @ (.+)$/.exec(l);
    if (r) m.set(normName(r[1]!), r[2]!.trim());
  }
  return m;
}

/** `name`, `name==1.2`, `name>=1,<2`, `name[extra]==1` → name and exact pin (only `==` is checked locally). */
export function parseReq(spec: string): { name: string; pin?: string; exact: boolean } {
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$/.exec(spec);
  if (!m) return { name: spec, exact: false };
  const rest = m[3]!.trim();
  if (!rest) return { name: m[1]!, exact: true };
  const eq = /^==\s*([^,;\s]+)$/.exec(rest);
  if (eq) return { name: m[1]!, pin: eq[1]!, exact: true };
  return { name: m[1]!, exact: false };
}

export const pip = defineModule({
  name: 'pip',
  spec: {
    name: { type: 'list' },
    version: { type: 'str' },
    requirements: { type: 'str' },
    state: { type: 'str', default: 'present', choices: ['present', 'absent', 'latest', 'forcereinstall'] },
    virtualenv: { type: 'path' },
    virtualenv_command: { type: 'str' },
    virtualenv_python: { type: 'str' },
    virtualenv_site_packages: { type: 'bool', default: false },
    extra_args: { type: 'str' },
    executable: { type: 'path' },
    chdir: { type: 'path' },
    editable: { type: 'bool', default: false },
    umask: { type: 'str' },
  },
  async run(a, ctx: ModuleContext) {
    const names = a.list('name') ?? [];
    const reqFile = a.str('requirements');
    const state = a.str('state')!;
    if (!names.length && !reqFile) throw new Fail('one of the following is required: name, requirements');
    if (names.length && reqFile) throw new Fail('parameters are mutually exclusive: name|requirements');
    const version = a.str('version');
    if (version && names.length !== 1) throw new Fail('version is incompatible with a list of names (use name: pkg==1.2)');
    if (a.str('executable') && a.str('virtualenv')) throw new Fail('parameters are mutually exclusive: executable|virtualenv');
    const chdir = a.str('chdir');
    const cwd = chdir ? { cwd: chdir } : {};
    const umask = a.str('umask');
    if (umask && !/^0?[0-7]{3}$/.test(umask)) throw new Fail(`umask must be an octal string such as "0022", got '${umask}'`);
    const pre = umask ? `umask ${umask}; ` : '';
    let changed = false;

    // the pip to use
    let pipCmd: string;
    const venv = a.str('virtualenv');
    if (venv) {
      const exists = (await sh(ctx, `[ -x ${shq(venv)}/bin/pip ] || [ -x ${shq(venv)}/bin/pip3 ]`, cwd)).rc === 0;
      if (!exists) {
        changed = true;
        if (ctx.check) return { changed: true, msg: `would create the virtualenv ${venv}` };
        const py = a.str('virtualenv_python') ?? 'python3';
        const site = a.bool('virtualenv_site_packages');
        const vc = a.str('virtualenv_command');
        let create: string;
        if (vc) create = `${argvLine(shlexSplit(vc))}${/\bvenv\b/.test(vc) ? '' : ` -p ${shq(py)}`}${site ? ' --system-site-packages' : ''} ${shq(venv)}`;
        else create = `if command -v virtualenv >/dev/null 2>&1; then virtualenv -p ${shq(py)}${site ? ' --system-site-packages' : ''} ${shq(venv)}; else ${shq(py)} -m venv${site ? ' --system-site-packages' : ''} ${shq(venv)}; fi`;
        const r = await sh(ctx, pre + create, cwd);
        if (r.rc !== 0) throw new Fail(`creating the virtualenv ${venv} failed (rc ${r.rc}): ${tail(r.stderr || r.stdout)}`, { rc: r.rc, stdout: r.stdout, stderr: r.stderr, cmd: create });
      }
      pipCmd = `"$(if [ -x ${shq(venv)}/bin/pip3 ]; then echo ${shq(venv)}/bin/pip3; else echo ${shq(venv)}/bin/pip; fi)"`;
    } else {
      const exe = a.str('executable');
      pipCmd = exe ? shq(exe) : `"$(command -v pip3 || command -v pip || echo pip3)"`;
    }

    const freeze = async (): Promise<Map<string, string>> => {
      const r = await sh(ctx, `${pipCmd} freeze --all 2>/dev/null || ${pipCmd} freeze`, { ...cwd, env: { PIP_DISABLE_PIP_VERSION_CHECK: '1' } });
      if (r.rc !== 0) throw new Fail(`pip freeze failed (rc ${r.rc}): ${tail(r.stderr)}`, { rc: r.rc });
      return parseFreeze(r.stdout);
    };
    const specs = names.map((n) => (version ? `${n}==${version}` : n));
    const before = await freeze();

    let todo = specs;
    if (!reqFile && (state === 'present' || state === 'absent')) {
      todo = specs.filter((s) => {
        const q = parseReq(s);
        const have = before.get(normName(q.name));
        if (state === 'absent') return have !== undefined;
        if (have === undefined) return true;
        if (q.pin !== undefined) return have !== q.pin;
        return !q.exact; // ranges: let pip decide, the freeze comparison tells whether it changed anything
      });
      if (!todo.length) return { changed, cmd: '', name: names, requirements: reqFile ?? null, state, version: version ?? null, virtualenv: venv ?? null, stdout: '', stderr: '' };
    }
    if (ctx.check) return { changed: true, name: names, requirements: reqFile ?? null, state, version: version ?? null, virtualenv: venv ?? null };

    const argv: string[] = [];
    if (state === 'absent') argv.push('uninstall', '-y');
    else {
      argv.push('install');
      if (state === 'latest') argv.push('-U');
      if (state === 'forcereinstall') argv.push('-U', '--force-reinstall');
    }
    const extra = a.str('extra_args');
    const words = reqFile ? ['-r', reqFile] : a.bool('editable') ? todo.flatMap((s) => ['-e', s]) : todo;
    const cmd = `${pre}${pipCmd} ${argvLine(argv)}${extra ? ` ${argvLine(shlexSplit(extra))}` : ''} ${argvLine(words)}`;
    const r = await sh(ctx, cmd, { ...cwd, env: { PIP_DISABLE_PIP_VERSION_CHECK: '1' } });
    const shown = `pip ${argv.join(' ')}${extra ? ` ${extra}` : ''} ${words.join(' ')}`;
    if (r.rc !== 0) {
      throw new Fail(`stdout: ${tail(r.stdout, 3)}\n\n:stderr: ${tail(r.stderr, 5)}`, { cmd: shown, rc: r.rc, stdout: r.stdout, stderr: r.stderr, stdout_lines: splitlines(r.stdout) });
    }
    const after = await freeze();
    const differs = before.size !== after.size || [...after].some(([k, v]) => before.get(k) !== v);
    return {
      changed: changed || differs || state === 'forcereinstall',
      cmd: shown,
      name: names,
      requirements: reqFile ?? null,
      state,
      version: version ?? null,
      virtualenv: venv ?? null,
      stdout: r.stdout,
      stderr: r.stderr,
    };
  },
});
