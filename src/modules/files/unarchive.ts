/**
 * `unarchive`: tar (gz/bz2/xz/zst, detected by `tar`) or zip (`unzip`) from the controller (uploaded) or the
 * target (remote_src), into an existing directory. The archive is first extracted into a temp directory
 * on the target and compared with dest (type, content SHA-1, mode, link target, and owner/group when asked),
 * so an already-unpacked archive is `ok`; only then is it copied over dest (`cp -a`). `creates` skips the
 * task; `include`/`exclude`/`extra_opts` go to tar/unzip. Check mode extracts only into the temp directory.
 * Unlike Ansible's `tar --diff`, modification times are not compared.
 */
import { readFileSync, statSync } from 'node:fs';
import {
  baseName,
  boolArg,
  defineModule,
  Fail,
  FILE_COMMON,
  listArg,
  pathInfo,
  resolveMode,
  shq,
  strArg,
  wantAttrs,
} from './common.js';

import type { ModuleResult } from '../types.js';

const PARAMS = [
  'src',
  'dest',
  'remote_src',
  'copy',
  'creates',
  'list_files',
  'exclude',
  'include',
  'keep_newer',
  'extra_opts',
  'io_buffer_size',
  'validate_certs',
  'decrypt',
  ...FILE_COMMON,
];

/** prints one line per path read on stdin: `<type> <mode> <uid> <gid>\t<sha1|link target>\t<path>` */
const DESC = String.raw`
desc() {
  while IFS= read -r p; do
    if [ -L "$p" ]; then printf 'l %s\t%s\t%s\n' "$(stat -c '%a %u %g' -- "$p")" "$(readlink -- "$p")" "$p"
    elif [ -d "$p" ]; then printf 'd %s\t\t%s\n' "$(stat -c '%a %u %g' -- "$p")" "$p"
    elif [ -f "$p" ]; then printf 'f %s\t%s\t%s\n' "$(stat -c '%a %u %g' -- "$p")" "$(sha1sum < "$p" | cut -c1-40)" "$p"
    elif [ -e "$p" ]; then printf 'o %s\t\t%s\n' "$(stat -c '%a %u %g' -- "$p")" "$p"
    else printf 'a 0 0 0\t\t%s\n' "$p"; fi
  done
}
`;

interface Entry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  data: string;
}

function parseDesc(text: string): Map<string, Entry> {
  const m = new Map<string, Entry>();
  for (const line of text.split('\n')) {
    const a = line.split('\t');
    if (a.length < 3) continue;
    const [type, mode, uid, gid] = a[0]!.split(' ');
    m.set(a.slice(2).join('\t'), { type: type!, mode: parseInt(mode ?? '0', 8), uid: Number(uid), gid: Number(gid), data: a[1]! });
  }
  return m;
}

export const unarchiveModule = defineModule({
  name: 'unarchive',
  params: PARAMS,
  async run(args, ctx, r) {
    const srcArg = strArg(args, 'src', { required: true })!;
    const dest = await r.expandUser(strArg(args, 'dest', { required: true })!);
    let remote = boolArg(args, 'remote_src');
    if (args.copy !== undefined) remote = !boolArg(args, 'copy', true);
    const want = wantAttrs(args, ctx, r);
    const include = listArg(args, 'include') ?? [];
    const exclude = listArg(args, 'exclude') ?? [];
    const extra = listArg(args, 'extra_opts') ?? [];
    if (boolArg(args, 'keep_newer')) ctx.warn('keep_newer is not supported: files are replaced when their content differs');

    const creates = strArg(args, 'creates');
    if (creates) {
      const c = await r.stat(await r.expandUser(creates));
      if (c.exists) return { changed: false, skipped: true, msg: `skipped, since ${creates} exists` };
    }
    const d = await r.stat(dest, { follow: true });
    if (!(d.kind === 'directory' || d.target?.kind === 'directory')) throw new Fail(`dest '${dest}' must be an existing dir: create it first (file: state=directory)`);

    if (/^[a-z]+:\/\//i.test(srcArg)) throw new Fail(`src ${srcArg} is a URL: download it with get_url first (air-gapped sites have no internet)`);
    let local: string | undefined;
    if (!remote) {
      local = ctx.findFile('files', srcArg);
      if (!local) throw new Fail(`Could not find or access '${srcArg}' on the controller: looked in the role's and playbook's files/ directories`);
      if (statSync(local).isDirectory()) throw new Fail(`src ${local} is a directory, not an archive`);
    }
    const tmp = (await r.shOk(`mktemp -d "\${TMPDIR:-/tmp}/burrow-unarchive.XXXXXXXX"`, 'could not create a temp directory on the target')).trim();
    try {
      let archive: string;
      if (local) {
        archive = `${tmp}/${baseName(local)}`;
        await r.put(readFileSync(local), archive, { mode: 0o600 });
      } else {
        archive = await r.expandUser(srcArg);
        const s = await r.stat(archive, { follow: true });
        if (!s.exists) throw new Fail(`Source '${archive}' does not exist`);
        if (s.readable === false) throw new Fail(`Source '${archive}' not readable (use become?)`);
      }
      // which handler: zip if unzip can list it, else tar (GNU tar detects gz/bz2/xz/zst itself)
      const probe = await r.sh(
        `if command -v unzip >/dev/null 2>&1 && unzip -Z1 -- ${shq(archive)} >/dev/null 2>&1; then echo zip; elif tar -tf ${shq(archive)} >/dev/null 2>&1; then echo tar; else echo none; fi`,
      );
      const kind = probe.stdout.trim();
      if (kind === 'none') {
        throw new Fail(`Failed to find handler for "${archive}": not a tar (gz/bz2/xz/zst) or zip archive readable by tar/unzip on the target; install unzip for zip files`);
      }
      const out = `${tmp}/x`;
      let cmd: string;
      if (kind === 'tar') {
        cmd = ['tar', '-C', shq(out), '-xf', shq(archive), ...extra.map(shq), ...exclude.map((e) => shq(`--exclude=${e}`)), ...(include.length ? ['--', ...include.map(shq)] : [])].join(' ');
      } else {
        cmd = ['unzip', '-q', '-o', ...extra.map(shq), shq(archive), ...include.map(shq), ...(exclude.length ? ['-x', ...exclude.map(shq)] : []), '-d', shq(out)].join(' ');
      }
      const x = await r.sh(`mkdir -- ${shq(out)} && ${cmd}`);
      const extractResults = { cmd, rc: x.rc, out: x.stdout, err: x.stderr };
      if (x.rc !== 0) throw new Fail(`Failed to extract ${srcArg} (${kind}): ${(x.stderr.trim() || x.stdout.trim()).slice(0, 2000)}`, { extract_results: extractResults });

      const cmp = await r.shOk(
        `${DESC}\ncd ${shq(out)} && find . -mindepth 1 | LC_ALL=C sort > ${shq(`${tmp}/list`)} && echo '==src' && desc < ${shq(`${tmp}/list`)} && cd ${shq(dest)} && echo '==dest' && desc < ${shq(`${tmp}/list`)}`,
        `could not compare the archive with ${dest}`,
      );
      const [, srcPart = '', destPart = ''] = cmp.split(/^==(?:src|dest)\n/m);
      const srcE = parseDesc(srcPart);
      const destE = parseDesc(destPart);
      const env = await r.env();
      const ids = await r.ids(want.owner, want.group);
      const files = [...srcE.keys()].map((p) => p.replace(/^\.\//, ''));
      const differs: string[] = [];
      const attrFix = new Map<string, string[]>();
      const addFix = (c: string, p: string): void => {
        const l = attrFix.get(c);
        if (l) l.push(p);
        else attrFix.set(c, [p]);
      };
      for (const [p, s] of srcE) {
        const dd = destE.get(p);
        const wantMode = want.mode !== undefined && s.type !== 'l' ? resolveMode(want.mode, s.mode, s.type === 'd', env.umask) : s.mode;
        const contentSame = dd !== undefined && dd.type === s.type && dd.data === s.data;
        if (!contentSame) {
          differs.push(p);
          continue;
        }
        // same content: attributes (mode always; owner/group only when asked)
        if (s.type !== 'l' && dd.mode !== wantMode) addFix(`chmod ${wantMode.toString(8)}`, p);
        if (ids.uid !== undefined && dd.uid !== ids.uid) addFix(`chown -h ${ids.uid}`, p);
        if (ids.gid !== undefined && dd.gid !== ids.gid) addFix(`chgrp -h ${ids.gid}`, p);
      }
      const changed = differs.length > 0 || attrFix.size > 0;
      const res: ModuleResult = { changed, dest, src: local ?? srcArg, handler: kind === 'zip' ? 'ZipArchive' : 'TgzArchive', extract_results: extractResults };
      if (boolArg(args, 'list_files')) res.files = files;
      if (ctx.diff && changed) res.diff = { before: '', after: differs.map((p) => `${p.replace(/^\.\//, '')}\n`).join(''), before_header: dest, after_header: `${srcArg} (files to unpack)` };
      if (r.check || !changed) return { ...res, ...pathInfo(d.target ?? d) };
      if (differs.length) {
        // owner/group/mode of the new files first (in the temp tree), then copy over dest preserving them
        const fix: string[] = [];
        // the members only: dest itself keeps its owner and mode, as in Ansible
        if (ids.uid !== undefined || ids.gid !== undefined) fix.push(`find . -mindepth 1 -exec chown -h ${ids.uid ?? ''}${ids.gid !== undefined ? `:${ids.gid}` : ''} -- {} +`);
        if (want.mode !== undefined) {
          for (const [p, s] of srcE) {
            if (s.type === 'l') continue;
            const m = resolveMode(want.mode, s.mode, s.type === 'd', env.umask);
            if (m !== s.mode) fix.push(`chmod ${m.toString(8)} -- ${shq(p)}`);
          }
        }
        const body = fix.length ? `cd ${shq(out)} && ${fix.join(' && ')} && ` : '';
        // copy the members, not `out/.` (cp -a would give dest the temp dir's owner, mode and times)
        const script = `${body}cd ${shq(out)} && find . -mindepth 1 -maxdepth 1 -exec cp -a -t ${shq(dest)} -- {} +`;
        if (script.length > 100_000) {
          // many per-file chmods: apply them in batches through xargs
          await r.shOk(`cd ${shq(out)} && find . -mindepth 1 -maxdepth 1 -exec cp -a -t ${shq(dest)} -- {} +`, `could not copy the extracted files into ${dest}`);
          if (want.mode !== undefined) {
            const byMode = new Map<string, string[]>();
            for (const [p, s] of srcE) {
              if (s.type === 'l') continue;
              const m = resolveMode(want.mode, s.mode, s.type === 'd', env.umask).toString(8);
              byMode.set(m, [...(byMode.get(m) ?? []), p]);
            }
            for (const [m, list] of byMode) await r.shOk(`cd ${shq(dest)} && xargs -0 chmod ${m} --`, `chmod failed under ${dest}`, { stdin: list.join('\0') });
          }
          if (ids.uid !== undefined || ids.gid !== undefined) {
            await r.shOk(`cd ${shq(dest)} && xargs -0 chown -h ${ids.uid ?? ''}${ids.gid !== undefined ? `:${ids.gid}` : ''} --`, `chown failed under ${dest}`, { stdin: [...srcE.keys()].join('\0') });
          }
        } else await r.shOk(script, `could not copy the extracted files into ${dest}`);
      }
      for (const [c, list] of attrFix) await r.shOk(`cd ${shq(dest)} && xargs -0 ${c} --`, `could not set attributes under ${dest}`, { stdin: list.join('\0'), trace: `${c} (${list.length} paths under ${dest})` });
      return { ...res, ...pathInfo(await r.stat(dest)) };
    } finally {
      await r.sh(`rm -rf -- ${shq(tmp)}`);
    }
  },
});
