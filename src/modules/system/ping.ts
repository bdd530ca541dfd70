/**
 * `ping`: proves the host can be reached, logged in to and (with become) escalated on, by running a shell
 * command there — the runner's equivalent of Ansible's "Python works" check. Returns `ping: <data>`
 * (default `pong`); `data: crash` fails on purpose, as in Ansible.
 */
import { defineModule, Fail, sh } from './common.js';

export const ping = defineModule({
  name: 'ping',
  spec: { data: { type: 'str', default: 'pong' } },
  async run(a, ctx) {
    const data = a.str('data')!;
    if (data === 'crash') throw new Fail('boom');
    const r = await sh(ctx, 'echo pong', { timeout: ctx.timeout > 0 ? ctx.timeout : 60 });
    if (r.rc !== 0 || r.stdout.trim() !== 'pong') {
      throw new Fail(`the target's shell did not answer (rc ${r.rc}): ${r.stderr.trim().slice(0, 300) || 'no output'}`);
    }
    return { changed: false, ping: data };
  },
});
