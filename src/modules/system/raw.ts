/**
 * `raw`: the text as is, through the target's /bin/sh (or `executable`), no module machinery. Output is
 * returned unstripped; rc ≠ 0 → failed "non-zero return code"; always changed. Skipped in check mode, as
 * in Ansible (raw cannot know what the command would do).
 */
import { defineModule, Fail, sh, shq, splitlines } from './common.js';

export const raw = defineModule({
  name: 'raw',
  spec: {
    executable: { type: 'path' },
    _raw_params: { type: 'str' },
  },
  async run(a, ctx, freeForm) {
    const text = freeForm ?? a.str('_raw_params') ?? '';
    if (text.trim() === '') throw new Fail('no command given', { rc: 256 });
    if (ctx.check) return { changed: false, skipped: true, msg: 'raw does not run in check mode' };
    const exe = a.str('executable');
    const r = await sh(ctx, exe ? `exec ${shq(exe)} -c ${shq(text)}` : text);
    const res = {
      changed: true,
      rc: r.rc,
      stdout: r.stdout,
      stderr: r.stderr,
      stdout_lines: splitlines(r.stdout),
      stderr_lines: splitlines(r.stderr),
    };
    return r.rc === 0 ? res : { ...res, failed: true, msg: 'non-zero return code' };
  },
});
