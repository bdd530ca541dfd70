/**
 * Compatibility suite, first half (cases 1, 3, 5, … of test/fixtures/compat/ in name order): ansible-playbook
 * and the runner on fresh test hosts, host state + recap + exit code compared. See docs/compat.md and
 * compat-suite.ts; compat-b.test.ts runs the other half in parallel.
 *
 *   npx vitest run test/integration/compat-      # both halves
 */
import { expect, it } from 'vitest';
import { compareRecap, compareState, triage } from './compat-harness.js';
import { allCases, compatSuite } from './compat-suite.js';

it('the fixtures hold at least 25 playbooks', () => {
  if (!process.env.COMPAT_ONLY) expect(allCases().length).toBeGreaterThanOrEqual(25);
});

it('the comparison reports every difference, and the allow-list only what its regex names', () => {
  const r = { ok: 3, changed: 1, failed: 0, skipped: 0, unreachable: 0, rescued: 0, ignored: 0 };
  expect(compareRecap({ h1: r, h2: r }, { h1: r, h2: r })).toEqual([]);
  expect(compareRecap({ h1: r, h2: r }, { h1: { ...r, changed: 2 } })).toEqual(['recap h1.changed: ansible 1, ours 2', 'recap h2: only ansible has it']);
  const sha = 'a'.repeat(64);
  const d = compareState({ h1: ['/x f 644 root root ', `${sha}  /x`] }, { h1: ['/x f 600 root root ', `${sha}  /x`] });
  expect(d).toEqual(['state h1: ansible has   /x f 644 root root ', 'state h1: ours has      /x f 600 root root ']);
  expect(compareState({ h1: ['a', 'b'] }, { h1: ['b', 'a'] })).toEqual(['state h1: same lines, different order']);
  const t = triage(d, [{ match: '^state h1: ours has .* 600 ', why: 'docs/compat.md#x' }]);
  expect(t.allowed.map((a) => a.diff)).toEqual([d[1]]);
  expect(t.unexplained).toEqual([d[0]]);
});

compatSuite('compat (a)', (i) => i % 2 === 0);
