/**
 * `setup`: gathers facts afresh with the one-probe POSIX fact gatherer (src/facts/probe.ts) and returns them
 * as `ansible_facts` (the executor stores them for the host). `filter` keeps only the facts whose names match
 * one of the shell-style patterns (`ansible_eth*`), as in Ansible; `gather_subset` is accepted (the probe
 * is cheap enough to always gather everything) and reported back.
 */
import { gatherFacts } from '../../facts/probe.js';
import { defineModule, Fail } from './common.js';

/** fnmatch as Python has it: `*`, `?`, `[seq]`, `[!seq]`, whole-string, case-sensitive on POSIX. */
export function fnmatch(name: string, pattern: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const j = pattern.indexOf(']', i + 2);
      if (j < 0) re += '\\[';
      else {
        let body = pattern.slice(i + 1, j).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body}]`;
        i = j;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(name);
}

export const setup = defineModule({
  name: 'setup',
  spec: {
    gather_subset: { type: 'list', default: ['all'] },
    gather_timeout: { type: 'int', default: 10 },
    filter: { type: 'list', default: [] },
    fact_path: { type: 'path' },
  },
  async run(a, ctx) {
    const timeout = Math.max(a.int('gather_timeout')!, 10);
    let facts: Record<string, unknown>;
    try {
      facts = await gatherFacts(ctx.transport, ctx.timeout > 0 ? Math.max(ctx.timeout, timeout) : Math.max(60, timeout));
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('fact probe did not complete')) throw new Fail(e.message);
      throw e;
    }
    const filters = a.list('filter')!;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(facts)) {
      if (!filters.length || filters.some((p) => fnmatch(k, p))) out[k] = v;
    }
    out.gather_subset = a.list('gather_subset');
    out.module_setup = true;
    return { changed: false, ansible_facts: out };
  },
});
