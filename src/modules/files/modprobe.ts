/**
 * `modprobe` (community.general): load/unload a kernel module (loaded = listed in /proc/modules or built
 * in), with `params`; `persistent: present` writes /etc/modules-load.d/<name>.conf and, for params,
 * /etc/modprobe.d/<name>.conf (`options <name> k=v`, older option lines for the module commented out);
 * `persistent: absent` comments the module's lines out. Check mode runs `modprobe -n` and writes nothing.
 */
import type { ModuleResult } from '../types.js';
import { choiceArg, defineModule, Fail, type Remote, shq, strArg } from './common.js';

const LOAD_DIR = '/etc/modules-load.d';
const OPT_DIR = '/etc/modprobe.d';

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function isLoaded(r: Remote, name: string): Promise<boolean> {
  const res = await r.sh(
    `n=${shq(name.replace(/-/g, '_'))}; awk -v n="$n" '$1==n{f=1} END{exit !f}' /proc/modules && exit 0; ` +
      `awk -v m=${shq(`/${name}.ko`)} 'substr($0, length($0)-length(m)+1)==m{f=1} END{exit !f}' "/lib/modules/$(uname -r)/modules.builtin" 2>/dev/null`,
  );
  return res.rc === 0;
}

interface ConfFile {
  path: string;
  lines: string[];
}

/** every regular file in a directory, with its lines */
async function readDir(r: Remote, dir: string): Promise<ConfFile[]> {
  const res = await r.sh(`[ -d ${shq(dir)} ] || exit 0; for f in ${shq(dir)}/*; do [ -f "$f" ] || continue; printf '\\001%s\\n' "$f"; cat -- "$f"; printf '\\n'; done`);
  const out: ConfFile[] = [];
  for (const chunk of res.stdout.split('\x01').slice(1)) {
    const nl = chunk.indexOf('\n');
    // drop the newline printed after the file, then the file's own final newline
    const body = chunk.slice(nl + 1).replace(/\n$/, '').replace(/\n$/, '');
    out.push({ path: chunk.slice(0, nl), lines: body === '' ? [] : body.split('\n') });
  }
  return out;
}

export const modprobeModule = defineModule({
  name: 'modprobe',
  params: ['name', 'state', 'params', 'persistent'],
  async run(args, ctx, r) {
    const name = strArg(args, 'name', { required: true })!;
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Fail(`invalid module name ${JSON.stringify(name)}`);
    const state = choiceArg(args, 'state', ['present', 'absent'] as const, 'present')!;
    const params = strArg(args, 'params') ?? '';
    const persistent = choiceArg(args, 'persistent', ['disabled', 'present', 'absent'] as const, 'disabled')!;
    const res: ModuleResult = { changed: false, name, params, state };
    const words = params.split(/\s+/).filter(Boolean);

    const loaded = await isLoaded(r, name);
    if (state === 'present' && !loaded) {
      const out = await r.sh(`modprobe ${ctx.check ? '-n ' : ''}-- ${[name, ...words].map(shq).join(' ')}`);
      if (out.rc !== 0) throw new Fail(`modprobe ${name} failed: ${out.stderr.trim() || out.stdout.trim() || `rc ${out.rc}`}`, { rc: out.rc, stdout: out.stdout, stderr: out.stderr });
      if (ctx.check || (await isLoaded(r, name))) res.changed = true;
    } else if (state === 'absent' && loaded) {
      const out = await r.sh(`modprobe -r ${ctx.check ? '-n ' : ''}-- ${shq(name)}`);
      if (out.rc !== 0) throw new Fail(`modprobe -r ${name} failed: ${out.stderr.trim() || `rc ${out.rc}`}; is the module in use?`, { rc: out.rc, stderr: out.stderr });
      res.changed = true;
    }

    if (persistent === 'disabled') return res;
    const reModule = new RegExp(`^ *${escapeRe(name)} *(?:[#;].*)?$`);
    const reParam = new RegExp(`^options ${escapeRe(name)} (\\w+=\\S+) *(?:[#;].*)?$`);
    const loadFiles = await readDir(r, LOAD_DIR);
    const optFiles = await readDir(r, OPT_DIR);
    const persisted = loadFiles.some((f) => f.lines.some((l) => reModule.test(l)));
    const current = new Set(optFiles.flatMap((f) => f.lines.map((l) => reParam.exec(l)?.[1]).filter((x): x is string => !!x)));
    const paramsSet = current.size === new Set(words).size && words.every((w) => current.has(w));
    const writes: { path: string; text: string }[] = [];
    const commentOut = (files: ConfFile[], re: RegExp): void => {
      for (const f of files) {
        if (!f.lines.some((l) => re.test(l))) continue;
        writes.push({ path: f.path, text: f.lines.map((l) => (re.test(l) ? `#${l}` : l)).join('\n') + '\n' });
      }
    };
    if (persistent === 'present') {
      if (!persisted) writes.push({ path: `${LOAD_DIR}/${name}.conf`, text: `${name}\n` });
      if (!paramsSet) {
        commentOut(optFiles, reParam);
        if (words.length) writes.push({ path: `${OPT_DIR}/${name}.conf`, text: words.map((w) => `options ${name} ${w}`).join('\n') + '\n' });
      }
    } else {
      if (persisted) commentOut(loadFiles, reModule);
      if (current.size) commentOut(optFiles, reParam);
    }
    if (!writes.length) return res;
    res.changed = true;
    if (ctx.diff) res.diff = writes.map((w) => ({ before: '', after: w.text, before_header: w.path, after_header: w.path }));
    if (ctx.check) return res;
    // a later write to the same path (options file rewritten after commenting) wins
    const last = new Map(writes.map((w) => [w.path, w.text]));
    for (const [path, text] of last) {
      await r.shOk(`mkdir -p -- ${shq(path.slice(0, path.lastIndexOf('/')))}`, `could not create ${path.slice(0, path.lastIndexOf('/'))}`);
      await r.put(Buffer.from(text, 'utf8'), path, { mode: 0o644 });
    }
    return res;
  },
});
