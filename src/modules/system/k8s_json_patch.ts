/**
 * `k8s_json_patch` (kubernetes.core.k8s_json_patch): apply an RFC 6902 JSON patch to one existing object with
 * `kubectl patch --type json` (the patch in a private temp file, not in the command line). `changed` is honest: the
 * object's `resourceVersion` before and after (the API server does not write a no-op patch). Check mode:
 * the same patch as a server-side dry run, compared with the stored object. A failing `test` operation or a
 * missing path fails the task with kubectl's message; a missing object fails ("not found").
 */
import { boundedTimeout, defineModule, Fail } from './common.js';
import { KUBE_CONN_SPEC, WAIT_SPEC, comparable, getEach, kubeError, kubectlBase, kubectlWithFile, meta, objectsOf, resourceArg, waitCondition, waitObjects } from './kube.js';

export const k8sJsonPatch = defineModule({
  name: 'k8s_json_patch',
  spec: {
    ...KUBE_CONN_SPEC,
    ...WAIT_SPEC,
    kind: { type: 'str', required: true },
    api_version: { type: 'str', default: 'v1', aliases: ['api', 'version'] },
    name: { type: 'str', required: true },
    namespace: { type: 'str' },
    patch: { type: 'list', elements: 'dict', required: true },
  },
  async run(a, ctx) {
    const base = kubectlBase(a);
    const kind = a.req('kind');
    const name = a.req('name');
    const ns = a.str('namespace');
    const patch = a.dictList('patch')!;
    for (const op of patch) {
      if (!op.op || !op.path) throw new Fail(`every patch operation needs op and path (got ${JSON.stringify(op)})`);
    }
    const res = resourceArg(kind, a.str('api_version'));
    const ref = { resource: res, name, ...(ns ? { namespace: ns } : {}) };
    const t = boundedTimeout(ctx, 120);
    const got = await getEach(ctx, base, [ref], t);
    if (got.errors[0]) throw new Fail(`Failed to retrieve requested object: ${got.errors[0]}`);
    const before = got.objects[0];
    if (!before) throw new Fail(`${kind} ${ns ? `${ns}/` : ''}${name} not found`, { result: {} });
    const argv = ['patch', res, name, ...(ns ? ['-n', ns] : []), '--type=json', '--patch-file=@FILE@', '-o', 'json'];
    if (ctx.check) argv.push('--dry-run=server');
    const r = await kubectlWithFile(ctx, base, argv, JSON.stringify(patch), t);
    if (r.rc !== 0) throw new Fail(`Failed to patch object: ${kubeError(r)}`, { rc: r.rc });
    const after = objectsOf(r.stdout)[0];
    if (!after) throw new Fail('kubectl patch returned no object');
    const changed = ctx.check
      ? JSON.stringify(comparable(after)) !== JSON.stringify(comparable(before))
      : String(meta(after).resourceVersion ?? '') !== String(meta(before).resourceVersion ?? '');
    const out: Record<string, unknown> = { changed, result: after };
    if (a.bool('wait') && !ctx.check) {
      const cond = waitCondition(a);
      const w = await waitObjects(ctx, base, [after], { state: 'present', ...(cond ? { cond } : {}), timeoutSec: a.int('wait_timeout')!, sleepSec: Math.max(1, a.int('wait_sleep')!) });
      out.duration = Math.round(w.elapsed);
      if (w.objects[0]) out.result = w.objects[0];
      if (!w.ok) throw new Fail(`Resource update timed out${w.error ? `: ${w.error}` : ''}`, out);
    }
    return out as { changed: boolean };
  },
});
