/**
 * `./run <step>`: the gate, the journal and the run of one install step.
 *
 *  1. Refuse unless every earlier applicable step succeeded for this configuration (fingerprint of the
 *     inventory and variable files and -e arguments); `--force` overrides and is recorded.
 *  2. Take the project lock, mark the step `running` (atomic journal write), run its playbook.
 *  3. The step succeeds only when every host it targets has completed it (a --limit or --resume run adds
 *     hosts to what is done), no host failed or was unreachable, and its `verify:` tasks passed.
 *  4. --resume re-runs the failed/unreachable hosts from the start of the play each stopped in (the earliest
 *     of them), skipping the plays before it: a play is the unit that can be re-run safely, since its tasks may
 *     use variables registered by earlier tasks of the same play.
 *  5. First Ctrl-C: start no new task, let in-flight commands finish (grace period), record `interrupted`,
 *     exit 99. Second Ctrl-C: record `interrupted` and exit at once.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, RunError } from '../core/errors.js';
import { playbookHosts } from '../engine/executor.js';
import { hostsOfGroup } from '../inventory/types.js';
import type { RunEvent } from '../output/events.js';
import { fingerprint } from '../state/fingerprint.js';
import { acquireLock, Journal, type StepRecord, type VerifyResult } from '../state/journal.js';
import { findStep, gateProblems, STEPS, type SiteFacts } from '../steps/registry.js';
import type { Project } from '../vars/project.js';
import { loadProjectPlaybook, runPlaybookFile, type PlaybookFlags } from './playbook.js';
import { openProject } from './project.js';

export interface StepFlags extends PlaybookFlags {
  force?: boolean;
  resume?: boolean;
}

const GRACE_MS = 30_000;

/** storage_backends / offline / non-empty groups, read from the deployer's variables. */
export function siteFacts(project: Project): SiteFacts {
  const inv = project.inventory;
  const kcp = inv.groups.has('kube_control_plane') ? hostsOfGroup(inv, 'kube_control_plane') : [];
  const deployer = kcp[0] ?? project.hosts()[0];
  const groups = new Set<string>();
  for (const [g] of inv.groups) if (hostsOfGroup(inv, g).length) groups.add(g);
  if (!deployer) return { storageBackends: [], offline: false, groups };
  const s = project.scope(deployer);
  const sb = s.has('storage_backends') ? s.get('storage_backends') : [];
  const off = s.has('offline') ? s.get('offline') : false;
  return {
    storageBackends: Array.isArray(sb) ? sb.map(String) : [],
    offline: off === true || String(off).toLowerCase() === 'true',
    groups,
  };
}

export function stepFingerprint(project: Project, flags: StepFlags): ReturnType<typeof fingerprint> {
  return fingerprint(project.config.projectDir, project.sourceFiles(), flags['extra-vars'] ?? []);
}

export async function runStep(name: string, flags: StepFlags, write: (line: string) => void): Promise<number> {
  const step = findStep(name);
  if (!step) throw new RunError(`unknown step '${name}'`, { exitCode: ExitCode.usage, hint: `steps: ${STEPS.map((s) => s.name).join(', ')}` });
  const project = await openProject(flags);
  const projectDir = project.config.projectDir;
  const site = siteFacts(project);
  const skip = step.skipReason(site);
  if (skip) {
    write(`step ${name} does not apply to this site: ${skip}. Nothing to do.`);
    return 0;
  }
  const playbook = join(projectDir, 'playbooks', step.playbook);
  if (!existsSync(playbook)) {
    throw new RunError(`step '${name}' is not implemented in this version of the runner (no ${join('playbooks', step.playbook)})`, {
      exitCode: ExitCode.error,
      hint: 'nothing was run and nothing was recorded; see README for the steps available',
    });
  }
  const fp = stepFingerprint(project, flags);
  const journal = new Journal(projectDir);
  const problems = gateProblems(name, site, journal, fp.digest);
  if (problems.length && !flags.force) {
    const first = problems[0]!;
    throw new RunError(
      `step '${name}' cannot start: ` + problems.map((p) => `${p.step} ${p.why}`).join('; '),
      { exitCode: ExitCode.error, hint: `run ./run ${first.step}${first.status === 'failed' || first.status === 'interrupted' ? ' --resume' : ''} first (or --force to start anyway; it is recorded)` },
    );
  }

  const release = acquireLock(projectDir, `./run ${name}`, (l) => write(`[WARNING]: taking over a stale lock of pid ${l.pid} ('${l.command}' since ${l.since})`));
  try {
    let prev: StepRecord = journal.step(name);
    if (prev.fingerprint && prev.fingerprint !== fp.digest) {
      const changed = Object.keys({ ...prev.files, ...fp.files }).filter((f) => prev.files?.[f] !== fp.files[f]);
      if (flags.resume && !flags.force) {
        throw new RunError(`the configuration changed since step '${name}' stopped (${changed.join(', ') || 'extra vars'}), so hosts it completed before would not be re-checked`, {
          exitCode: ExitCode.usage,
          hint: `run ./run ${name} (all hosts; completed work is idempotent), or --resume --force to re-run only the failed hosts anyway (recorded)`,
        });
      }
      if (!flags.resume) prev = { status: prev.status }; // configuration changed: nothing counts as done
    }
    // A full run (no --limit, no --resume) starts over: what earlier runs completed no longer counts.
    if (!flags.resume && !flags.limit) prev = { status: prev.status };
    const pb = loadProjectPlaybook(project, playbook);
    const targets = playbookHosts(project, pb);

    let onlyHosts: string[] | undefined;
    let startAtPlay: number | undefined;
    let initialNotified: Record<string, string[]> | undefined;
    if (flags.resume) {
      const pending = prev.pending ?? {};
      if (!Object.keys(pending).length) {
        throw new RunError(`nothing to resume for step '${name}' (${prev.status}${prev.fingerprint ? '' : ', or the configuration changed since'})`, {
          exitCode: ExitCode.usage,
          hint: `run ./run ${name} without --resume`,
        });
      }
      onlyHosts = Object.keys(pending);
      // Plays before the earliest one a pending host stopped in were completed by every pending host.
      startAtPlay = Math.min(...Object.values(pending).map((p) => p.play ?? 0));
      initialNotified = Object.fromEntries(Object.entries(pending).map(([h, p]) => [h, p.notified ?? []]));
    }

    const started = new Date();
    journal.update(name, {
      status: 'running',
      startedAt: started.toISOString(),
      endedAt: undefined,
      fingerprint: fp.digest,
      files: fp.files,
      targets,
      limit: flags.limit,
      ...(problems.length ? { forced: { at: started.toISOString(), missing: problems.map((p) => p.step) } } : {}),
    });

    const ac = new AbortController();
    let sigints = 0;
    const onSigint = (): void => {
      sigints++;
      if (sigints === 1) {
        write(`\n[interrupt] finishing commands in flight (up to ${GRACE_MS / 1000}s), then stopping; Ctrl-C again to stop now`);
        ac.abort();
        setTimeout(() => hardStop(), GRACE_MS).unref();
      } else hardStop();
    };
    const hardStop = (): void => {
      // Nothing is known to have completed: every targeted host not done before is pending (from its
      // recorded play, else from the first).
      const pending: NonNullable<StepRecord['pending']> = {};
      for (const h of onlyHosts ?? targets) if (!(prev.done ?? []).includes(h) || onlyHosts) pending[h] = { reason: 'interrupted', play: prev.pending?.[h]?.play ?? startAtPlay ?? 0 };
      journal.update(name, { status: 'interrupted', endedAt: new Date().toISOString(), exitCode: ExitCode.interrupted, message: 'interrupted by the operator', pending });
      release();
      process.exit(ExitCode.interrupted);
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);

    const verify: VerifyResult[] = [];
    const listener = (e: RunEvent): void => {
      // A verify task that does not apply to a host (skipped) is neither a pass nor a failure.
      if (e.type === 'host.result' && e.status !== 'skipped' && /^verify\b/i.test(e.task.name.replace(/^[^:]+ : /, ''))) {
        const passed = e.status === 'ok' || e.status === 'changed' || Boolean(e.ignored);
        verify.push({ name: `${e.task.name} [${e.host}]`, passed, detail: passed ? undefined : String(e.result.msg ?? e.status) });
      }
    };
    let outcome;
    try {
      outcome = await runPlaybookFile(playbook, flags, { command: name, write, signal: ac.signal, listeners: [listener], project, onlyHosts, startAtPlay, initialNotified });
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }

    const stopped = outcome.stopped;
    // An interrupted run completed no host: only a run that went through every play adds to `done`.
    const ranOk = outcome.interrupted ? [] : outcome.hosts.filter((h) => !stopped[h]);
    const done = new Set([...(prev.done ?? []), ...ranOk]);
    for (const h of Object.keys(stopped)) done.delete(h);
    const pending: NonNullable<StepRecord['pending']> = {};
    for (const [h, p] of Object.entries(prev.pending ?? {})) if (!done.has(h)) pending[h] = p;
    for (const [h, s] of Object.entries(stopped)) pending[h] = { task: s.task, taskPos: s.pos, reason: s.reason, notified: s.notified, play: s.play };
    if (outcome.interrupted) {
      for (const h of outcome.hosts) {
        if (!done.has(h) && !pending[h]) pending[h] = { reason: 'interrupted', play: Math.min(outcome.interruptedAtPlay ?? 0, prev.pending?.[h]?.play ?? Infinity) };
      }
    }
    const missing = targets.filter((h) => !done.has(h));
    const verifyFailed = verify.filter((v) => !v.passed);
    const status: StepRecord['status'] = outcome.interrupted ? 'interrupted' : outcome.exitCode === 0 && !missing.length && !Object.keys(pending).length && !verifyFailed.length ? 'succeeded' : 'failed';
    const counts = Object.fromEntries(Object.entries(outcome.stats));
    journal.update(name, {
      status,
      endedAt: new Date().toISOString(),
      done: [...done],
      pending,
      recap: { ...(prev.recap ?? {}), ...counts },
      verify,
      logDir: outcome.logDir,
      exitCode: outcome.exitCode,
      message:
        status === 'succeeded'
          ? undefined
          : status === 'interrupted'
            ? 'interrupted by the operator'
            : Object.keys(pending).length
              ? `failed or unreachable: ${Object.keys(pending).join(', ')}`
              : missing.length
                ? `not yet run on: ${missing.join(', ')} (this run was limited)`
                : 'verification failed',
    });
    if (status === 'succeeded') {
      const next = STEPS.slice(STEPS.indexOf(step) + 1).find((s) => !s.skipReason(site));
      write(`step ${name} succeeded.${next ? ` Next: ./run ${next.name}` : ' The installation is complete.'}`);
      return 0;
    }
    if (status === 'interrupted') {
      write(`step ${name} interrupted. Continue with: ./run ${name} --resume`);
      return ExitCode.interrupted;
    }
    const pend = Object.keys(pending);
    if (pend.length) write(`step ${name} failed on ${pend.join(', ')}. Fix the cause, then: ./run ${name} --resume`);
    else if (missing.length) write(`step ${name} is not complete: not yet run on ${missing.join(', ')}. Run: ./run ${name} --limit ${missing.join(',')}`);
    else if (verifyFailed.length) write(`step ${name} ran, but verification failed: ${verifyFailed.map((v) => v.name).join('; ')}`);
    return outcome.exitCode || ExitCode.error;
  } finally {
    release();
  }
}
