/**
 * `k8s` (kubernetes.core.k8s): make Kubernetes objects present or absent with `kubectl` on the task's
 * (usually delegated) host.
 *
 * present: `kubectl apply` (client-side, or server-side with `server_side_apply: {field_manager,
 * force_conflicts}`) with the manifests on stdin and `-o json`. `changed` is honest: the objects are read
 * before (`kubectl get -f - --ignore-not-found`) and their `resourceVersion` compared with what apply
 * returns — the API server does not write (nor bump the version) when an apply changes nothing, which also
 * holds for server-side apply whose text output always says "serverside-applied".
 * Check mode: `kubectl diff` (server-side dry run; exit 0 = no change, 1 = change).
 * absent: `kubectl delete --ignore-not-found -o name` (a printed name = deleted); by definition or by
 * kind + name / label_selectors. `wait` polls until the objects are ready (kind-specific, or
 * `wait_condition`) or gone, bounded by `wait_timeout`.
 *
 * Result (kubernetes.core's shape): one object → `result` (the object) and `method`; several →
 * `result.results[]` each with `changed`, `method`, `result`.
 */
import type { ModuleResult } from '../types.js';
import { boundedTimeout, defineModule, Fail, ModuleArgError } from './common.js';
import {
  KUBE_CONN_SPEC,
  WAIT_SPEC,
  kubeError,
  kubectl,
  kubectlBase,
  loadDefinitions,
  manifest,
  meta,
  objKey,
  objectsOf,
  resourceArg,
  waitCondition,
  waitObjects,
  type KObj,
} from './kube.js';

/** Lines of `kubectl delete -o name` (or `get -o name`): `deployment.apps/web`. */
export function namesOf(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^[a-z0-9.-]+\/\S+$/i.test(l));
}

/** Per-object change from the resourceVersions before and after an apply. */
export function applyChanges(before: KObj[] | undefined, after: KObj[]): { changed: boolean; method: string; result: KObj }[] {
  const rv = new Map<string, string>();
  for (const o of before ?? []) rv.set(objKey(o), String(meta(o).resourceVersion ?? ''));
  return after.map((o) => {
    const k = objKey(o);
    const was = rv.get(k);
    if (before === undefined) return { changed: true, method: 'apply', result: o };
    if (was === undefined) return { changed: true, method: 'create', result: o };
    const changed = was !== String(meta(o).resourceVersion ?? '');
    return { changed, method: changed ? 'update' : 'apply', result: o };
  });
}

export const k8s = defineModule({
  name: 'k8s',
  spec: {
    ...KUBE_CONN_SPEC,
    ...WAIT_SPEC,
    state: { type: 'str', default: 'present', choices: ['present', 'absent'] },
    definition: { type: 'raw', aliases: ['resource_definition', 'inline'] },
    src: { type: 'path' },
    template: { type: 'raw' },
    kind: { type: 'str' },
    name: { type: 'str' },
    namespace: { type: 'str' },
    api_version: { type: 'str', default: 'v1', aliases: ['api', 'version'] },
    apply: { type: 'bool', default: false },
    server_side_apply: { type: 'dict' },
    merge_type: { type: 'list' },
    label_selectors: { type: 'list' },
    delete_options: { type: 'dict' },
    force: { type: 'bool', default: false },
  },
  async run(a, ctx) {
    const base = kubectlBase(a);
    if (a.bool('force')) throw new ModuleArgError("force (replace) is not supported; remove the object first (state: absent) or rely on apply");
    if (a.has('merge_type')) ctx.warn('k8s: merge_type is ignored: objects are applied with kubectl apply');
    const state = a.str('state')!;
    const docs = loadDefinitions(a, ctx);
    const wait = a.bool('wait');
    const cond = waitCondition(a);
    const waitTimeout = a.int('wait_timeout')!;
    const waitSleep = Math.max(1, a.int('wait_sleep')!);
    const t = boundedTimeout(ctx, 120);

    if (state === 'absent') {
      const opts = a.dict('delete_options') ?? {};
      const extra: string[] = [];
      if (opts.propagationPolicy) extra.push(`--cascade=${String(opts.propagationPolicy).toLowerCase()}`);
      if (opts.gracePeriodSeconds !== undefined) extra.push(`--grace-period=${Number(opts.gracePeriodSeconds)}`);
      let target: { argv: string[]; stdin?: string };
      if (docs.length) target = { argv: ['-f', '-'], stdin: manifest(docs) };
      else {
        const kind = a.str('kind');
        const sel = a.list('label_selectors');
        if (!kind || !sel?.length) throw new Fail('state=absent needs a definition, src, or kind with name or label_selectors');
        target = { argv: [resourceArg(kind, a.str('api_version')), '-l', sel.join(','), ...(a.str('namespace') ? ['-n', a.str('namespace')!] : [])] };
      }
      if (ctx.check) {
        const r = await kubectl(ctx, base, ['get', ...target.argv, '-o', 'name', '--ignore-not-found'], { ...(target.stdin ? { stdin: target.stdin } : {}), timeout: t });
        if (r.rc !== 0) throw new Fail(kubeError(r), { rc: r.rc });
        return { changed: namesOf(r.stdout).length > 0, result: {} };
      }
      const r = await kubectl(ctx, base, ['delete', ...target.argv, '--ignore-not-found', '-o', 'name', `--wait=${wait ? 'true' : 'false'}`, ...(wait ? [`--timeout=${waitTimeout}s`] : []), ...extra], {
        ...(target.stdin ? { stdin: target.stdin } : {}),
        timeout: boundedTimeout(ctx, wait ? waitTimeout + 60 : 120),
      });
      if (r.rc !== 0) {
        if (/timed out waiting/i.test(r.stderr)) throw new Fail(`Resource deletion timed out: ${kubeError(r)}`, { changed: namesOf(r.stdout).length > 0 });
        throw new Fail(kubeError(r), { rc: r.rc, changed: namesOf(r.stdout).length > 0 });
      }
      const deleted = namesOf(r.stdout);
      return { changed: deleted.length > 0, result: {}, ...(deleted.length ? { deleted } : {}) };
    }

    if (!docs.length) throw new Fail('state=present needs a definition, src, template, or kind + name');
    const stdin = manifest(docs);
    const ssa = a.dict('server_side_apply');
    const applyFlags: string[] = [];
    if (ssa) {
      applyFlags.push('--server-side', `--field-manager=${String(ssa.field_manager ?? 'ansible')}`);
      if (ssa.force_conflicts === true || String(ssa.force_conflicts).toLowerCase() === 'true') applyFlags.push('--force-conflicts');
    }

    if (ctx.check) {
      const d = await kubectl(ctx, base, ['diff', '-f', '-', ...applyFlags], { stdin, timeout: t });
      if (d.rc === 0) return { changed: false, result: {}, method: 'apply' };
      if (d.rc === 1) return { changed: true, result: {}, method: 'apply', ...(ctx.diff ? { kubectl_diff: d.stdout } : {}) };
      ctx.warn(`k8s: kubectl diff failed, assuming a change: ${kubeError(d).split('\n')[0]}`);
      return { changed: true, result: {}, method: 'apply' };
    }

    const pre = await kubectl(ctx, base, ['get', '-f', '-', '-o', 'json', '--ignore-not-found'], { stdin, timeout: t });
    const before = pre.rc === 0 ? objectsOf(pre.stdout) : undefined;
    const ap = await kubectl(ctx, base, ['apply', '-f', '-', '-o', 'json', ...applyFlags], { stdin, timeout: t });
    if (ap.rc !== 0) throw new Fail(`Failed to apply object: ${kubeError(ap)}`, { rc: ap.rc, changed: false });
    const after = objectsOf(ap.stdout);
    const per = applyChanges(before, after);
    const res: ModuleResult = { changed: per.some((p) => p.changed) };
    if (wait) {
      const w = await waitObjects(ctx, base, after, { state: 'present', ...(cond ? { cond } : {}), timeoutSec: waitTimeout, sleepSec: waitSleep });
      w.objects.forEach((o, i) => {
        if (o && per[i]) per[i]!.result = o;
      });
      res.duration = Math.round(w.elapsed);
      if (!w.ok) {
        const names = after.map((o) => `${String(o.kind)}/${String(meta(o).name)}`).join(', ');
        throw new Fail(`Resource creation timed out${w.error ? `: ${w.error}` : ''} (waited ${waitTimeout}s for ${names}${cond ? ` to have condition ${cond.type}=${cond.status}` : ' to be ready'})`, {
          changed: res.changed,
          result: per.length === 1 ? per[0]!.result : { results: per },
        });
      }
    }
    if (per.length === 1) {
      res.result = per[0]!.result;
      res.method = per[0]!.method;
    } else {
      res.result = { results: per };
    }
    return res;
  },
});
