/**
 * Run a playbook file: project → playbook model → executor, with the console renderer and the per-run log
 * (NDJSON events + console text) subscribed to the event bus. Used by `./run playbook` and by the steps.
 */
import { resolve } from 'node:path';
import type { ProjectFlagValues } from '../commands/flags.js';
import { RunError } from '../core/errors.js';
import { Executor, type RunOutcome } from '../engine/executor.js';
import { modules, moduleSpecs } from '../modules/index.js';
import { EventBus } from '../output/bus.js';
import { ConsoleRenderer, wantColor } from '../output/console.js';
import type { Listener } from '../output/events.js';
import { RunLog } from '../output/logfile.js';
import { loadPlaybook } from '../playbook/load.js';
import type { Project } from '../vars/project.js';
import { connectionsFor } from './connections.js';
import { openProject } from './project.js';

export interface PlaybookFlags extends ProjectFlagValues {
  limit?: string;
  tags?: string[];
  'skip-tags'?: string[];
  check?: boolean;
  diff?: boolean;
  verbose?: number;
  'start-at-task'?: string;
  forks?: number;
}

export interface PlaybookRunOptions {
  /** name of the run for the log directory (`playbook`, a step name) */
  command: string;
  write: (line: string) => void;
  signal?: AbortSignal;
  /** extra subscribers (journal, tests) */
  listeners?: Listener[];
  project?: Project;
  onlyHosts?: string[];
  initialNotified?: Record<string, string[]>;
  startAtTask?: string;
  startAtPlay?: number;
}

const splitList = (v?: string[]): string[] | undefined => (v?.length ? v.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean) : undefined);

/** Load a playbook with the runner's modules and the project's extra vars (for templated import names). */
export function loadProjectPlaybook(project: Project, path: string): ReturnType<typeof loadPlaybook> {
  const extra: Record<string, unknown> = {};
  for (const l of project.extraLayers) for (const [k, d] of l.vars) extra[k] = d.value;
  return loadPlaybook(path, { modules: moduleSpecs(), extraVars: extra });
}

export async function runPlaybookFile(file: string, flags: PlaybookFlags, o: PlaybookRunOptions): Promise<RunOutcome & { logDir: string }> {
  const project = o.project ?? (await openProject(flags));
  const path = resolve(file);
  const pb = loadProjectPlaybook(project, path);
  const bus = new EventBus();
  const log = new RunLog(project.config.get('log_path'), o.command);
  const renderer = new ConsoleRenderer(
    (line) => {
      o.write(line);
      log.line(line);
    },
    { color: wantColor(process.stdout), verbosity: flags.verbose ?? 0, columns: process.stdout.columns },
  );
  bus.on(renderer.handle);
  bus.on(log.event);
  for (const l of o.listeners ?? []) bus.on(l);
  const started = Date.now();
  bus.emit({ type: 'run.start', runId: log.dir.split('/').pop()!, command: o.command, time: new Date().toISOString(), logDir: log.dir, check: Boolean(flags.check) });
  const ex = new Executor({
    project,
    playbook: pb,
    bus,
    connections: connectionsFor(project),
    modules: modules(),
    forks: flags.forks ?? project.config.get('forks'),
    check: flags.check,
    diff: flags.diff,
    tags: splitList(flags.tags),
    skipTags: splitList(flags['skip-tags']),
    limit: flags.limit,
    startAtTask: o.startAtTask ?? flags['start-at-task'],
    initialNotified: o.initialNotified,
    startAtPlay: o.startAtPlay,
    verbosity: flags.verbose ?? 0,
    commandTimeout: project.config.get('command_timeout'),
    signal: o.signal,
    onlyHosts: o.onlyHosts,
  });
  let outcome: RunOutcome;
  try {
    outcome = await ex.run();
  } catch (e) {
    bus.emit({ type: 'run.end', exitCode: e instanceof RunError ? e.exitCode : 250, durationMs: Date.now() - started });
    log.close();
    throw e;
  }
  bus.emit({ type: 'run.end', exitCode: outcome.exitCode, durationMs: Date.now() - started, interrupted: outcome.interrupted });
  log.close();
  return { ...outcome, logDir: log.dir };
}
