/**
 * `slurp`: a target file's content, base64 (`content`, `source`, `encoding: base64`). Read-only, so the
 * same in check mode.
 */
import { defineModule, Fail, pathArg } from './common.js';

export const slurpModule = defineModule({
  name: 'slurp',
  params: ['src', 'path'],
  async run(args, _ctx, r) {
    const src = await r.expandUser(pathArg(args, ['src', 'path']));
    const info = await r.stat(src, { follow: true });
    const t = info.kind === 'link' ? info.target : info;
    if (!info.exists || !t) throw new Fail(`file not found: ${src}`);
    if (t.kind === 'directory') throw new Fail(`source is a directory and must be a file: ${src}`);
    if (info.readable === false) throw new Fail(`file is not readable: ${src} (use become?)`);
    const data = await r.get(src);
    return { changed: false, content: data.toString('base64'), source: src, encoding: 'base64' };
  },
});
