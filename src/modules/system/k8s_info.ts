/**
 * `k8s_info` (kubernetes.core.k8s_info): read objects with `kubectl get -o json` → `resources` (a list,
 * possibly empty). By `name`, or listed with `label_selectors` / `field_selectors`; without `namespace`
 * a list spans all namespaces (`-A`), as the API call kubernetes.core makes. An unknown kind gives
 * `api_found: false` and no resources rather than a failure (kubernetes.core's behaviour).
 * `wait`: poll (every `wait_sleep`, at most `wait_timeout`) until resources exist and are ready (or meet
 * `wait_condition`). Never changes anything.
 */
import { sleep } from './common.js';
import { boundedTimeout, defineModule, Fail } from './common.js';
import { KUBE_CONN_SPEC, WAIT_SPEC, isReady, kubeError, kubectl, kubectlBase, objectsOf, resourceArg, waitCondition, type KObj } from './kube.js';

/** The `kubectl get` arguments of a k8s_info query. */
export function infoArgv(q: { kind: string; apiVersion?: string; name?: string; namespace?: string; labels?: string[]; fields?: string[] }): string[] {
  const argv = ['get', resourceArg(q.kind, q.apiVersion)];
  if (q.name) argv.push(q.name);
  if (q.namespace) argv.push('-n', q.namespace);
  else if (!q.name) argv.push('--all-namespaces');
  if (q.labels?.length) argv.push('-l', q.labels.join(','));
  if (q.fields?.length) argv.push(`--field-selector=${q.fields.join(',')}`);
  argv.push('-o', 'json', '--ignore-not-found');
  return argv;
}

export function apiNotFound(stderr: string): boolean {
  return /doesn't have a resource type|no matches for kind|the server could not find the requested resource/i.test(stderr);
}

export const k8sInfo = defineModule({
  name: 'k8s_info',
  spec: {
    ...KUBE_CONN_SPEC,
    ...WAIT_SPEC,
    kind: { type: 'str', required: true },
    api_version: { type: 'str', default: 'v1', aliases: ['api', 'version'] },
    name: { type: 'str' },
    namespace: { type: 'str' },
    label_selectors: { type: 'list', default: [] },
    field_selectors: { type: 'list', default: [] },
  },
  async run(a, ctx) {
    const base = kubectlBase(a);
    const q: Parameters<typeof infoArgv>[0] = { kind: a.req('kind'), labels: a.list('label_selectors')!, fields: a.list('field_selectors')! };
    for (const [k, v] of [['apiVersion', a.str('api_version')], ['name', a.str('name')], ['namespace', a.str('namespace')]] as const) if (v) q[k] = v;
    const argv = infoArgv(q);
    const wait = a.bool('wait');
    const cond = waitCondition(a);
    const deadline = Date.now() + a.int('wait_timeout')! * 1000;
    const pause = Math.max(1, a.int('wait_sleep')!) * 1000;
    for (let i = 0; i < 100_000; i++) {
      const r = await kubectl(ctx, base, argv, { timeout: boundedTimeout(ctx, 60) });
      let resources: KObj[] = [];
      if (r.rc !== 0) {
        if (apiNotFound(r.stderr)) {
          if (!wait || Date.now() + pause > deadline) return { changed: false, api_found: false, resources: [] };
        } else throw new Fail(`Failed to get ${q.kind}: ${kubeError(r)}`, { rc: r.rc, api_found: true, resources: [] });
      } else resources = objectsOf(r.stdout);
      const done = !wait || (resources.length > 0 && resources.every((o) => isReady(o, cond)));
      if (done) return { changed: false, api_found: true, resources };
      if (Date.now() + pause > deadline) return { changed: false, api_found: true, resources, failed: true, msg: `Failed to gather information about ${q.kind}(s) even after waiting for ${a.int('wait_timeout')} seconds` };
      if (!(await sleep(pause, ctx.signal))) throw new Fail('k8s_info interrupted');
    }
    throw new Fail('k8s_info: wait loop bound reached');
  },
});
