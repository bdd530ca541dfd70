/**
 * `file`: state file/directory/absent/touch/link/hard with mode (octal, int, symbolic), owner, group,
 * recurse, follow, force and the timestamp options — Ansible's file module semantics (default state =
 * the current one, intermediate directories get the same attributes, touch always reports a change).
 */
import {
  applyAttrs,
  attrDiff,
  attrPlanEmpty,
  boolArg,
  choiceArg,
  defineModule,
  dictDiff,
  Fail,
  FILE_COMMON,
  type FileInfo,
  joinPath,
  ModuleArgError,
  parentDir,
  pathArg,
  pathInfo,
  planAttrs,
  type Remote,
  resolveMode,
  shq,
  stateOf,
  strArg,
  type WantAttrs,
  wantAttrs,
} from './common.js';
import type { ModuleContext, ModuleResult } from '../types.js';

type State = 'file' | 'directory' | 'link' | 'hard' | 'touch' | 'absent';

const PARAMS = [
  'path',
  'dest',
  'name',
  'state',
  'recurse',
  'force',
  'follow',
  'src',
  'modification_time',
  'modification_time_format',
  'access_time',
  'access_time_format',
  '_original_basename',
  '_diff_peek',
  ...FILE_COMMON,
];

// ───────────────────────────────────────────── timestamps ─────────────────────────────────────────────

interface Stamp {
  kind: 'preserve' | 'now' | 'at';
  /** `touch -t` form (target local time): CCYYMMDDhhmm.ss */
  t?: string;
  /** `YYYY-MM-DD hh:mm:ss` for comparison with stat's %y */
  cmp?: string;
}

/** Parses Ansible's modification_time/access_time with a strftime format (%Y %m %d %H %M %S %y %%). */
function parseStamp(v: string | undefined, format: string, state: State, name: string): Stamp {
  if (v === undefined) return { kind: state === 'touch' ? 'now' : 'preserve' };
  if (v === 'preserve' || v === 'now') return { kind: v };
  const f: Record<string, number> = { Y: 1900, m: 1, d: 1, H: 0, M: 0, S: 0 };
  let i = 0;
  const bad = (): never => {
    throw new ModuleArgError(`Error while obtaining timestamp for time ${v} using format ${format}: time data does not match the format`);
  };
  for (let k = 0; k < format.length; k++) {
    const c = format[k]!;
    if (c !== '%') {
      if (v[i] !== c) bad();
      i++;
      continue;
    }
    const d = format[++k];
    if (d === '%') {
      if (v[i] !== '%') bad();
      i++;
      continue;
    }
    const width = d === 'Y' ? 4 : 2;
    const m = new RegExp(`^\\d{1,${width}}`).exec(v.slice(i));
    if (!m || !d || !'YmdHMSy'.includes(d)) {
      if (d && !'YmdHMSy'.includes(d)) throw new ModuleArgError(`${name}_format: directive %${d} is not supported (use %Y %m %d %H %M %S %y)`);
      bad();
    }
    i += m![0].length;
    const n = Number(m![0]);
    if (d === 'y') f.Y = n < 69 ? 2000 + n : 1900 + n;
    else f[d!] = n;
  }
  if (i !== v.length) bad();
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const t = `${String(f.Y).padStart(4, '0')}${p2(f.m!)}${p2(f.d!)}${p2(f.H!)}${p2(f.M!)}.${p2(f.S!)}`;
  const cmp = `${String(f.Y).padStart(4, '0')}-${p2(f.m!)}-${p2(f.d!)} ${p2(f.H!)}:${p2(f.M!)}:${p2(f.S!)}`;
  return { kind: 'at', t, cmp };
}

interface Stamps {
  mtime: Stamp;
  atime: Stamp;
}

function stampDiffers(s: Stamp, cur: string | undefined): boolean {
  if (s.kind === 'preserve') return false;
  if (s.kind === 'now') return true;
  return !(cur ?? '').startsWith(`${s.cmp}.000000000`) && !(cur ?? '').startsWith(`${s.cmp} `);
}

/** Ansible's update_timestamp_for_file: returns whether timestamps change (and changes them unless check). */
async function updateStamps(r: Remote, info: FileInfo, st: Stamps, diff: { before: Record<string, unknown>; after: Record<string, unknown> }): Promise<boolean> {
  if (!info.exists) return false;
  const m = stampDiffers(st.mtime, info.mtimeStr);
  const a = stampDiffers(st.atime, info.atimeStr);
  if (!m && !a) return false;
  if (m) {
    diff.before.mtime = info.mtime;
    diff.after.mtime = st.mtime.kind === 'now' ? 'now' : st.mtime.cmp;
  }
  if (a) {
    diff.before.atime = info.atime;
    diff.after.atime = st.atime.kind === 'now' ? 'now' : st.atime.cmp;
  }
  if (r.check) return true;
  const cmds: string[] = [];
  const one = (flag: string, s: Stamp): void => {
    cmds.push(s.kind === 'now' ? `touch -c -h ${flag} -- ${shq(info.path)}` : `touch -c -h ${flag} -t ${s.t} -- ${shq(info.path)}`);
  };
  if (m && a && st.mtime.kind === st.atime.kind && st.mtime.t === st.atime.t) one('', st.mtime);
  else {
    if (m) one('-m', st.mtime);
    if (a) one('-a', st.atime);
  }
  await r.shOk(cmds.join(' && '), `could not update the timestamps of ${info.path}`);
  return true;
}

// ───────────────────────────────────────────── states ─────────────────────────────────────────────

interface Ctx {
  r: Remote;
  ctx: ModuleContext;
  path: string;
  want: WantAttrs;
  stamps: Stamps;
  diffB: Record<string, unknown>;
  diffA: Record<string, unknown>;
}

function initialDiff(c: Ctx, state: string, prev: string): void {
  c.diffB.path = c.path;
  c.diffA.path = c.path;
  if (prev !== state) {
    c.diffB.state = prev;
    c.diffA.state = state;
  }
}

/** set_fs_attributes_if_different + timestamps on one existing path */
async function settle(c: Ctx, info: FileInfo): Promise<boolean> {
  const plan = await planAttrs(c.r, info, c.want);
  attrDiff(plan, c.diffB, c.diffA);
  let changed = !attrPlanEmpty(plan);
  if (changed && !c.r.check) await applyAttrs(c.r, info.path, plan);
  changed = (await updateStamps(c.r, info, c.stamps, { before: c.diffB, after: c.diffA })) || changed;
  return changed;
}

async function finish(c: Ctx, changed: boolean, key: 'path' | 'dest', extra: Record<string, unknown> = {}, statPath = c.path): Promise<ModuleResult> {
  const res: ModuleResult = { changed, [key]: c.path, ...extra };
  const after = await c.r.stat(statPath);
  Object.assign(res, pathInfo(after));
  if (c.ctx.diff) res.diff = dictDiff(c.diffB, c.diffA);
  return res;
}

async function ensureAbsent(c: Ctx, info: FileInfo): Promise<ModuleResult> {
  const prev = stateOf(info);
  if (prev === 'absent') return { changed: false, path: c.path, state: 'absent' };
  initialDiff(c, 'absent', prev);
  if (prev === 'directory' && c.ctx.diff) {
    const out = await c.r.sh(`find ${shq(c.path)} -mindepth 1 \\( -type d -printf 'd%p\\n' -o -printf 'f%p\\n' \\)`);
    const lines = out.stdout.split('\n').filter(Boolean);
    c.diffB.path_content = {
      directories: lines.filter((l) => l.startsWith('d')).map((l) => l.slice(1)),
      files: lines.filter((l) => l.startsWith('f')).map((l) => l.slice(1)),
    };
  }
  if (!c.r.check) {
    const cmd = prev === 'directory' ? `rm -rf -- ${shq(c.path)}` : `rm -f -- ${shq(c.path)}`;
    await c.r.shOk(cmd, prev === 'directory' ? `rmtree failed on ${c.path}` : `unlinking failed on ${c.path}`);
  }
  // Ansible adds the path's info when it still exists (check mode): its state then shows what is there
  const res: ModuleResult = { changed: true, path: c.path, state: 'absent', ...(c.r.check ? pathInfo(info) : {}) };
  if (c.ctx.diff) res.diff = dictDiff(c.diffB, c.diffA);
  return res;
}

async function ensureFile(c: Ctx, info: FileInfo, follow: boolean): Promise<ModuleResult> {
  let prev = stateOf(info);
  let target = info;
  if (prev !== 'file' && follow && prev === 'link') {
    target = info.target ?? (await c.r.stat(info.realpath ?? c.path));
    c.path = info.realpath ?? c.path;
    prev = stateOf(target);
  }
  if (prev !== 'file' && prev !== 'hard') {
    throw new Fail(
      prev === 'absent'
        ? `file (${c.path}) is absent, cannot continue: use state=touch to create an empty file, or copy/template to create it with content`
        : `file (${c.path}) is ${prev}, cannot continue: state=file only manages existing regular files`,
      { path: c.path, state: prev },
    );
  }
  initialDiff(c, 'file', prev);
  const changed = await settle(c, target);
  return finish(c, changed, 'path');
}

async function ensureDirectory(c: Ctx, info: FileInfo, follow: boolean, recurse: boolean): Promise<ModuleResult> {
  let prev = stateOf(info);
  let cur = info;
  if (follow && prev === 'link') {
    c.path = info.realpath ?? c.path;
    cur = info.target ?? (await c.r.stat(c.path));
    prev = stateOf(cur);
  }
  initialDiff(c, 'directory', prev);
  if (prev === 'absent') {
    if (c.r.check) {
      const res: ModuleResult = { changed: true, path: c.path };
      if (c.ctx.diff) res.diff = dictDiff(c.diffB, c.diffA);
      return res;
    }
    await mkdirs(c, c.path);
    return finish(c, true, 'path');
  }
  if (prev !== 'directory') throw new Fail(`${c.path} already exists as a ${prev}: remove it first (state=absent) or choose another path`, { path: c.path });
  let changed = await settle(c, cur);
  if (recurse) changed = (await recursive(c, c.path)) || changed;
  return finish(c, changed, 'path');
}

/** mkdir of every missing component, each new directory getting mode/owner/group (as Ansible does). */
async function mkdirs(c: Ctx, path: string): Promise<void> {
  const env = await c.r.env();
  const ids = await c.r.ids(c.want.owner, c.want.group);
  const dflt = 0o777 & ~env.umask;
  const mode = c.want.mode !== undefined ? resolveMode(c.want.mode, dflt, true, env.umask) : undefined;
  const post: string[] = [];
  if (ids.uid !== undefined) post.push(`chown ${ids.uid} -- "$cur"`);
  if (ids.gid !== undefined) post.push(`chgrp ${ids.gid} -- "$cur"`);
  if (mode !== undefined) post.push(`chmod ${mode.toString(8)} -- "$cur"`);
  const comps = path.split('/').filter(Boolean);
  const script = [
    `cur=${path.startsWith('/') ? "''" : "'.'"}`,
    `for d in ${comps.map(shq).join(' ')}; do`,
    `  if [ -z "$cur" ]; then cur="/$d"; elif [ "$cur" = . ]; then cur="$d"; else cur="$cur/$d"; fi`,
    `  if [ ! -e "$cur" ]; then mkdir -- "$cur" || exit 1${post.length ? `; ${post.join(' && ')} || exit 1` : ''}; fi`,
    'done',
  ].join('\n');
  await c.r.shOk(script, `There was an issue creating ${path} as requested`);
}

/** recurse=yes: attributes of everything under the directory (symlinks: owner/group of the link itself). */
async function recursive(c: Ctx, root: string): Promise<boolean> {
  if (c.want.mode === undefined && c.want.owner === undefined && c.want.group === undefined) return false;
  const env = await c.r.env();
  const ids = await c.r.ids(c.want.owner, c.want.group);
  const out = await c.r.shOk(`find ${shq(root)} -mindepth 1 -exec stat -c '%f %u %g %n' -- {} +`, `could not list ${root}`);
  const groups = new Map<string, string[]>();
  const add = (cmd: string, p: string): void => {
    const l = groups.get(cmd);
    if (l) l.push(p);
    else groups.set(cmd, [p]);
  };
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]+) (\d+) (\d+) (.*)$/.exec(line);
    if (!m) continue;
    const raw = parseInt(m[1]!, 16);
    const type = raw & 0o170000;
    const p = m[4]!;
    if (ids.uid !== undefined && Number(m[2]) !== ids.uid) add(`chown -h ${ids.uid}`, p);
    if (ids.gid !== undefined && Number(m[3]) !== ids.gid) add(`chgrp -h ${ids.gid}`, p);
    if (c.want.mode !== undefined && type !== 0o120000) {
      const mode = resolveMode(c.want.mode, raw & 0o7777, type === 0o040000, env.umask);
      if (mode !== (raw & 0o7777)) add(`chmod ${mode.toString(8)}`, p);
    }
  }
  if (groups.size === 0) return false;
  if (c.r.check) return true;
  // chown before chmod (chown clears suid bits)
  const order = [...groups.keys()].sort((a, b) => (a.startsWith('chmod') ? 1 : 0) - (b.startsWith('chmod') ? 1 : 0));
  for (const cmd of order) {
    const list = groups.get(cmd)!;
    await c.r.shOk(`xargs -0 ${cmd} --`, `could not set attributes recursively under ${root}`, { stdin: list.join('\0'), trace: `${cmd} (${list.length} paths under ${root})` });
  }
  return true;
}

async function ensureSymlink(c: Ctx, info: FileInfo, src: string | undefined, follow: boolean, force: boolean): Promise<ModuleResult> {
  const prev = stateOf(info);
  if (src === undefined && follow && info.exists && info.kind === 'link') src = info.linkTarget;
  const relBase = info.kind === 'directory' ? c.path : parentDir(c.path);
  const absrc = src === undefined ? undefined : joinPath(relBase, src);
  if (!force && absrc !== undefined) {
    const s = await c.r.stat(absrc, { follow: true });
    const exists = s.exists && (s.kind !== 'link' || s.target !== undefined);
    if (!exists) throw new Fail(`src file does not exist, use "force=yes" if you really want to create the link: ${absrc}`, { path: c.path, src });
  }
  if (prev === 'directory') {
    if (!force) throw new Fail(`refusing to convert from directory to symlink for ${c.path}: set force=yes to replace an empty directory`, { path: c.path });
    const ls = await c.r.sh(`ls -A -- ${shq(c.path)} | head -1`);
    if (ls.stdout.trim() !== '') throw new Fail(`the directory ${c.path} is not empty, refusing to convert it`, { path: c.path });
  } else if ((prev === 'file' || prev === 'hard') && !force) {
    throw new Fail(`refusing to convert from ${prev} to symlink for ${c.path}: set force=yes to replace it`, { path: c.path });
  }
  initialDiff(c, 'link', prev);
  let changed = false;
  if (prev !== 'link') {
    if (src === undefined) throw new Fail('src is required for creating new symlinks');
    changed = true;
  } else if (src !== undefined && info.linkTarget !== src) {
    c.diffB.src = info.linkTarget;
    c.diffA.src = src;
    changed = true;
  }
  if (changed && !c.r.check) {
    if (prev === 'absent') await c.r.shOk(`ln -s -- ${shq(src!)} ${shq(c.path)}`, `Error while linking ${c.path}`);
    else {
      const tmp = joinPath(parentDir(c.path), `.burrow-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.tmp`);
      const rm = prev === 'directory' ? `rmdir -- ${shq(c.path)} && ` : '';
      await c.r.shOk(`${rm}ln -s -- ${shq(src!)} ${shq(tmp)} && mv -fT -- ${shq(tmp)} ${shq(c.path)} || { rm -f -- ${shq(tmp)}; exit 1; }`, `Error while replacing ${c.path}`);
    }
  }
  if (c.r.check && prev === 'absent') {
    const res: ModuleResult = { changed, dest: c.path, src };
    if (c.ctx.diff) res.diff = dictDiff(c.diffB, c.diffA);
    return res;
  }
  const now = c.r.check ? info : await c.r.stat(c.path, { follow: true });
  const attrsWanted = c.want.mode !== undefined || c.want.owner !== undefined || c.want.group !== undefined;
  if (follow && now.kind === 'link' && !now.target) {
    if (attrsWanted) c.ctx.warn('Cannot set fs attributes on a non-existent symlink target. follow should be set to False to avoid this.');
  } else if (follow && now.kind === 'link' && now.target) {
    changed = (await settle(c, now.target)) || changed;
  } else {
    changed = (await settle(c, now)) || changed;
  }
  return finish(c, changed, 'dest', { src });
}

async function ensureHardlink(c: Ctx, info: FileInfo, src: string | undefined, force: boolean): Promise<ModuleResult> {
  const prev = stateOf(info);
  if (prev !== 'hard' && src === undefined) throw new Fail('src is required for creating new hardlinks');
  let srcInfo: FileInfo | undefined;
  if (src !== undefined) {
    srcInfo = await c.r.stat(src, { follow: true });
    const ok = srcInfo.exists && (srcInfo.kind !== 'link' || srcInfo.target);
    if (!ok) throw new Fail(`src does not exist: ${src}`, { dest: c.path, src });
  }
  const srcInode = srcInfo?.kind === 'link' ? srcInfo.target?.inode : srcInfo?.inode;
  initialDiff(c, 'hard', prev);
  let changed = false;
  if (prev === 'absent') changed = true;
  else if (prev === 'link') {
    if (info.linkTarget !== src) {
      c.diffB.src = info.linkTarget;
      c.diffA.src = src;
    }
    changed = true;
  } else if (prev === 'hard') {
    if (src !== undefined && info.inode !== srcInode) {
      changed = true;
      if (!force) throw new Fail(`Cannot link, different hard link exists at destination ${c.path}: set force=yes to replace it`, { dest: c.path, src });
    }
  } else if (prev === 'file') {
    changed = info.inode !== srcInode;
    if (changed && !force) throw new Fail(`Cannot link, file exists at destination ${c.path}: set force=yes to replace it`, { dest: c.path, src });
  } else if (prev === 'directory') {
    throw new Fail(`Cannot link: a directory exists at destination ${c.path}`, { dest: c.path, src });
  }
  if (changed && !c.r.check) {
    if (prev === 'absent') await c.r.shOk(`ln -- ${shq(src!)} ${shq(c.path)}`, `Error while linking ${c.path}`);
    else {
      const tmp = joinPath(parentDir(c.path), `.burrow-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.tmp`);
      await c.r.shOk(`ln -- ${shq(src!)} ${shq(tmp)} && mv -fT -- ${shq(tmp)} ${shq(c.path)} || { rm -f -- ${shq(tmp)}; exit 1; }`, `Error while replacing ${c.path}`);
    }
  }
  if (c.r.check && prev === 'absent') {
    const res: ModuleResult = { changed, dest: c.path, src };
    if (c.ctx.diff) res.diff = dictDiff(c.diffB, c.diffA);
    return res;
  }
  const now = c.r.check ? (srcInfo ?? info) : await c.r.stat(c.path);
  changed = (await settle(c, now.kind === 'link' && now.target ? now.target : now)) || changed;
  return finish(c, changed, 'dest', { src });
}

async function touch(c: Ctx, info: FileInfo): Promise<ModuleResult> {
  const prev = stateOf(info);
  let changed = false;
  if (prev === 'absent') {
    if (c.r.check) return { changed: true, dest: c.path };
    const env = await c.r.env();
    // create empty with the default mode (0666 & ~umask), as open(path, 'wb') does
    await c.r.shOk(`umask ${(env.umask & 0o777).toString(8).padStart(3, '0')}; : >> ${shq(c.path)}`, `Error, could not touch target ${c.path}`);
    changed = true;
  }
  initialDiff(c, 'touch', prev);
  const now = prev === 'absent' ? await c.r.stat(c.path) : info;
  try {
    changed = (await settle(c, now)) || changed;
  } catch (e) {
    if (prev === 'absent' && !c.r.check) await c.r.sh(`rm -f -- ${shq(c.path)}`);
    throw e;
  }
  return finish(c, changed, 'dest');
}

export const fileModule = defineModule({
  name: 'file',
  params: PARAMS,
  async run(args, ctx, r) {
    let path = await r.expandUser(pathArg(args, ['path', 'dest', 'name']));
    let state = choiceArg<State>(args, 'state', ['file', 'directory', 'link', 'hard', 'touch', 'absent']);
    const recurse = boolArg(args, 'recurse');
    const force = boolArg(args, 'force');
    const follow = boolArg(args, 'follow', true);
    const srcArg = strArg(args, 'src');
    const src = srcArg === undefined ? undefined : await r.expandUser(srcArg);
    const want = wantAttrs(args, ctx, r);

    let info = await r.stat(path, { follow: true });
    // a directory path with _original_basename (copy/template's file call) names the file inside it
    const ob = strArg(args, '_original_basename');
    if (state !== 'link' && state !== 'absent' && ob && (info.kind === 'directory' || info.target?.kind === 'directory')) {
      path = joinPath(path, ob);
      info = await r.stat(path, { follow: true });
    }
    const prev = stateOf(info);
    if (state === undefined) state = prev !== 'absent' ? prev : recurse ? 'directory' : 'file';
    if (recurse && state !== 'directory') throw new Fail("recurse option requires state to be 'directory'", { path });
    if (src !== undefined && state !== 'link' && state !== 'hard') throw new Fail("src option requires state to be 'link' or 'hard'", { path });
    if (boolArg(args, '_diff_peek', false)) {
      const peek = await r.sh(`head -c 8192 -- ${shq(path)} | tr -d '\\000' | wc -c; head -c 8192 -- ${shq(path)} | wc -c`);
      const [a, b] = peek.stdout.trim().split(/\s+/);
      return { changed: false, path, appears_binary: a !== b };
    }
    const stamps: Stamps = {
      mtime: parseStamp(strArg(args, 'modification_time'), strArg(args, 'modification_time_format') ?? '%Y%m%d%H%M.%S', state, 'modification_time'),
      atime: parseStamp(strArg(args, 'access_time'), strArg(args, 'access_time_format') ?? '%Y%m%d%H%M.%S', state, 'access_time'),
    };
    if (ctx.check && state !== 'absent' && (want.owner !== undefined || want.group !== undefined)) {
      // Ansible only warns in check mode when the owner/group does not exist yet (it may be created earlier in a real run)
      try {
        await r.ids(want.owner, want.group);
      } catch (e) {
        if (!(e instanceof Fail)) throw e;
        ctx.warn(`${e.message.replace(/;.*$/, '')}. Create it up to this point in a real play`);
        if (prev === 'absent') return { changed: true, path };
        throw e;
      }
    }
    const c: Ctx = { r, ctx, path, want, stamps, diffB: {}, diffA: {} };
    switch (state) {
      case 'absent':
        return ensureAbsent(c, info);
      case 'file':
        return ensureFile(c, info, follow);
      case 'directory':
        return ensureDirectory(c, info, follow, recurse);
      case 'link':
        return ensureSymlink(c, info, src, follow, force);
      case 'hard':
        return ensureHardlink(c, info, src, force);
      case 'touch':
        return touch(c, info);
    }
  },
});
