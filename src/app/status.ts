/** `./run status`: the journal read against the current configuration. */
import { Journal } from '../state/journal.js';
import { gateProblems, STEPS } from '../steps/registry.js';
import type { ProjectFlagValues } from '../commands/flags.js';
import { openProject } from './project.js';
import { siteFacts, stepFingerprint } from './step.js';

function dur(a?: string, b?: string): string {
  if (!a || !b) return '';
  const s = Math.round((Date.parse(b) - Date.parse(a)) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export async function statusReport(flags: ProjectFlagValues, json: boolean): Promise<string> {
  const project = await openProject(flags);
  const journal = new Journal(project.config.projectDir);
  const site = siteFacts(project);
  const fp = stepFingerprint(project, { 'extra-vars': flags['extra-vars'] });
  const rows = STEPS.map((s) => {
    const rec = journal.step(s.name);
    const skip = s.skipReason(site);
    const stale = rec.status === 'succeeded' && rec.fingerprint !== fp.digest;
    const changed = stale && rec.files ? Object.keys({ ...rec.files, ...fp.files }).filter((f) => rec.files![f] !== fp.files[f]) : [];
    const totals = Object.values(rec.recap ?? {}).reduce(
      (a, r) => ({ ok: a.ok + r.ok, changed: a.changed + r.changed, failed: a.failed + r.failed, unreachable: a.unreachable + r.unreachable }),
      { ok: 0, changed: 0, failed: 0, unreachable: 0 },
    );
    return { step: s.name, applies: !skip, skipReason: skip, ...rec, stale, changedFiles: changed, totals, duration: dur(rec.startedAt, rec.endedAt) };
  });
  const next = STEPS.find((s) => !s.skipReason(site) && (journal.step(s.name).status !== 'succeeded' || journal.step(s.name).fingerprint !== fp.digest));
  const nextCmd = next
    ? (() => {
        const rec = journal.step(next.name);
        const blocked = gateProblems(next.name, site, journal, fp.digest);
        return blocked.length ? `./run ${blocked[0]!.step}` : `./run ${next.name}${rec.status === 'failed' || rec.status === 'interrupted' ? ' --resume' : ''}`;
      })()
    : undefined;
  if (json) return JSON.stringify({ steps: Object.fromEntries(rows.map((r) => [r.step, r])), next: nextCmd ?? null }, null, 2) + '\n';
  const lines = ['STEP            STATUS        WHEN                  TOOK     OK  CHANGED FAILED UNREACH  NOTE'];
  for (const r of rows) {
    const status = !r.applies ? 'n/a' : r.stale ? 'outdated' : r.status;
    const note = !r.applies ? r.skipReason : r.stale ? `config changed: ${r.changedFiles.slice(0, 3).join(', ') || 'extra vars'}` : (r.message ?? (r.forced ? `forced past ${r.forced.missing.join(', ')}` : ''));
    const t = r.totals;
    lines.push(
      `${r.step.padEnd(15)} ${status.padEnd(13)} ${(r.startedAt ?? '').replace('T', ' ').slice(0, 19).padEnd(21)} ${r.duration.padEnd(6)} ${String(t.ok).padStart(4)} ${String(t.changed).padStart(7)} ${String(t.failed).padStart(6)} ${String(t.unreachable).padStart(7)}  ${note ?? ''}`,
    );
  }
  lines.push('', nextCmd ? `next: ${nextCmd}` : 'every step that applies has succeeded.');
  return lines.join('\n') + '\n';
}
