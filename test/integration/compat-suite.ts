/**
 * The compatibility suite's test body (docs/compat.md), shared by compat-a.test.ts and compat-b.test.ts:
 * vitest runs the two files in parallel (two workers on this 2-core machine), each a sequential half of the
 * cases of test/fixtures/compat/, each case on its own two fresh clusters. While a case runs, the clusters
 * of the next case of the same half are started and set up in the background.
 *
 *   COMPAT_ONLY=04,16   only the cases whose name starts with one of these
 *   COMPAT_VERBOSE=1    print both outputs of every case
 *   COMPAT_KEEP=1       keep the work directory (inventories, run logs)
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, loadCase, preparePair, runCase, setupShared, type CaseOutcome, type CaseSpec, type ClusterPair, type Shared } from './compat-harness.js';

const only = (process.env.COMPAT_ONLY ?? '').split(',').filter(Boolean);

/** Every case of the fixtures directory, in name order (COMPAT_ONLY applied). */
export function allCases(): CaseSpec[] {
  return readdirSync(FIXTURES)
    .filter((f) => /^\d\d-.*\.yml$/.test(f))
    .sort()
    .map((f) => loadCase(join(FIXTURES, f)))
    .filter((c) => !only.length || only.some((o) => c.name.startsWith(o)));
}

export function compatSuite(title: string, pick: (index: number) => boolean): void {
  const cases = allCases().filter((_, i) => pick(i));
  const outcomes: CaseOutcome[] = [];
  const pending = new Map<string, Promise<ClusterPair>>();
  let shared: Shared;

  const prepare = (c: CaseSpec): Promise<ClusterPair> => {
    let p = pending.get(c.name);
    if (!p) {
      p = preparePair(c, shared);
      p.catch(() => undefined); // reported by the case that awaits it
      pending.set(c.name, p);
    }
    return p;
  };

  beforeAll(async () => {
    shared = await setupShared();
  }, 60_000);

  afterAll(async () => {
    // clusters prepared for cases that did not run (a filter, an aborted run)
    await Promise.all([...pending.values()].map((p) => p.then((cl) => Promise.all(cl.map((x) => x.stop()))).catch(() => undefined)));
    shared?.close();
    if (!outcomes.length) return;
    const rows = outcomes.map((o) => {
      const ratio = o.ours.ms ? (o.ansible.ms / o.ours.ms).toFixed(1) : '-';
      return `${o.name.padEnd(28)} agree ${String(o.agreements).padStart(4)}  allowed ${String(o.allowed.length).padStart(2)}  unexplained ${String(o.unexplained.length).padStart(2)}  idem ${o.second ? (o.idempotence.length ? 'FAIL' : 'ok  ') : 'n/a '}  ansible ${(o.ansible.ms / 1000).toFixed(1)}s ours ${(o.ours.ms / 1000).toFixed(2)}s (${ratio}×)  case ${(o.ms / 1000).toFixed(1)}s`;
    });
    const tot = (f: (o: CaseOutcome) => number): number => outcomes.reduce((n, o) => n + f(o), 0);
    console.log(
      `${title}: ${outcomes.length} playbooks, ${tot((o) => o.agreements)} agreements, ${tot((o) => o.allowed.length)} allow-listed differences, ` +
        `${tot((o) => o.unexplained.length)} unexplained, ${tot((o) => o.idempotence.length)} idempotence problems\n${rows.join('\n')}`,
    );
  }, 60_000);

  describe(`${title}: ansible-playbook vs ours on real hosts`, () => {
    cases.forEach((c, i) => {
      it(`${c.name}: ${c.title}`, async () => {
        const pair = prepare(c);
        pending.delete(c.name);
        const next = cases[i + 1];
        if (next) prepare(next);
        const o = await runCase(c, shared, pair);
        outcomes.push(o);
        const show = (): string =>
          (o.details ? `\n=== contents that differ ===\n${o.details}` : '') +
          `\n=== ansible (rc ${o.ansible.rc}) ===\n${o.ansible.output.slice(-12_000)}\n=== ours (rc ${o.ours.rc}) ===\n${o.ours.output.slice(-12_000)}` +
          (o.second ? `\n=== ours, second run (rc ${o.second.rc}) ===\n${o.second.output.slice(-6000)}` : '');
        for (const a of o.allowed) console.log(`${c.name}: allowed: ${a.diff}  [${a.why}]`);
        if (process.env.COMPAT_VERBOSE) console.log(show());
        expect(o.unexplained, `${c.name}: differences from ansible-playbook${show()}`).toEqual([]);
        expect(o.idempotence, `${c.name}: second run of ours${show()}`).toEqual([]);
      }, 240_000);
    });
  });
}
