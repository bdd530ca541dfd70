/**
 * The read-modify-write cycle lineinfile, blockinfile and replace share: read the (symlink-resolved) file,
 * let the module compute the new bytes, then write with backup/validate and settle mode/owner/group —
 * reporting Ansible's messages ("line added and ownership, perms or SE linux context changed").
 */
import type { FileDiff, ModuleContext, ModuleResult } from '../types.js';
import {
  applyAttrs,
  attrDiff,
  attrPlanEmpty,
  dictDiff,
  Fail,
  type FileInfo,
  parentDir,
  planAttrs,
  planWrite,
  type Remote,
  shq,
  type WantAttrs,
  writeFile,
} from './common.js';

export interface Target {
  /** the path as given */
  path: string;
  /** symlinks resolved (what is read and written) */
  real: string;
  info: FileInfo;
  /** file content, undefined when the file does not exist */
  content?: Buffer;
}

/** Reads the file the module edits; fails on directories (rc 256, as Ansible). */
export async function readTarget(r: Remote, path: string): Promise<Target> {
  const info = await r.stat(path, { follow: true });
  const t = info.kind === 'link' ? info.target : info;
  if (t?.kind === 'directory') throw new Fail(`Path ${path} is a directory !`, { rc: 256 });
  const real = info.kind === 'link' ? (info.realpath ?? path) : path;
  const target: Target = { path, real, info: t ?? { ...info, exists: false, kind: 'absent' } };
  if (target.info.exists) {
    if (target.info.readable === false || info.readable === false) throw new Fail(`Unable to read ${path}: permission denied (use become?)`);
    target.content = await r.get(real);
  }
  return target;
}

export interface EditOptions {
  t: Target;
  next: Buffer;
  changed: boolean;
  msg: string;
  want: WantAttrs;
  backup: boolean;
  validate?: string;
  /** create missing parent directories of a new file (lineinfile/blockinfile create=yes) */
  makeParents?: boolean;
  /** content diff (text) computed by the module, shown with --diff */
  diff?: FileDiff;
  /** add the "(file attributes)" dict diff (lineinfile/blockinfile) */
  attrDiffHeader?: boolean;
  extra?: Record<string, unknown>;
  backupKey?: string;
}

export async function commitEdit(r: Remote, ctx: ModuleContext, o: EditOptions): Promise<ModuleResult> {
  const res: ModuleResult = { changed: o.changed, msg: o.msg, ...o.extra };
  const diffs: FileDiff[] = [];
  if (ctx.diff && o.diff) diffs.push(o.diff);
  const b: Record<string, unknown> = {};
  const a: Record<string, unknown> = {};
  let attrsChanged = false;
  if (o.changed) {
    const plan = await planWrite(r, o.t.info, o.want);
    if (!r.check) {
      if (!o.t.info.exists && o.makeParents) {
        await r.shOk(`mkdir -p -- ${shq(parentDir(o.t.real))}`, `Error creating ${parentDir(o.t.real)}`);
      }
      const bk = await writeFile(r, { dest: o.t.real, content: o.next, before: o.t.info, want: o.want, backup: o.backup, ...(o.validate ? { validate: o.validate } : {}) }, plan);
      if (bk) res[o.backupKey ?? 'backup'] = bk;
    }
    if (!o.t.info.exists && r.check) {
      if (ctx.diff && o.diff) res.diff = o.diff;
      if (o.backupKey === undefined) res.backup = res.backup ?? '';
      return res;
    }
    attrDiff(plan.attrs, b, a);
    attrsChanged = !attrPlanEmpty(plan.attrs);
  } else if (o.t.info.exists) {
    const plan = await planAttrs(r, o.t.info, o.want);
    attrDiff(plan, b, a);
    attrsChanged = !attrPlanEmpty(plan);
    if (attrsChanged && !r.check) await applyAttrs(r, o.t.real, plan);
  }
  if (attrsChanged) {
    res.msg = `${res.msg ? `${String(res.msg)} and ` : ''}ownership, perms or SE linux context changed`;
    res.changed = true;
  }
  if (o.backupKey === undefined && res.backup === undefined) res.backup = '';
  if (ctx.diff && o.attrDiffHeader) diffs.push(dictDiff(b, a, `${o.t.path} (file attributes)`));
  if (ctx.diff && diffs.length) res.diff = diffs.length === 1 ? diffs[0] : diffs;
  return res;
}

/** bytes ⇄ "byte strings" (latin1): Python's bytes regex semantics on file content */
export function bytesToStr(b: Uint8Array): string {
  return Buffer.from(b).toString('latin1');
}

export function strToBytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** A text argument (UTF-8) as a byte string. */
export function argBytes(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** Python's bytes.readlines(): split after every `\n`. */
export function readlines(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const j = s.indexOf('\n', i);
    if (j < 0) {
      out.push(s.slice(i));
      break;
    }
    out.push(s.slice(i, j + 1));
    i = j + 1;
  }
  return out;
}

export function rstripNl(s: string): string {
  return s.replace(/[\r\n]+$/, '');
}

export function utf8(b: string): string {
  return Buffer.from(b, 'latin1').toString('utf8');
}
