/**
 * Template parity: every case of test/fixtures/templates/*.yml is rendered by the real thing and by ours,
 * and the outputs are compared byte for byte.
 *  - jinja.yml   → Python's Jinja2 (Debian /usr/bin/python3 + python3-jinja2), configured like Ansible's templar;
 *  - ansible.yml → real Ansible (/usr/bin/ansible-playbook, ansible-core 2.14), one playbook run for all cases.
 * Cases that must fail must fail on both sides, and ours must name the undefined variable.
 * The agreement rate is printed; the test fails when it drops below baseline.json or when a disagreement
 * appears that is not listed (with its explanation) in baseline.json and docs/templates.md.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { fsLookupContext, renderText, TemplateError } from '../../src/template/templar.js';

const FIX = join(import.meta.dirname, '../fixtures/templates');
const DOCS = join(import.meta.dirname, '../../docs/templates.md');

interface Case {
  name: string;
  t: string;
  vars?: Record<string, unknown>;
  error?: string | boolean;
  mode?: 'file';
  oracle: 'jinja2' | 'ansible';
}

interface OracleResult {
  id: string;
  out?: unknown;
  error?: string;
}

interface Outcome {
  c: Case;
  ref: OracleResult;
  ours: { out?: string; error?: TemplateError | Error };
  agree: boolean;
  why?: string;
}

function load(file: string, oracle: Case['oracle']): Case[] {
  const list = YAML.parse(readFileSync(join(FIX, file), 'utf8')) as Omit<Case, 'oracle'>[];
  return list.map((c) => ({ ...c, oracle }));
}

function runOracle(script: string, input: unknown): OracleResult[] {
  const p = spawnSync('/usr/bin/python3', [join(FIX, script)], { input: JSON.stringify(input), encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20 });
  if (p.status !== 0) throw new Error(`${script} failed (${p.status}): ${p.stderr || p.error?.message}`);
  return JSON.parse(p.stdout) as OracleResult[];
}

const cases = [...load('jinja.yml', 'jinja2'), ...load('ansible.yml', 'ansible')];
const baseline = JSON.parse(readFileSync(join(FIX, 'baseline.json'), 'utf8')) as { agree: number; total: number; known: Record<string, string> };
let wd = '';
const outcomes: Outcome[] = [];

function ours(c: Case): Outcome['ours'] {
  const env = { PARITY_ENV: 'parity-value', HOME: process.env.HOME };
  try {
    if (c.oracle === 'jinja2') return { out: renderText(c.t, c.vars ?? {}, { preserveTrailingNewlines: false, escapeBackslashes: false }) };
    const lookup = fsLookupContext([wd], env);
    if (c.mode === 'file') return { out: renderText(c.t, c.vars ?? {}, { escapeBackslashes: false, lookup }) };
    return { out: renderText('@@' + c.t, c.vars ?? {}, { escapeBackslashes: true, lookup }).slice(2) };
  } catch (e) {
    return { error: e as Error };
  }
}

function judge(c: Case, ref: OracleResult, mine: Outcome['ours']): { agree: boolean; why?: string } {
  if (c.error !== undefined) {
    if (ref.error === undefined) return { agree: false, why: `reference did not fail: ${JSON.stringify(ref.out)}` };
    if (!mine.error) return { agree: false, why: `ours did not fail: ${JSON.stringify(mine.out)}` };
    if (typeof c.error === 'string') {
      const te = mine.error as TemplateError;
      if (!(te instanceof TemplateError) || !`${te.variable ?? ''} ${te.message}`.includes(c.error)) {
        return { agree: false, why: `ours does not name '${c.error}': ${mine.error.message}` };
      }
      if (!ref.error.includes(c.error)) return { agree: false, why: `reference does not name '${c.error}': ${ref.error}` };
    }
    return { agree: true };
  }
  if (ref.error !== undefined) return { agree: false, why: `reference failed: ${ref.error}` };
  if (mine.error) return { agree: false, why: `ours failed: ${mine.error.message}` };
  if (typeof ref.out !== 'string') return { agree: false, why: `reference returned a non-string ${JSON.stringify(ref.out)}` };
  return ref.out === mine.out ? { agree: true } : { agree: false, why: `reference ${JSON.stringify(ref.out)}\n      ours      ${JSON.stringify(mine.out)}` };
}

describe('template parity with Jinja2 and Ansible', () => {
  beforeAll(() => {
    wd = mkdtempSync(join(tmpdir(), 'tparity-'));
    cpSync(join(FIX, 'files'), join(wd, 'files'), { recursive: true });
    writeFileSync(join(wd, 'none.cfg'), '[defaults]\n');
    const jc = cases.filter((c) => c.oracle === 'jinja2');
    const ac = cases.filter((c) => c.oracle === 'ansible');
    const refs = new Map<string, OracleResult>();
    for (const r of runOracle('oracle_jinja2.py', jc.map((c) => ({ id: c.name, template: c.t, vars: c.vars ?? {} })))) refs.set(r.id, r);
    const ar = runOracle('oracle_ansible.py', { workdir: wd, cases: ac.map((c) => ({ id: c.name, template: c.t, vars: c.vars ?? {}, mode: c.mode })) });
    for (const r of ar) refs.set(r.id, r);
    for (const c of cases) {
      const ref = refs.get(c.name) ?? { id: c.name, error: 'no reference result' };
      const mine = ours(c);
      outcomes.push({ c, ref, ours: mine, ...judge(c, ref, mine) });
    }
    const agree = outcomes.filter((o) => o.agree).length;
    const lines = [`template parity: ${agree}/${outcomes.length} cases agree (${((100 * agree) / outcomes.length).toFixed(1)}%), baseline ${baseline.agree}/${baseline.total}`];
    for (const o of outcomes.filter((x) => !x.agree)) lines.push(`  ${baseline.known[o.c.name] ? 'known' : 'NEW  '} ${o.c.name} [${o.c.oracle}]: ${o.why}`);
    process.stdout.write(lines.join('\n') + '\n');
    if (process.env.PARITY_REPORT) writeFileSync(process.env.PARITY_REPORT, JSON.stringify(outcomes.map((o) => ({ name: o.c.name, agree: o.agree, why: o.why })), null, 2));
  }, 600_000);

  afterAll(() => {
    if (wd) rmSync(wd, { recursive: true, force: true });
  });

  it('has a corpus of at least 100 cases with unique names', () => {
    expect(cases.length).toBeGreaterThanOrEqual(100);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it('agrees at least as often as the recorded baseline', () => {
    const agree = outcomes.filter((o) => o.agree).length;
    expect(outcomes.length).toBe(cases.length);
    expect(agree).toBeGreaterThanOrEqual(baseline.agree);
  });

  it('has no unexplained disagreement', () => {
    const docs = readFileSync(DOCS, 'utf8');
    const unexplained = outcomes.filter((o) => !o.agree && !(baseline.known[o.c.name] && docs.includes(o.c.name))).map((o) => `${o.c.name}: ${o.why}`);
    expect(unexplained).toEqual([]);
  });
});
