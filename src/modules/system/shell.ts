/**
 * `shell`: like `command` (./command.ts, same result and creates/removes/chdir/stdin semantics), but the text
 * goes to /bin/sh — or to `executable` (`executable: /bin/bash` → `/bin/bash -c <text>`) — so pipes,
 * redirections, globs and variables work. `cmd` in the result is the text (a string), as in Ansible.
 */
import { COMMAND_SPEC, runCommandLike } from './command.js';
import { defineModule } from './common.js';

export const shell = defineModule({
  name: 'shell',
  spec: COMMAND_SPEC,
  run: (a, ctx, freeForm) => runCommandLike('shell', a, ctx, freeForm),
});
