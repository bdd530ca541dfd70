/**
 * `fetch`: a target file → the controller, at `dest/<inventory host>/<src path>` (or `dest` itself with
 * flat=yes; a trailing slash then appends the file name). SHA-1 compared first (unchanged = ok).
 * Unlike Ansible (which skips fetch in check mode) check mode reports whether the local copy would change.
 * A relative dest is resolved against the controller's current directory.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, resolve } from 'node:path';
import { writeFileAtomic } from '../../core/fsutil.js';
import type { ModuleResult } from '../types.js';
import { boolArg, defineModule, Fail, md5, pathArg, sha1, strArg } from './common.js';

export const fetchModule = defineModule({
  name: 'fetch',
  params: ['src', 'dest', 'flat', 'fail_on_missing', 'validate_checksum'],
  check(a) {
    const out = [];
    for (const k of ['src', 'dest']) if (a.args[k] === undefined) out.push({ message: `missing required argument: ${k}`, hint: `add ${k}: …` });
    return out;
  },
  async run(args, ctx, r) {
    const src = await r.expandUser(pathArg(args, ['src']));
    const destArg = strArg(args, 'dest', { required: true })!;
    const flat = boolArg(args, 'flat');
    const failOnMissing = boolArg(args, 'fail_on_missing', true);
    const validate = boolArg(args, 'validate_checksum', true);
    const info = await r.stat(src, { follow: true, checksum: 'sha1' });
    const t = info.kind === 'link' ? info.target : info;
    const missing = (msg: string): ModuleResult => {
      if (failOnMissing) throw new Fail(msg, { file: src });
      return { changed: false, file: src, msg: `${msg}, not transferring, ignored` };
    };
    if (!info.exists || !t) return missing(`the remote file does not exist: ${src}`);
    if (t.kind === 'directory') return missing(`remote file is a directory, fetch cannot work on directories: ${src}`);
    if (info.readable === false) return missing(`file is not readable: ${src} (use become?)`);

    let dest: string;
    if (flat) {
      dest = destArg;
      if (existsSync(dest) && statSync(dest).isDirectory() && !dest.endsWith('/')) {
        throw new Fail('dest is an existing directory, use a trailing slash if you want to fetch src into that directory');
      }
      if (dest.endsWith('/')) dest = join(dest, src.slice(src.lastIndexOf('/') + 1));
    } else {
      dest = `${destArg}/${ctx.host}/${src}`;
    }
    dest = normalize(isAbsolute(dest) ? dest : resolve(dest));
    const base = normalize(isAbsolute(destArg) ? destArg : resolve(destArg));
    if (!dest.startsWith(base.replace(/\/+$/, ''))) throw new Fail(`Detected directory traversal, expected to be contained in '${destArg}' but got '${dest}'`);

    const remoteSum = info.checksum;
    let localSum: string | undefined;
    try {
      localSum = sha1(readFileSync(dest));
    } catch {
      localSum = undefined;
    }
    if (remoteSum && remoteSum === localSum) return { changed: false, md5sum: md5(readFileSync(dest)), file: src, dest, checksum: localSum };
    if (ctx.check) return { changed: true, file: src, dest, remote_checksum: remoteSum };
    const data = await r.get(src);
    const got = sha1(data);
    if (validate && remoteSum && got !== remoteSum) {
      throw new Fail(`checksum mismatch fetching ${src}: the file changed while it was read; run again`, { file: src, dest, checksum: got, remote_checksum: remoteSum });
    }
    if (got === localSum) return { changed: false, md5sum: md5(data), file: src, dest, checksum: got };
    try {
      mkdirSync(dest.slice(0, dest.lastIndexOf('/')), { recursive: true });
      writeFileAtomic(dest, data, 0o644);
    } catch (e) {
      throw new Fail(`Failed to fetch the file: could not write ${dest} on the controller: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return { changed: true, md5sum: md5(data), dest, remote_md5sum: null, checksum: got, remote_checksum: remoteSum ?? got };
  },
});
