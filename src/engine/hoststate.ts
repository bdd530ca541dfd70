/**
 * What the executor knows about one host during a run: whether it is still in play, its facts, the
 * variables tasks set on it (set_fact, register, include_vars), pending handler notifications and its recap.
 */
import type { Facts } from '../facts/probe.js';
import type { RecapCounts } from '../output/events.js';
import type { VarDef } from '../inventory/types.js';
import type { VarMap } from '../vars/files.js';

export function emptyRecap(): RecapCounts {
  return { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
}

export class HostState {
  /** failed a task (not ignored, not rescued) — out of the play */
  failed = false;
  unreachable = false;
  /** meta: end_host — out of the current play without failing */
  ended = false;
  /** the task it stopped at, for the journal and --resume */
  stoppedAt?: { task: string; pos?: string; reason: string };
  /** the last task that failed on it and its result: `ansible_failed_task` / `ansible_failed_result` in a rescue */
  lastFailure?: { task: Record<string, unknown>; result: Record<string, unknown> };
  facts?: Facts;
  /** facts as variables: ansible_facts plus every ansible_* name (Ansible's INJECT_FACTS_AS_VARS) */
  factsVars: VarMap = new Map();
  /** include_vars results (Ansible's vars cache) */
  includeVars: VarMap = new Map();
  /** set_fact and register (Ansible's non-persistent fact cache: above include_vars) */
  setFacts: VarMap = new Map();
  /** handler names / listen topics notified and not yet run */
  notified = new Set<string>();
  recap: RecapCounts = emptyRecap();
  /** roles already run on this host in the current play (roles run once unless allow_duplicates) */
  rolesRun = new Set<string>();

  constructor(readonly name: string) {}

  get active(): boolean {
    return !this.failed && !this.unreachable && !this.ended;
  }

  useFacts(facts: Facts): void {
    this.facts = facts;
    const pos = { file: `facts of ${this.name}` };
    const m: VarMap = new Map();
    m.set('ansible_facts', { value: stripPrefix(facts), pos });
    for (const [k, v] of Object.entries(facts)) m.set(k, { value: v, pos });
    this.factsVars = m;
  }

  setVar(name: string, value: unknown, file: string, into: 'setFacts' | 'includeVars' = 'setFacts'): void {
    const def: VarDef = { value, pos: { file } };
    this[into].set(name, def);
  }
}

/** ansible_facts holds facts without the `ansible_` prefix (ansible_facts.distribution). */
function stripPrefix(f: Facts): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) o[k.startsWith('ansible_') ? k.slice(8) : k] = v;
  return o;
}
