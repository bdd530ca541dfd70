/**
 * `stat`: Ansible's stat result (exists, isdir/isreg/islnk…, mode as '0644', uid/gid/pw_name/gr_name, size,
 * times, r/w/x for the task's user, lnk_source/lnk_target, checksum with checksum_algorithm, mimetype via
 * `file` when present, attributes via `lsattr` when present) from one POSIX sh probe.
 */
import { boolArg, CHECKSUM_CMD, choiceArg, defineModule, Fail, octal, pathArg, shq } from './common.js';

const PARAMS = ['path', 'dest', 'name', 'follow', 'get_md5', 'get_checksum', 'get_mime', 'mime', 'mime_type', 'mime-type', 'get_attributes', 'attr', 'attributes', 'checksum_algorithm', 'checksum', 'checksum_algo'];

const ALGOS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;

export const statModule = defineModule({
  name: 'stat',
  params: PARAMS,
  async run(args, _ctx, r) {
    const path = await r.expandUser(pathArg(args, ['path', 'dest', 'name']));
    const follow = boolArg(args, 'follow');
    const algoArg = args.checksum_algorithm ?? args.checksum ?? args.checksum_algo;
    const algo = choiceArg({ a: algoArg }, 'a', ALGOS, 'sha1')!;
    const getChecksum = boolArg(args, 'get_checksum', true);
    const getMd5 = boolArg(args, 'get_md5');
    const mimeArg = args.get_mime ?? args.mime ?? args.mime_type ?? args['mime-type'];
    const getMime = boolArg({ m: mimeArg }, 'm', true);
    const attrArg = args.get_attributes ?? args.attr ?? args.attributes;
    const getAttr = boolArg({ a: attrArg }, 'a', true);

    const info = await r.stat(path, { follow: true, ...(getChecksum ? { checksum: algo } : {}) });
    let st = info;
    if (follow && info.kind === 'link') {
      if (!info.target) return { changed: false, stat: { exists: false } };
      st = { ...info.target, readable: info.readable, writeable: info.writeable, executable: info.executable, checksum: info.checksum };
    }
    if (!info.exists) return { changed: false, stat: { exists: false } };
    const m = st.mode;
    const isLnk = st.kind === 'link';
    const out: Record<string, unknown> = {
      exists: true,
      path,
      mode: octal(m).slice(-4).padStart(4, '0'),
      isdir: st.kind === 'directory',
      ischr: st.kind === 'char',
      isblk: st.kind === 'block',
      isreg: st.kind === 'file',
      isfifo: st.kind === 'fifo',
      islnk: isLnk,
      issock: st.kind === 'socket',
      uid: st.uid,
      gid: st.gid,
      size: st.size,
      inode: st.inode,
      dev: st.dev,
      nlink: st.nlink,
      atime: st.atime,
      mtime: st.mtime,
      ctime: st.ctime,
      wusr: !!(m & 0o200),
      rusr: !!(m & 0o400),
      xusr: !!(m & 0o100),
      wgrp: !!(m & 0o020),
      rgrp: !!(m & 0o040),
      xgrp: !!(m & 0o010),
      woth: !!(m & 0o002),
      roth: !!(m & 0o004),
      xoth: !!(m & 0o001),
      isuid: !!(m & 0o4000),
      isgid: !!(m & 0o2000),
      blocks: st.blocks,
      block_size: st.blksize,
      device_type: st.rdev,
      readable: info.readable ?? false,
      writeable: info.writeable ?? false,
      executable: info.executable ?? false,
    };
    if (isLnk) {
      out.lnk_source = info.realpath ?? path;
      out.lnk_target = info.linkTarget ?? '';
    }
    if (!/^\d+$/.test(st.owner)) out.pw_name = st.owner;
    if (!/^\d+$/.test(st.group)) out.gr_name = st.group;
    if (out.isreg && out.readable) {
      if (getMd5) {
        const md = await r.sh(`md5sum -- ${shq(path)}`);
        out.md5 = md.rc === 0 ? md.stdout.split(' ')[0] : null;
      }
      if (getChecksum) {
        if (!info.checksum) throw new Fail(`could not compute the ${algo} checksum of ${path}: ${CHECKSUM_CMD[algo]} is missing on the target?`);
        out.checksum = info.checksum;
      }
    }
    if (getMime || getAttr) {
      const cmds: string[] = [];
      if (getMime) cmds.push(`if command -v file >/dev/null 2>&1; then printf 'M%s\\n' "$(file --mime-type --mime-encoding -- ${shq(path)} 2>/dev/null)"; fi`);
      if (getAttr) cmds.push(`if command -v lsattr >/dev/null 2>&1; then printf 'A%s\\n' "$(lsattr -vd -- ${shq(path)} 2>/dev/null)"; fi`);
      const res = await r.sh(cmds.join('\n'));
      if (getMime) {
        out.mimetype = 'unknown';
        out.charset = 'unknown';
        const line = res.stdout.split('\n').find((l) => l.startsWith('M'));
        const mm = line ? /:\s*([^;]+);\s*charset=(\S+)\s*$/.exec(line) : null;
        if (mm) {
          out.mimetype = mm[1]!.trim();
          out.charset = mm[2]!.trim();
        }
      }
      if (getAttr) {
        out.version = null;
        out.attributes = [];
        out.attr_flags = '';
        const line = res.stdout.split('\n').find((l) => l.startsWith('A'));
        const am = line ? /^A\s*(\S+)\s+(\S+)\s/.exec(line) : null;
        if (am) {
          out.version = am[1];
          const flags = am[2]!.replace(/-/g, '');
          out.attr_flags = flags;
          out.attributes = [...flags].map((f) => ATTR_NAMES[f] ?? f);
        }
      }
    }
    return { changed: false, stat: out };
  },
});

/** lsattr flag letters → the names Ansible reports */
const ATTR_NAMES: Record<string, string> = {
  A: 'noatime',
  a: 'append',
  c: 'compressed',
  C: 'nocow',
  d: 'nodump',
  D: 'dirsync',
  e: 'extents',
  E: 'encrypted',
  F: 'casefold',
  h: 'blocksize',
  i: 'immutable',
  I: 'indexed',
  j: 'journalled',
  N: 'inline',
  P: 'projinherit',
  s: 'secure',
  S: 'sync',
  t: 'notail',
  T: 'toplevel',
  u: 'undelete',
  V: 'verity',
  x: 'dax',
  Z: 'dirty',
};
