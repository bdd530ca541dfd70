/**
 * `copy`: a controller file or directory (found with ctx.findFile('files', …)), inline `content`, or a file on
 * the target (`remote_src`) → dest. SHA-1 is compared first, so unchanged files are `ok`; then Ansible's
 * rules: dest directory / trailing slash, force, follow, backup, validate (%s), mode (incl. `preserve`),
 * owner, group, directory_mode; --diff shows before/after text.
 *
 * `deliver()` is shared with `template` (same write semantics, different source).
 */
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { FileDiff, ModuleContext, ModuleResult } from '../types.js';
import {
  applyAttrs,
  attrDiff,
  attrPlanEmpty,
  baseName,
  boolArg,
  defineModule,
  dictDiff,
  diffText,
  Fail,
  FILE_COMMON,
  type FileInfo,
  joinPath,
  MAX_DIFF_SIZE,
  md5,
  ModuleArgError,
  octal,
  parentDir,
  pathInfo,
  planAttrs,
  planWrite,
  pyJsonDumps,
  type Remote,
  resolveMode,
  sha1,
  shq,
  strArg,
  type WantAttrs,
  wantAttrs,
  writeFile,
} from './common.js';

export const COPY_PARAMS = [
  'src',
  'content',
  'dest',
  'backup',
  'force',
  'validate',
  'directory_mode',
  'remote_src',
  'local_follow',
  'checksum',
  'follow',
  'decrypt',
  '_original_basename',
  ...FILE_COMMON,
];

/** files at least this big are streamed from the controller instead of read into memory */
const STREAM_BYTES = 32 << 20;

export interface Source {
  /** what the diff's after_header shows (controller path, or `dynamically generated`) */
  label: string;
  /** name used when dest is a directory */
  name: string;
  size: number;
  sha1: string;
  md5?: string;
  /** the bytes (small files, content, templates) */
  data?: Uint8Array;
  /** opens a stream (large controller files) */
  open?: () => Readable;
  /** the source's own mode (for mode: preserve) */
  mode?: number;
}

export function bufferSource(data: Uint8Array, label: string, name: string, mode?: number): Source {
  const s: Source = { label, name, size: data.length, sha1: sha1(data), md5: md5(data), data };
  if (mode !== undefined) s.mode = mode;
  return s;
}

async function fileSource(path: string, name: string): Promise<Source> {
  const st = statSync(path);
  if (st.size < STREAM_BYTES) return bufferSource(readFileSync(path), path, name, st.mode & 0o7777);
  const h1 = createHash('sha1');
  const h5 = createHash('md5');
  for await (const chunk of createReadStream(path)) {
    h1.update(chunk as Buffer);
    h5.update(chunk as Buffer);
  }
  return { label: path, name, size: st.size, sha1: h1.digest('hex'), md5: h5.digest('hex'), open: () => createReadStream(path), mode: st.mode & 0o7777 };
}

export interface DeliverOptions {
  dest: string;
  src: Source;
  want: WantAttrs;
  force: boolean;
  follow: boolean;
  backup: boolean;
  validate?: string;
  directoryMode?: unknown;
  /** `content`: a directory dest is an error */
  isContent: boolean;
  /** expected sha1 of the source (copy's `checksum`) */
  checksum?: string;
  /** create missing parent directories (recursive copies: Ansible passes dest with a trailing slash) */
  makeParents?: boolean;
}

/** Creates missing parent directories of `dir` (mkdir -p), giving new ones directory_mode/owner/group. */
async function makeDirs(r: Remote, dir: string, want: WantAttrs, directoryMode: unknown): Promise<void> {
  const env = await r.env();
  const ids = await r.ids(want.owner, want.group);
  const dmode = directoryMode !== undefined && directoryMode !== null ? resolveMode(directoryMode, 0o777 & ~env.umask, true, env.umask) : undefined;
  const post: string[] = [];
  if (ids.uid !== undefined) post.push(`chown ${ids.uid} -- "$cur"`);
  if (ids.gid !== undefined) post.push(`chgrp ${ids.gid} -- "$cur"`);
  if (dmode !== undefined) post.push(`chmod ${dmode.toString(8)} -- "$cur"`);
  const comps = dir.split('/').filter(Boolean);
  const script = [
    `cur=${dir.startsWith('/') ? "''" : "'.'"}`,
    `for d in ${comps.map(shq).join(' ')}; do`,
    `  if [ -z "$cur" ]; then cur="/$d"; elif [ "$cur" = . ]; then cur="$d"; else cur="$cur/$d"; fi`,
    `  if [ ! -e "$cur" ]; then mkdir -- "$cur" || exit 1${post.length ? `; ${post.join(' && ')} || exit 1` : ''}; fi`,
    'done',
  ].join('\n');
  await r.shOk(script, `could not create the directory ${dir}`);
}

/** One file to its destination on the target: the part of copy/template after the source is known. */
export async function deliver(r: Remote, ctx: ModuleContext, o: DeliverOptions): Promise<ModuleResult> {
  let dest = o.dest;
  if (!dest.includes('/')) dest = `./${dest}`;
  const trailing = dest.endsWith('/');
  if (trailing && o.isContent) throw new Fail('can not use content with a dir as dest');
  let destFile = trailing ? joinPath(dest, o.src.name) : dest;
  let [info, parent] = await r.probe([destFile, parentDir(destFile)], { follow: true, checksum: 'sha1' });
  if (info!.exists && (info!.kind === 'directory' || (info!.kind === 'link' && info!.target?.kind === 'directory'))) {
    if (o.isContent) throw new Fail(`can not use content with a dir as dest: ${dest} is a directory`);
    destFile = joinPath(destFile, o.src.name);
    [info, parent] = await r.probe([destFile, parentDir(destFile)], { follow: true, checksum: 'sha1' });
  }
  const before = info!;
  if (o.checksum && o.checksum !== o.src.sha1) {
    throw new Fail('Copied file does not match the expected checksum. Transfer failed.', { checksum: o.src.sha1, expected_checksum: o.checksum });
  }
  const base: ModuleResult = { changed: false, dest: destFile, src: o.src.label, checksum: o.src.sha1 };
  // force=no and something is there: Ansible's action plugin skips the file without running the module
  if (before.exists && !o.force) return { changed: false, dest: o.dest, src: o.src.label };

  // the file actually written: a followed symlink's target, else the path itself
  const followLink = o.follow && before.kind === 'link' && before.target !== undefined;
  const target: FileInfo = followLink ? before.target! : before;
  const writePath = followLink ? (before.realpath ?? destFile) : destFile;
  const destChecksum = followLink ? before.checksum : before.kind === 'link' ? undefined : before.checksum;
  const contentChanged = destChecksum !== o.src.sha1;

  if (!parent!.exists) {
    if (!trailing && !o.makeParents) {
      throw new Fail(`Destination directory ${parentDir(destFile)} does not exist: create it first (file: state=directory) or end dest with '/' to have it created`, {
        dest: destFile,
      });
    }
    if (r.check) {
      // the directory and the file would be created (Ansible's check mode reports just the change)
      const diff: FileDiff = { before: '', after: o.src.data ? diffText(o.src.data, 'the source') : '', before_header: destFile, after_header: o.src.label };
      return ctx.diff ? { changed: true, diff } : { changed: true };
    }
    await makeDirs(r, parentDir(destFile), o.want, o.directoryMode);
  } else if (parent!.kind !== 'directory' && parent!.target?.kind !== 'directory') {
    throw new Fail(`Destination ${parentDir(destFile)} is not a directory`, { dest: destFile });
  }

  const want: WantAttrs = { ...o.want };
  if (want.mode === 'preserve') {
    if (o.src.mode === undefined) delete want.mode;
    else want.mode = octal(o.src.mode);
  }
  const res: ModuleResult = { ...base };
  const diffs: FileDiff[] = [];
  if (contentChanged) {
    const plan = await planWrite(r, target, want);
    if (ctx.diff) {
      let beforeText = '';
      // what is there now, read through a symlink (as Ansible's diff does, even when the link gets replaced)
      const shown = before.kind === 'link' ? before.target : target;
      if (shown?.exists && shown.kind === 'file') {
        beforeText = shown.size > MAX_DIFF_SIZE ? `(the destination is larger than ${MAX_DIFF_SIZE} bytes: not shown)\n` : diffText(await r.get(destFile), 'the destination');
      }
      const d: FileDiff = {
        before: beforeText,
        after: o.src.data ? diffText(o.src.data, 'the source') : `(the source is larger than ${MAX_DIFF_SIZE} bytes: not shown)\n`,
        before_header: destFile,
        after_header: o.src.label,
      };
      diffs.push(d);
    }
    if (r.check) {
      // as Ansible's action plugin: a content change in check mode reports just that (and the diff)
      return ctx.diff ? { changed: true, diff: diffs[0] } : { changed: true };
    }
    const backup = await writeFile(r, { dest: writePath, content: o.src.data ?? o.src.open!, before: target, want, backup: o.backup, ...(o.validate ? { validate: o.validate } : {}) }, plan);
    if (backup) res.backup_file = backup;
    if (o.src.md5) res.md5sum = o.src.md5;
    res.changed = true;
  } else {
    const plan = await planAttrs(r, target, want);
    if (!attrPlanEmpty(plan)) {
      const b: Record<string, unknown> = { path: writePath };
      const a: Record<string, unknown> = { path: writePath };
      attrDiff(plan, b, a);
      if (ctx.diff) diffs.push(dictDiff(b, a));
      if (!r.check) await applyAttrs(r, writePath, plan);
      res.changed = true;
    }
  }
  if (diffs.length && ctx.diff) res.diff = diffs.length === 1 ? diffs[0] : diffs;
  const after = r.check ? target : await r.stat(writePath);
  Object.assign(res, pathInfo(after));
  return res;
}

// ───────────────────────────────────────────── controller directories ─────────────────────────────────────────────

interface Walk {
  files: { full: string; rel: string }[];
  dirs: string[];
  links: { target: string; rel: string }[];
}

/** Ansible's _walk_dirs: files, directories and (local_follow=no) symlinks under a controller directory. */
function walk(root: string, relRoot: string, localFollow: boolean, out: Walk, seen = new Set<string>()): void {
  const real = statSync(root);
  const key = `${real.dev}:${real.ino}`;
  if (seen.has(key)) return;
  seen.add(key);
  for (const name of readdirSync(root).sort()) {
    const full = join(root, name);
    const rel = relRoot ? `${relRoot}/${name}` : name;
    const l = lstatSync(full);
    if (l.isSymbolicLink() && !localFollow) {
      out.links.push({ target: readlinkSync(full), rel });
      continue;
    }
    let st;
    try {
      st = statSync(full);
    } catch {
      continue; // dangling link
    }
    if (st.isDirectory()) {
      out.dirs.push(rel);
      walk(full, rel, localFollow, out, seen);
    } else if (st.isFile()) out.files.push({ full, rel });
  }
}

async function copyTree(r: Remote, ctx: ModuleContext, args: Record<string, unknown>, srcDir: string, trailing: boolean, dest: string, common: Omit<DeliverOptions, 'dest' | 'src'>): Promise<ModuleResult> {
  const w: Walk = { files: [], dirs: [], links: [] };
  const top = trailing ? '' : baseName(srcDir);
  walk(srcDir, top, boolArg(args, 'local_follow', true), w);
  if (top) w.dirs.unshift(top);
  const destDir = dest.endsWith('/') ? dest : `${dest}/`;
  let changed = false;
  const diffs: FileDiff[] = [];
  const dirsWithFiles = new Set<string>();
  for (const f of w.files) {
    const rel = f.rel;
    const d = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    for (let p = d; p; p = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '') dirsWithFiles.add(p);
    const src = await fileSource(f.full, baseName(rel));
    const one = await deliver(r, ctx, { ...common, follow: false, dest: joinPath(destDir, rel), src, makeParents: true });
    if (one.failed) return one;
    changed ||= one.changed;
    if (one.diff) diffs.push(...(Array.isArray(one.diff) ? one.diff : [one.diff]));
  }
  // empty directories (and ones only holding links): file state=directory with directory_mode
  for (const d of w.dirs) {
    if (dirsWithFiles.has(d)) continue;
    const path = joinPath(destDir, d);
    const info = await r.stat(path, { follow: true });
    if (!info.exists) {
      changed = true;
      if (!r.check) await makeDirs(r, path, common.want, common.directoryMode);
    } else if (info.kind !== 'directory' && info.target?.kind !== 'directory') {
      throw new Fail(`${path} already exists as a ${info.kind}`);
    } else {
      const want: WantAttrs = { ...common.want, mode: common.directoryMode ?? undefined };
      if (want.mode === undefined) delete want.mode;
      const plan = await planAttrs(r, info.target ?? info, want);
      if (!attrPlanEmpty(plan)) {
        changed = true;
        if (!r.check) await applyAttrs(r, path, plan);
      }
    }
  }
  for (const l of w.links) {
    const path = joinPath(destDir, l.rel);
    const info = await r.stat(path);
    if (info.kind === 'link' && info.linkTarget === l.target) continue;
    changed = true;
    if (!r.check) await r.shOk(`mkdir -p -- ${shq(parentDir(path))} && ln -sfn -- ${shq(l.target)} ${shq(path)}`, `could not create the symlink ${path}`);
  }
  const res: ModuleResult = { changed, dest: destDir, src: srcDir };
  if (ctx.diff && diffs.length) res.diff = diffs;
  return res;
}

// ───────────────────────────────────────────── remote_src ─────────────────────────────────────────────

async function copyRemoteSrc(r: Remote, ctx: ModuleContext, src: string, o: Omit<DeliverOptions, 'src'>): Promise<ModuleResult> {
  const s = await r.stat(src, { follow: true, checksum: 'sha1' });
  const sf = s.kind === 'link' ? s.target : s;
  if (!s.exists || !sf) throw new Fail(`Source ${src} not found`);
  if (sf.kind === 'directory') return copyRemoteDir(r, src, o);
  if (sf.kind !== 'file') throw new Fail(`Cannot copy invalid source '${src}': not a file`);
  if (sf.readable === false || s.readable === false) throw new Fail(`Source ${src} not readable`);
  let dest = o.dest;
  if (!dest.includes('/')) dest = `./${dest}`;
  let destFile = dest.endsWith('/') ? joinPath(dest, baseName(src)) : dest;
  let [info, parent] = await r.probe([destFile, parentDir(destFile)], { follow: true, checksum: 'sha1' });
  if (info!.kind === 'directory' || info!.target?.kind === 'directory') {
    destFile = joinPath(destFile, baseName(src));
    [info, parent] = await r.probe([destFile, parentDir(destFile)], { follow: true, checksum: 'sha1' });
  }
  const sum = s.checksum!;
  // the copy module runs on the target here, and always reports the source's md5 (as Ansible's does)
  const md = await r.sh(`md5sum < ${shq(src)}`);
  const md5sum = md.rc === 0 ? md.stdout.slice(0, 32) : null;
  if (o.checksum && o.checksum !== sum) throw new Fail('Copied file does not match the expected checksum. Transfer failed.', { checksum: sum, expected_checksum: o.checksum });
  const res: ModuleResult = { changed: false, dest: destFile, src, md5sum, checksum: sum };
  if (info!.exists && !o.force) return { ...res, msg: 'file already exists' };
  if (!parent!.exists) {
    if (!dest.endsWith('/')) throw new Fail(`Destination directory ${parentDir(destFile)} does not exist: create it first or end dest with '/'`);
    if (r.check) return { ...res, changed: true, msg: `dest directory ${parentDir(destFile)} would be created` };
    await makeDirs(r, parentDir(destFile), o.want, o.directoryMode);
  }
  const followLink = o.follow && info!.kind === 'link' && info!.target !== undefined;
  const target = followLink ? info!.target! : info!;
  const writePath = followLink ? (info!.realpath ?? destFile) : destFile;
  const destSum = info!.kind === 'link' && !followLink ? undefined : info!.checksum;
  const want: WantAttrs = { ...o.want };
  if (want.mode === 'preserve') want.mode = octal(sf.mode);
  if (destSum !== sum) {
    const plan = await planWrite(r, target, want);
    if (ctx.diff) {
      const small = (i: FileInfo | undefined): boolean => !!i && i.kind === 'file' && i.size <= 104448;
      res.diff = {
        before: small(target) ? diffText(await r.get(writePath), 'the destination') : '',
        after: small(sf) ? diffText(await r.get(src), 'the source') : '',
        before_header: destFile,
        after_header: src,
      };
    }
    if (!r.check) {
      const b = await writeFile(r, { dest: writePath, remoteSrc: src, before: target, want, backup: o.backup, ...(o.validate ? { validate: o.validate } : {}) }, plan);
      if (b) res.backup_file = b;
    }
    res.changed = true;
  } else {
    const plan = await planAttrs(r, target, want);
    if (!attrPlanEmpty(plan)) {
      res.changed = true;
      if (!r.check) await applyAttrs(r, writePath, plan);
    }
  }
  Object.assign(res, pathInfo(r.check ? target : await r.stat(writePath)));
  return res;
}

/** remote_src directory: compare by SHA-1 listing, then cp -R what differs (trailing slash = contents). */
async function copyRemoteDir(r: Remote, src: string, o: Omit<DeliverOptions, 'src'>): Promise<ModuleResult> {
  const into = src.endsWith('/') ? o.dest : joinPath(o.dest, baseName(src));
  const list = async (dir: string): Promise<Map<string, string>> => {
    const out = await r.sh(`[ -d ${shq(dir)} ] && cd ${shq(dir)} && find . \\( -type f -exec sha1sum -- {} + \\) -o \\( -type d -printf 'dir  %p\\n' \\) -o \\( -type l -printf 'lnk  %p\\n' \\)`);
    const m = new Map<string, string>();
    for (const line of out.stdout.split('\n')) {
      const i = line.indexOf('  ');
      if (i > 0) m.set(line.slice(i + 2), line.slice(0, i));
    }
    return m;
  };
  const a = await list(src);
  const b = await list(into);
  let changed = false;
  for (const [k, v] of a) if (b.get(k) !== v) changed = true;
  if (changed && !r.check) {
    await r.shOk(`mkdir -p -- ${shq(into)} && cp -R -- ${shq(src.replace(/\/+$/, ''))}/. ${shq(into)}/`, `failed to copy ${src} to ${into}`);
  }
  const ids = await r.ids(o.want.owner, o.want.group);
  if (!r.check && (ids.uid !== undefined || ids.gid !== undefined)) {
    const spec = `${ids.uid ?? ''}${ids.gid !== undefined ? `:${ids.gid}` : ''}`;
    const c = await r.shOk(`chown -R -c -h ${spec} -- ${shq(into)}`, `could not change ownership under ${into}`);
    if (c.trim()) changed = true;
  }
  return { changed, dest: into, src };
}

// ───────────────────────────────────────────── the module ─────────────────────────────────────────────

export const copyModule = defineModule({
  name: 'copy',
  params: COPY_PARAMS,
  check(a) {
    return a.args.src === undefined && a.args.content === undefined ? [{ message: 'missing required argument: src or content', hint: 'add src: <file> or content: <text>' }] : [];
  },
  async run(args, ctx, r) {
    const srcArg = strArg(args, 'src');
    const hasContent = args.content !== undefined && args.content !== null;
    const destArg = strArg(args, 'dest', { required: true })!;
    if (destArg === '') throw new ModuleArgError('dest is required');
    if (srcArg === undefined && !hasContent) throw new ModuleArgError('src (or content) is required');
    if (srcArg !== undefined && hasContent) throw new ModuleArgError('src and content are mutually exclusive');
    const dest = await r.expandUser(destArg);
    const force = boolArg(args, 'force', true);
    const common = {
      want: wantAttrs(args, ctx, r),
      force,
      follow: boolArg(args, 'follow', false),
      backup: boolArg(args, 'backup'),
      isContent: hasContent,
      ...(strArg(args, 'validate') ? { validate: strArg(args, 'validate')! } : {}),
      ...(args.directory_mode !== undefined && args.directory_mode !== null ? { directoryMode: args.directory_mode } : {}),
      ...(strArg(args, 'checksum') ? { checksum: strArg(args, 'checksum')! } : {}),
    };
    if (hasContent) {
      const c = args.content;
      const text = typeof c === 'object' ? pyJsonDumps(c) : String(c);
      // the temp file Ansible writes content to has mode 0600: that is what `preserve` keeps
      const src = bufferSource(Buffer.from(text, 'utf8'), 'dynamically generated', baseName(dest) || 'content', 0o600);
      const res = await deliver(r, ctx, { ...common, dest, src });
      delete res.src;
      return res;
    }
    if (boolArg(args, 'remote_src')) return copyRemoteSrc(r, ctx, await r.expandUser(srcArg!), { ...common, dest });
    const trailing = srcArg!.endsWith('/');
    const found = ctx.findFile('files', srcArg!.replace(/\/+$/, '') || srcArg!);
    if (!found) throw new Fail(`could not find src=${srcArg}: looked in the role's and playbook's files/ directories; check the path`);
    let st;
    try {
      st = statSync(found);
    } catch (e) {
      throw new Fail(`could not read src=${found}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (st.isDirectory()) return copyTree(r, ctx, args, found, trailing, dest, common);
    const name = strArg(args, '_original_basename') ?? baseName(found);
    return deliver(r, ctx, { ...common, dest, src: await fileSource(found, name) });
  },
});
