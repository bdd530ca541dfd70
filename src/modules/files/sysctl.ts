/**
 * `sysctl` (ansible.posix): keep `name=value` in sysctl_file (default /etc/sysctl.conf; the file is
 * rewritten in Ansible's normalised `k=v` form, later duplicates of a key dropped), optionally set the live
 * value (sysctl_set) and reload the file (`sysctl -p <file>`, default yes) when something changed or the
 * live value differs.
 */
import type { ModuleResult } from '../types.js';
import { boolArg, choiceArg, defineModule, Fail, planWrite, shq, strArg, writeFile } from './common.js';

const PARAMS = ['name', 'key', 'value', 'val', 'state', 'ignoreerrors', 'reload', 'sysctl_file', 'sysctl_set'];
const TRUE = ['y', 'yes', 'on', '1', 'true', 't'];
const FALSE = ['n', 'no', 'off', '0', 'false', 'f'];

function parseValue(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'string') {
    if (TRUE.includes(v.toLowerCase())) return '1';
    if (FALSE.includes(v.toLowerCase())) return '0';
    return v.trim();
  }
  return String(v);
}

function sameValue(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = a.split(/\s+/).filter(Boolean);
  const y = b.split(/\s+/).filter(Boolean);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

const STDERR_FAILED = /^sysctl: setting key "[^"]+": (Invalid argument|Read-only file system)$/m;

export const sysctlModule = defineModule({
  name: 'sysctl',
  params: PARAMS,
  async run(args, ctx, r) {
    const name = strArg(args, ['name', 'key'], { required: true })!.trim();
    const state = choiceArg(args, 'state', ['present', 'absent'] as const, 'present')!;
    const rawValue = args.value ?? args.val;
    if (state === 'present' && (rawValue === undefined || rawValue === null)) throw new Fail('value is required when state is present', { name });
    const value = parseValue(rawValue);
    const reload = boolArg(args, 'reload', true);
    const ignore = boolArg(args, 'ignoreerrors');
    const set = boolArg(args, 'sysctl_set');
    const file = await r.expandUser(strArg(args, 'sysctl_file') ?? '/etc/sysctl.conf');
    if (!/^[A-Za-z0-9_.\-/*]+$/.test(name)) throw new Fail(`invalid sysctl name ${JSON.stringify(name)}`);

    const cur = await r.sh(`sysctl -e -n ${shq(name)}`, { env: { LANG: 'C', LC_ALL: 'C' } });
    const proc = cur.rc === 0 ? cur.stdout : undefined;
    const info = await r.stat(file, { follow: true });
    const t = info.kind === 'link' ? info.target : info;
    const real = info.kind === 'link' ? (info.realpath ?? file) : file;
    const text = t?.exists && t.kind === 'file' ? (await r.get(real)).toString('utf8') : '';
    const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n').map((l) => l.trim());
    const values = new Map<string, string>();
    for (const l of lines) {
      if (!l || l.startsWith('#') || l.startsWith(';') || !l.includes('=')) continue;
      const i = l.indexOf('=');
      values.set(l.slice(0, i).trim(), l.slice(i + 1).trim());
    }
    // fix_lines: normalise k=v, drop later duplicates, replace/remove/append ours
    const seen = new Set<string>();
    const fixed: string[] = [];
    for (const l of lines) {
      if (!l.trim() || l.trim().startsWith('#') || l.trim().startsWith(';') || !l.includes('=')) {
        fixed.push(l);
        continue;
      }
      const i = l.indexOf('=');
      const k = l.slice(0, i).trim();
      const v = l.slice(i + 1).trim();
      if (seen.has(k)) continue;
      seen.add(k);
      if (k === name) {
        if (state === 'present') fixed.push(`${k}=${value}`);
      } else fixed.push(`${k}=${v}`);
    }
    if (!seen.has(name) && state === 'present') fixed.push(`${name}=${value}`);

    const fileValue = values.get(name);
    let changed = false;
    let writeFileNeeded = false;
    let setProc = false;
    if (fileValue === undefined && state === 'present') changed = writeFileNeeded = true;
    else if (fileValue === undefined && state === 'absent') changed = false;
    else if (fileValue !== undefined && fileValue !== '' && state === 'absent') changed = writeFileNeeded = true;
    else if (fileValue !== value) changed = writeFileNeeded = true;
    else if (reload && (proc === undefined || !sameValue(proc, value))) changed = true;
    if (set && state === 'present') {
      if (proc === undefined) changed = true;
      else if (!sameValue(proc, value)) changed = setProc = true;
    }
    const res: ModuleResult = { changed, name, value, state, sysctl_file: file, reload, sysctl_set: set, ignoreerrors: ignore };
    const next = fixed.map((l) => `${l.trim()}\n`).join('');
    if (ctx.diff && writeFileNeeded) res.diff = { before: text, after: next, before_header: file, after_header: file };
    if (ctx.check) return res;
    const env = { LANG: 'C', LC_ALL: 'C' };
    if (setProc) {
      const v = value.split(/\s+/).filter(Boolean).length > 0 ? value : '';
      const out = await r.sh(`sysctl ${ignore ? '-e ' : ''}-w ${shq(`${name}=${v}`)}`, { env });
      if (out.rc !== 0 || STDERR_FAILED.test(out.stderr)) throw new Fail(`setting ${name} failed: ${(out.stdout + out.stderr).trim()}`);
    }
    if (writeFileNeeded) {
      const target = t ?? info;
      const plan = await planWrite(r, target, {});
      await writeFile(r, { dest: real, content: Buffer.from(next, 'utf8'), before: target, want: {} }, plan);
    }
    if (changed && reload) {
      const out = await r.sh(`sysctl ${ignore ? '-e ' : ''}-p ${shq(file)}`, { env });
      if (out.rc !== 0 || STDERR_FAILED.test(out.stderr)) {
        throw new Fail(`Failed to reload sysctl: ${(out.stdout + out.stderr).trim()}; fix the file ${file} or set ignoreerrors`, { changed: true });
      }
    }
    return res;
  },
});
