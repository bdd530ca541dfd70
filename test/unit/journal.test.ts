import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunError } from '../../src/core/errors.js';
import { fingerprint } from '../../src/state/fingerprint.js';
import { acquireLock, Journal } from '../../src/state/journal.js';
import { gateProblems, STEPS, type SiteFacts } from '../../src/steps/registry.js';

const site = (over: Partial<SiteFacts> = {}): SiteFacts => ({ storageBackends: ['ceph'], offline: false, groups: new Set(), ...over });

describe('step registry and gate', () => {
  it('lists the steps in the reference order', () => {
    expect(STEPS.map((s) => s.name)).toEqual(['preflight', 'ha', 'ceph', 'powerflex_pfmp', 'k8s', 'storage', 'powerflex_csi', 'patch', 'registry', 'landing', 'burrito']);
  });

  it('applies steps by storage backends and offline mode', () => {
    const by = (s: SiteFacts) => STEPS.filter((x) => !x.skipReason(s)).map((x) => x.name);
    expect(by(site())).toEqual(['preflight', 'ha', 'ceph', 'k8s', 'storage', 'patch', 'burrito']);
    expect(by(site({ offline: true }))).toEqual(['preflight', 'ha', 'ceph', 'k8s', 'storage', 'patch', 'registry', 'landing', 'burrito']);
    expect(by(site({ storageBackends: ['powerflex'], offline: true, groups: new Set(['pfmp']) }))).toEqual([
      'preflight', 'ha', 'powerflex_pfmp', 'k8s', 'storage', 'powerflex_csi', 'patch', 'registry', 'landing', 'burrito',
    ]);
    expect(STEPS.find((s) => s.name === 'ceph')!.skipReason(site({ storageBackends: ['netapp'] }))).toMatch(/not in storage_backends/);
  });

  it('refuses a step until every earlier applicable step succeeded for the same fingerprint', () => {
    const d = mkdtempSync(join(tmpdir(), 'gate-'));
    const j = new Journal(d);
    expect(gateProblems('ha', site(), j, 'fp1')).toEqual([{ step: 'preflight', status: 'never-run', why: 'has not run' }]);
    j.update('preflight', { status: 'failed', fingerprint: 'fp1', pending: { c2: { reason: 'x' } } });
    expect(gateProblems('ha', site(), j, 'fp1')[0]!.why).toBe('is failed (hosts: c2)');
    j.update('preflight', { status: 'succeeded', fingerprint: 'fp1', pending: {} });
    expect(gateProblems('ha', site(), j, 'fp1')).toEqual([]);
    expect(gateProblems('ha', site(), j, 'fp2')[0]!.why).toMatch(/changed since/);
    // ceph not applicable: k8s needs preflight and ha only
    j.update('ha', { status: 'succeeded', fingerprint: 'fp1' });
    expect(gateProblems('k8s', site({ storageBackends: ['netapp'] }), j, 'fp1')).toEqual([]);
    expect(gateProblems('k8s', site(), j, 'fp1').map((p) => p.step)).toEqual(['ceph']);
    // the journal survives a reload and is valid JSON
    expect(new Journal(d).step('ha').status).toBe('succeeded');
    expect(JSON.parse(readFileSync(join(d, '.run', 'state.json'), 'utf8')).version).toBe(1);
  });

  it('fingerprints file contents and -e arguments', () => {
    const d = mkdtempSync(join(tmpdir(), 'fp-'));
    writeFileSync(join(d, 'a.yml'), 'x: 1\n');
    const f1 = fingerprint(d, [join(d, 'a.yml')]);
    expect(fingerprint(d, [join(d, 'a.yml')]).digest).toBe(f1.digest);
    expect(fingerprint(d, [join(d, 'a.yml')], ['x=2']).digest).not.toBe(f1.digest);
    writeFileSync(join(d, 'a.yml'), 'x: 2\n');
    const f2 = fingerprint(d, [join(d, 'a.yml')]);
    expect(f2.digest).not.toBe(f1.digest);
    expect(Object.keys(f2.files)).toEqual(['a.yml']);
  });

  it('lock: a second holder is refused with the holder named; a dead holder is taken over', () => {
    const d = mkdtempSync(join(tmpdir(), 'lock-'));
    const release = acquireLock(d, './run preflight');
    try {
      acquireLock(d, './run ha');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RunError);
      expect((e as RunError).message).toMatch(/'\.\/run preflight' \(pid \d+/);
    }
    release();
    expect(existsSync(join(d, '.run', 'lock'))).toBe(false);
    writeFileSync(join(d, '.run', 'lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), command: 'old', since: 'then' }));
    let stale = '';
    const r2 = acquireLock(d, './run ha', (l) => (stale = l.command));
    expect(stale).toBe('old');
    r2();
  });
});
