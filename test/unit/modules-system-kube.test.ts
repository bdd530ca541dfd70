/**
 * k8s, k8s_info, k8s_json_patch, helm and lvg without a cluster or LVM: there is no Kubernetes cluster, helm or
 * lvm2 on the test machine, so these modules are tested by the commands they build and by how they read the
 * tools' answers. A scripted transport answers each command with output written by hand from the tools'
 * documented formats (kubectl -o json objects and Lists, `-o name` lines, `kubectl diff` exit codes, helm's
 * `list -o json` / `show chart` / `get values -o json` / `upgrade -o json`, lvm's `--noheadings --separator`
 * columns) and records what was run, with which stdin.
 *
 * The kubectl command lines the modules produced are then run against the real kubectl of this machine (when
 * installed) with a kubeconfig pointing at a closed port: kubectl must get as far as connecting — i.e. accept
 * every flag and sub-command — and fail only with "connection refused".
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { SYSTEM_MODULES } from '../../src/modules/system/index.js';
import { isReady } from '../../src/modules/system/kube.js';
import type { ModuleResult } from '../../src/modules/types.js';
import type { ExecOptions, ExecResult, Transport } from '../../src/transport/types.js';
import { moduleContext, type TestContextOptions } from '../support/modctx.js';

type Reply = Partial<ExecResult> | ((cmd: string, stdin: string | undefined, n: number) => Partial<ExecResult>);

/** A transport that answers commands from a script (first matching rule wins) and records every call. */
class Scripted implements Transport {
  readonly host = 'deployer';
  readonly kind = 'local' as const;
  readonly calls: { cmd: string; stdin?: string }[] = [];
  private readonly hits = new Map<number, number>();
  constructor(private readonly rules: [RegExp, Reply][]) {}
  async connect(): Promise<void> {}
  async exec(cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const stdin = opts.stdin === undefined ? undefined : String(opts.stdin);
    this.calls.push(stdin === undefined ? { cmd } : { cmd, stdin });
    for (const [i, [re, reply]] of this.rules.entries()) {
      if (!re.test(cmd)) continue;
      const n = this.hits.get(i) ?? 0;
      this.hits.set(i, n + 1);
      const r = typeof reply === 'function' ? reply(cmd, stdin, n) : reply;
      return { rc: 0, stdout: '', stderr: '', ...r };
    }
    throw new Error(`unexpected command:\n${cmd}`);
  }
  async put(): Promise<void> {
    throw new Error('put not expected');
  }
  async get(): Promise<Buffer> {
    throw new Error('get not expected');
  }
  async close(): Promise<void> {}
  cmds(): string[] {
    return this.calls.map((c) => c.cmd);
  }
}

const TMP = mkdtempSync(join(tmpdir(), 'kube-unit-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));
const KC = join(TMP, 'dead-kubeconfig');
writeFileSync(
  KC,
  [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}',
    '  name: dead',
    'contexts:',
    '- context: {cluster: dead, user: u}',
    '  name: dead',
    'current-context: dead',
    'users:',
    '- name: u',
    '  user: {token: not-a-secret}',
    '',
  ].join('\n'),
);
/** every kubectl command line the tests produced, to be checked against the real kubectl */
const kubectlLines: { cmd: string; stdin?: string }[] = [];

async function run(t: Scripted, module: string, args: Record<string, unknown>, opts: TestContextOptions = {}): Promise<ModuleResult> {
  const mod = SYSTEM_MODULES.find((m) => m.name === module)!;
  const r = await mod.run(args, moduleContext(t, opts));
  for (const c of t.calls) if (c.cmd.includes('kubectl')) kubectlLines.push(c);
  return r;
}

function cm(name: string, rv: string, ns = 'demo', data: Record<string, string> = { k: 'v' }): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, resourceVersion: rv, uid: `uid-${name}` }, data };
}
const list = (...items: unknown[]): string => JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items }, null, 2);
const json = (o: unknown): string => JSON.stringify(o, null, 2);
/** the output of kube.getEach's script for one object */
const each = (...objs: (unknown | undefined)[]): string => objs.map((o, i) => `\n@@OBJ${i}\n${o === undefined ? '' : json(o)}`).join('');

const DEF = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app' }, data: { k: 'v' } };

// ───────────────────────────────────────────── k8s ─────────────────────────────────────────────

describe('k8s state=present', () => {
  it('a new object: read before (nothing), applied → changed, method create; namespace filled in; manifest on stdin', async () => {
    const t = new Scripted([
      [/ get -f - -o json --ignore-not-found/, { stdout: '' }],
      [/ apply -f - -o json/, { stdout: json(cm('app', '100')) }],
    ]);
    const r = await run(t, 'k8s', { definition: DEF, namespace: 'demo', kubeconfig: KC, context: 'dead' });
    expect(r).toMatchObject({ changed: true, method: 'create', result: { metadata: { name: 'app', resourceVersion: '100' } } });
    expect(t.cmds()).toEqual([
      `kubectl --kubeconfig=${KC} --context=dead get -f - -o json --ignore-not-found`,
      `kubectl --kubeconfig=${KC} --context=dead apply -f - -o json`,
    ]);
    const sent = parseYaml(t.calls[1]!.stdin!) as Record<string, unknown>;
    expect(sent).toEqual({ ...DEF, metadata: { name: 'app', namespace: 'demo' } });
    expect(DEF.metadata).toEqual({ name: 'app' }); // the task's argument is not changed
  });

  it('unchanged when the API server did not write (same resourceVersion), update when it did', async () => {
    const same = new Scripted([
      [/ get -f -/, { stdout: json(cm('app', '100')) }],
      [/ apply -f -/, { stdout: json(cm('app', '100')) }],
    ]);
    expect(await run(same, 'k8s', { definition: DEF, namespace: 'demo' })).toMatchObject({ changed: false, method: 'apply' });
    const upd = new Scripted([
      [/ get -f -/, { stdout: json(cm('app', '100')) }],
      [/ apply -f -/, { stdout: json(cm('app', '101', 'demo', { k: 'new' })) }],
    ]);
    expect(await run(upd, 'k8s', { definition: DEF, namespace: 'demo' })).toMatchObject({ changed: true, method: 'update', result: { data: { k: 'new' } } });
  });

  it('several documents (YAML text with a List): per-object results, changed if any changed', async () => {
    const text = `---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# comment only\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n`;
    const t = new Scripted([
      [/ get -f -/, { stdout: list(cm('a', '5')) }],
      [/ apply -f -/, { stdout: list(cm('a', '5'), cm('b', '9')) }],
    ]);
    const r = await run(t, 'k8s', { definition: text, namespace: 'demo', wait: false });
    expect(r.changed).toBe(true);
    const results = (r.result as { results: { changed: boolean; method: string }[] }).results;
    expect(results.map((x) => [x.changed, x.method])).toEqual([
      [false, 'apply'],
      [true, 'create'],
    ]);
    const docs = parseAllDocuments(t.calls[0]!.stdin!).map((d) => d.toJS() as { metadata: { name: string; namespace: string } });
    expect(docs.map((d) => `${d.metadata.namespace}/${d.metadata.name}`)).toEqual(['demo/a', 'demo/b']);
  });

  it('server-side apply flags; kind + name alone make a minimal object (a Namespace)', async () => {
    const t = new Scripted([
      [/ get -f -/, { stdout: '' }],
      [/ apply -f -/, { stdout: json({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'openstack', resourceVersion: '1' } }) }],
    ]);
    const r = await run(t, 'k8s', { kind: 'Namespace', name: 'openstack', api_version: 'v1', server_side_apply: { field_manager: 'burrow', force_conflicts: true }, kubeconfig: KC });
    expect(r.changed).toBe(true);
    expect(t.cmds()[1]).toBe(`kubectl --kubeconfig=${KC} apply -f - -o json --server-side --field-manager=burrow --force-conflicts`);
    expect(parseYaml(t.calls[1]!.stdin!)).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'openstack' } });
  });

  it('check mode asks kubectl diff (0 = no change, 1 = change) and applies nothing', async () => {
    for (const [rc, changed] of [
      [0, false],
      [1, true],
    ] as const) {
      const t = new Scripted([[/ diff -f -/, { rc, stdout: rc ? '--- a\n+++ b\n-k: v\n+k: w\n' : '' }]]);
      expect((await run(t, 'k8s', { definition: DEF, namespace: 'demo', kubeconfig: KC }, { check: true })).changed).toBe(changed);
      expect(t.cmds()).toEqual([`kubectl --kubeconfig=${KC} diff -f -`]);
    }
  });

  it('kubectl errors become the task failure, without kubectl warnings', async () => {
    const t = new Scripted([
      [/ get -f -/, { rc: 1, stderr: 'error: resource mapping not found for name: "x" namespace: "" from "STDIN": no matches for kind "Widget" in version "example.com/v1"\n' }],
      [/ apply -f -/, { rc: 1, stderr: 'Warning: something deprecated\nerror: resource mapping not found for name: "x": no matches for kind "Widget" in version "example.com/v1"\nensure CRDs are installed first\n' }],
    ]);
    const r = await run(t, 'k8s', { definition: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' } } });
    expect(r).toMatchObject({ failed: true, changed: false });
    expect(r.msg).toBe('Failed to apply object: error: resource mapping not found for name: "x": no matches for kind "Widget" in version "example.com/v1"\nensure CRDs are installed first');
  });

  it('wait: polls until the Deployment is ready; fails after wait_timeout when it never is', async () => {
    const dep = (ready: number, rv = '7') => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'demo', generation: 2, resourceVersion: rv },
      spec: { replicas: 2 },
      status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: ready, availableReplicas: ready, ...(ready < 2 ? { unavailableReplicas: 2 - ready } : {}) },
    });
    const def = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'demo' }, spec: { replicas: 2 } };
    const t = new Scripted([
      [/ get -f -/, { stdout: '' }],
      [/ apply -f -/, { stdout: json(dep(0)) }],
      [/@@OBJ0/, (_c, _s, n) => ({ stdout: each(dep(n >= 1 ? 2 : 1)) })],
    ]);
    const r = await run(t, 'k8s', { definition: def, wait: true, wait_sleep: 1, wait_timeout: 30 });
    expect(r).toMatchObject({ changed: true, result: { status: { readyReplicas: 2 } } });
    expect(t.cmds().filter((c) => c.includes('@@OBJ0'))).toHaveLength(2);
    expect(t.cmds()[2]).toContain("kubectl get deployment.v1.apps web -n demo -o json --ignore-not-found");

    const never = new Scripted([
      [/ get -f -/, { stdout: '' }],
      [/ apply -f -/, { stdout: json(dep(0)) }],
      [/@@OBJ0/, { stdout: each(dep(1)) }],
    ]);
    const t0 = Date.now();
    const f = await run(never, 'k8s', { definition: def, wait: true, wait_sleep: 1, wait_timeout: 2 });
    expect(f).toMatchObject({ failed: true, changed: true });
    expect(f.msg).toContain('Resource creation timed out');
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('wait_condition: a named condition with status and reason', async () => {
    const crd = (status: string) => ({
      apiVersion: 'cert-manager.io/v1',
      kind: 'ClusterIssuer',
      metadata: { name: 'ca-issuer', resourceVersion: '3' },
      status: { conditions: [{ type: 'Ready', status, reason: 'KeyPairVerified' }] },
    });
    const t = new Scripted([
      [/ get -f -/, { stdout: '' }],
      [/ apply -f -/, { stdout: json(crd('False')) }],
      [/@@OBJ0/, (_c, _s, n) => ({ stdout: each(crd(n ? 'True' : 'False')) })],
    ]);
    const r = await run(t, 'k8s', { definition: { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: 'ca-issuer' } }, wait: true, wait_sleep: 1, wait_condition: { type: 'Ready', status: 'True', reason: 'KeyPairVerified' } });
    expect(r.failed).toBeUndefined();
    expect(t.cmds()[2]).toContain('kubectl get clusterissuer.v1.cert-manager.io ca-issuer -o json --ignore-not-found');
  });

  it('src: a file found on the controller like Ansible’s files/; template: rendered with the task variables', async () => {
    const base = mkdtempSync(join(TMP, 'k8s-src-'));
    mkdirSync(join(base, 'files'));
    mkdirSync(join(base, 'templates'));
    writeFileSync(join(base, 'files', 'cm.yml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-file}\ndata: {a: "1"}\n');
    writeFileSync(join(base, 'templates', 'cm.yml.j2'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ cm_name }}\ndata:\n  replicas: "{{ n * 2 }}"\n');
    const t = new Scripted([
      [/ get -f -/, { stdout: '' }],
      [/ apply -f -/, (_c, stdin) => ({ stdout: json({ ...(parseYaml(stdin!) as object), metadata: { ...(parseYaml(stdin!) as { metadata: object }).metadata, resourceVersion: '1' } }) })],
    ]);
    await run(t, 'k8s', { src: 'cm.yml', namespace: 'x' }, { baseDir: base });
    expect(parseYaml(t.calls[1]!.stdin!)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-file', namespace: 'x' }, data: { a: '1' } });
    const t2 = new Scripted([
      [/ get -f -/, { stdout: '' }],
      [/ apply -f -/, { stdout: json(cm('rendered', '1')) }],
    ]);
    await run(t2, 'k8s', { template: 'cm.yml.j2' }, { baseDir: base, vars: { cm_name: 'rendered', n: 3 } });
    expect(parseYaml(t2.calls[1]!.stdin!)).toMatchObject({ metadata: { name: 'rendered' }, data: { replicas: '6' } });
    const missing = await run(new Scripted([]), 'k8s', { src: 'nope.yml' }, { baseDir: base });
    expect(missing).toMatchObject({ failed: true });
    expect(missing.msg).toContain("Could not find or access 'nope.yml'");
  });

  it('refuses API credentials it does not use, and force', async () => {
    expect(await run(new Scripted([]), 'k8s', { definition: DEF, api_key: 'tok' })).toMatchObject({ failed: true, msg: expect.stringContaining("'api_key' is not supported") });
    expect(await run(new Scripted([]), 'k8s', { definition: DEF, force: true })).toMatchObject({ failed: true });
  });
});

describe('k8s state=absent', () => {
  it('deleted names printed by kubectl → changed; nothing printed → unchanged; check mode only reads', async () => {
    const del = new Scripted([[/ delete -f - --ignore-not-found -o name --wait=false/, { stdout: 'configmap/app\n' }]]);
    expect(await run(del, 'k8s', { definition: DEF, namespace: 'demo', state: 'absent', kubeconfig: KC })).toMatchObject({ changed: true, deleted: ['configmap/app'] });
    const none = new Scripted([[/ delete -f -/, { stdout: '' }]]);
    expect((await run(none, 'k8s', { definition: DEF, state: 'absent' })).changed).toBe(false);
    const chk = new Scripted([[/ get -f - -o name --ignore-not-found/, { stdout: 'configmap/app\n' }]]);
    expect((await run(chk, 'k8s', { definition: DEF, state: 'absent', kubeconfig: KC }, { check: true })).changed).toBe(true);
    expect(chk.cmds()).toHaveLength(1);
  });

  it('by kind + label selector, waiting for the deletion with a timeout and delete options', async () => {
    const t = new Scripted([[/ delete /, { stdout: 'pod/a\npod/b\n' }]]);
    const r = await run(t, 'k8s', { kind: 'Pod', namespace: 'kube-system', label_selectors: ['k8s-app=registry'], state: 'absent', wait: true, wait_timeout: 60, delete_options: { propagationPolicy: 'Foreground', gracePeriodSeconds: 0 }, kubeconfig: KC });
    expect(r.changed).toBe(true);
    expect(t.cmds()[0]).toBe(`kubectl --kubeconfig=${KC} delete pod -l k8s-app=registry -n kube-system --ignore-not-found -o name --wait=true --timeout=60s --cascade=foreground --grace-period=0`);
  });
});

// ───────────────────────────────────────────── k8s_info ─────────────────────────────────────────────

describe('k8s_info', () => {
  const pod = (name: string, ready: boolean) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'kube-system', labels: { 'k8s-app': 'registry' } },
    status: { phase: ready ? 'Running' : 'Pending', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });

  it('lists with label and field selectors across all namespaces; resources = the items', async () => {
    const t = new Scripted([[/ get /, { stdout: list(pod('registry-0', true), pod('registry-1', false)) }]]);
    const r = await run(t, 'k8s_info', { kind: 'Pod', label_selectors: ['k8s-app=registry', 'tier!=x'], field_selectors: ['status.phase=Running'], kubeconfig: KC });
    expect(r).toMatchObject({ changed: false, api_found: true });
    expect((r.resources as unknown[]).length).toBe(2);
    expect(t.cmds()[0]).toBe(`kubectl --kubeconfig=${KC} get pod --all-namespaces -l 'k8s-app=registry,tier!=x' --field-selector=status.phase=Running -o json --ignore-not-found`);
  });

  it('by name: a missing object is an empty list; an unknown kind is api_found=false', async () => {
    const t = new Scripted([[/ get secret /, { stdout: '' }]]);
    expect(await run(t, 'k8s_info', { kind: 'Secret', api_version: 'v1', name: 'ca-key-pair', namespace: 'cert-manager', kubeconfig: KC })).toMatchObject({ resources: [], api_found: true });
    expect(t.cmds()[0]).toBe(`kubectl --kubeconfig=${KC} get secret ca-key-pair -n cert-manager -o json --ignore-not-found`);
    const u = new Scripted([[/ get /, { rc: 1, stderr: 'error: the server doesn\'t have a resource type "widgets"\n' }]]);
    expect(await run(u, 'k8s_info', { kind: 'Widget', api_version: 'example.com/v1', namespace: 'x' })).toMatchObject({ api_found: false, resources: [] });
    const e = new Scripted([[/ get /, { rc: 1, stderr: 'error: You must be logged in to the server (Unauthorized)\n' }]]);
    expect(await run(e, 'k8s_info', { kind: 'Pod' })).toMatchObject({ failed: true, msg: expect.stringContaining('Unauthorized') });
  });

  it('wait: until the resources exist and are ready', async () => {
    const t = new Scripted([[/ get /, (_c, _s, n) => ({ stdout: n === 0 ? list() : n === 1 ? list(pod('registry-0', false)) : list(pod('registry-0', true)) })]]);
    const r = await run(t, 'k8s_info', { kind: 'Pod', namespace: 'kube-system', label_selectors: ['k8s-app=registry'], wait: true, wait_sleep: 1, wait_timeout: 20 });
    expect(r.failed).toBeUndefined();
    expect(t.cmds()).toHaveLength(3);
  });
});

// ───────────────────────────────────────────── k8s_json_patch ─────────────────────────────────────────────

describe('k8s_json_patch', () => {
  const ds = (rv: string, image: string) => ({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'trident-node-linux', namespace: 'trident', resourceVersion: rv }, spec: { template: { spec: { containers: [{ image }] } } } });
  const patch = [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: '10.0.0.1:6000/netapp/trident:25.06.1' }];

  it('patched → changed by resourceVersion; the patch goes through a private temp file', async () => {
    const t = new Scripted([
      [/@@OBJ0/, { stdout: each(ds('10', 'old')) }],
      [/ patch /, { stdout: json(ds('11', patch[0]!.value)) }],
    ]);
    const r = await run(t, 'k8s_json_patch', { kind: 'DaemonSet', api_version: 'apps/v1', name: 'trident-node-linux', namespace: 'trident', patch, kubeconfig: KC });
    expect(r).toMatchObject({ changed: true, result: { metadata: { resourceVersion: '11' } } });
    const p = t.calls[1]!;
    expect(JSON.parse(p.stdin!)).toEqual(patch);
    expect(p.cmd).toContain(`kubectl --kubeconfig=${KC} patch daemonset.v1.apps trident-node-linux -n trident --type=json --patch-file="$t" -o json`);
    expect(p.cmd).not.toContain('netapp/trident');
    // sh check of the wrapper: the temp file holds exactly the patch
    const out = spawnSync('/bin/sh', ['-c', p.cmd.replace(/kubectl [^\n]*$/, 'cat "$t"')], { input: p.stdin, encoding: 'utf8' });
    expect(JSON.parse(out.stdout)).toEqual(patch);
  });

  it('a no-op patch (same resourceVersion) is unchanged; check mode uses a server dry run; missing object fails', async () => {
    const same = new Scripted([
      [/@@OBJ0/, { stdout: each(ds('10', 'x')) }],
      [/ patch /, { stdout: json(ds('10', 'x')) }],
    ]);
    expect((await run(same, 'k8s_json_patch', { kind: 'DaemonSet', api_version: 'apps/v1', name: 'trident-node-linux', namespace: 'trident', patch })).changed).toBe(false);
    const chk = new Scripted([
      [/@@OBJ0/, { stdout: each(ds('10', 'old')) }],
      [/ patch .*--dry-run=server/, { stdout: json(ds('10', 'new')) }],
    ]);
    expect((await run(chk, 'k8s_json_patch', { kind: 'DaemonSet', api_version: 'apps/v1', name: 'trident-node-linux', namespace: 'trident', patch, kubeconfig: KC }, { check: true })).changed).toBe(true);
    const gone = new Scripted([[/@@OBJ0/, { stdout: each(undefined) }]]);
    expect(await run(gone, 'k8s_json_patch', { kind: 'DaemonSet', api_version: 'apps/v1', name: 'x', namespace: 'trident', patch })).toMatchObject({ failed: true, msg: 'DaemonSet trident/x not found' });
    const bad = new Scripted([
      [/@@OBJ0/, { stdout: each(ds('10', 'old')) }],
      [/ patch /, { rc: 1, stderr: 'The request is invalid: the server rejected our request due to an error in our request\n' }],
    ]);
    expect(await run(bad, 'k8s_json_patch', { kind: 'DaemonSet', api_version: 'apps/v1', name: 'trident-node-linux', namespace: 'trident', patch: [{ op: 'test', path: '/x', value: 1 }] })).toMatchObject({ failed: true });
  });
});

describe('readiness predicates', () => {
  it('per kind, as kubernetes.core judges them', () => {
    expect(isReady({ kind: 'DaemonSet', metadata: { generation: 1 }, status: { observedGeneration: 1, desiredNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3 } })).toBe(true);
    expect(isReady({ kind: 'DaemonSet', metadata: { generation: 2 }, status: { observedGeneration: 1, desiredNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3 } })).toBe(false);
    expect(isReady({ kind: 'StatefulSet', spec: { replicas: 3 }, status: { replicas: 3, readyReplicas: 2, currentRevision: 'a', updateRevision: 'a' } })).toBe(false);
    expect(isReady({ kind: 'Pod', status: { phase: 'Succeeded' } })).toBe(true);
    expect(isReady({ kind: 'PersistentVolumeClaim', status: { phase: 'Pending' } })).toBe(false);
    expect(isReady({ kind: 'ConfigMap' })).toBe(true);
    expect(isReady({ kind: 'Job', status: { conditions: [{ type: 'Complete', status: 'True' }] } })).toBe(true);
  });
});

// ───────────────────────────────────────────── helm ─────────────────────────────────────────────

describe('helm', () => {
  const LIST_DEPLOYED = json([{ name: 'keystone', namespace: 'openstack', revision: '3', updated: '2025-01-01 10:00:00.1 +0000 UTC', status: 'deployed', chart: 'keystone-0.3.17', app_version: 'v1.0.0' }]);
  const SHOW = 'apiVersion: v1\nappVersion: v1.0.0\ndescription: OpenStack-Helm Keystone\nname: keystone\nversion: 0.3.17\n';
  const VALUES = { pod: { replicas: { api: 3 } }, endpoints: { identity: { auth: { admin: { password: 'Adm1n-S3cret' } } } } };
  const upgradeOut = (rev: number) => json({ name: 'keystone', namespace: 'openstack', version: rev, info: { status: 'deployed' }, chart: { metadata: { name: 'keystone', version: '0.3.17' } }, config: VALUES });

  it('not installed → helm upgrade --install with values in a temp file (the secret never in a command line)', async () => {
    const t = new Scripted([
      [/ list /, (_c, _s, n) => ({ stdout: n === 0 ? '[]' : LIST_DEPLOYED.replace('"3"', '"1"') })],
      [/ upgrade /, { stdout: upgradeOut(1) }],
    ]);
    const r = await run(t, 'helm', { name: 'keystone', chart_ref: '/home/clex/openstack-helm/keystone', release_namespace: 'openstack', values: VALUES, create_namespace: true, timeout: '10m', kubeconfig: KC });
    expect(r).toMatchObject({ changed: true, status: { revision: '1', status: 'deployed', chart: 'keystone-0.3.17', values: VALUES } });
    expect(t.cmds()[0]).toBe(`helm --kubeconfig=${KC} list --namespace=openstack --all '--filter=^keystone$' -o json`);
    const up = t.calls[1]!;
    expect(up.cmd).toContain(`helm --kubeconfig=${KC} upgrade keystone /home/clex/openstack-helm/keystone --install --namespace=openstack -o json --create-namespace --values="$t" --timeout=10m --reset-values`);
    expect(JSON.parse(up.stdin!)).toEqual(VALUES);
    for (const c of t.cmds()) expect(c).not.toContain('Adm1n-S3cret');
    expect(String(r.command)).toContain('--values=<release_values>');
  });

  it('installed with the same chart and values → no upgrade (helm would bump the revision for nothing)', async () => {
    const t = new Scripted([
      [/ list /, { stdout: LIST_DEPLOYED }],
      [/ plugin list/, { stdout: 'NAME\tVERSION\tDESCRIPTION\n' }],
      [/ show chart /, { stdout: SHOW }],
      [/ get values /, { stdout: JSON.stringify({ endpoints: { identity: { auth: { admin: { password: 'Adm1n-S3cret' } } } }, pod: { replicas: { api: 3 } } }) }],
    ]);
    const r = await run(t, 'helm', { name: 'keystone', chart_ref: './keystone', release_namespace: 'openstack', values: VALUES });
    expect(r).toMatchObject({ changed: false, status: { revision: '3' } });
    expect(t.cmds().some((c) => / upgrade /.test(c))).toBe(false);
  });

  it('values files on the host are merged under `values`; a difference upgrades and the new revision says changed', async () => {
    const t = new Scripted([
      [/ list /, (_c, _s, n) => ({ stdout: n === 0 ? LIST_DEPLOYED : LIST_DEPLOYED.replace('"3"', '"4"') })],
      [/ plugin list/, { rc: 0, stdout: '' }],
      [/ show chart /, { stdout: SHOW }],
      [/ get values /, { stdout: JSON.stringify({ pod: { replicas: { api: 3 } }, conf: { a: 1 } }) }],
      [/@@VALUES/, { stdout: "\n@@VALUES\nconf:\n  a: 1\n  b: 2\n" }],
      [/ upgrade /, { stdout: upgradeOut(4) }],
    ]);
    const r = await run(t, 'helm', { name: 'keystone', chart_ref: './keystone', release_namespace: 'openstack', values: { pod: { replicas: { api: 3 } } }, values_files: ['/root/openstack-artifacts/keystone.yml'], wait: true });
    expect(r).toMatchObject({ changed: true, reason: 'values differ', status: { revision: '4' } });
    const up = t.cmds().find((c) => / upgrade /.test(c))!;
    expect(up).toContain("--values=/root/openstack-artifacts/keystone.yml --values=\"$t\" --wait");
  });

  it('a new chart version, a failed release, helm-diff verdicts, check mode', async () => {
    const chartBump = new Scripted([
      [/ list /, { stdout: LIST_DEPLOYED }],
      [/ plugin list/, { stdout: '' }],
      [/ show chart /, { stdout: SHOW.replace('0.3.17', '0.3.18') }],
    ]);
    expect(await run(chartBump, 'helm', { name: 'keystone', chart_ref: './keystone', release_namespace: 'openstack' }, { check: true })).toMatchObject({ changed: true, reason: 'chart keystone-0.3.17 → keystone-0.3.18' });
    expect(chartBump.cmds().some((c) => / upgrade /.test(c))).toBe(false);

    const failedRel = new Scripted([[/ list /, { stdout: LIST_DEPLOYED.replace('deployed', 'failed') }]]);
    expect(await run(failedRel, 'helm', { name: 'keystone', chart_ref: './keystone', release_namespace: 'openstack' }, { check: true })).toMatchObject({ changed: true, reason: 'release status is failed' });

    for (const [rc, changed] of [
      [0, false],
      [2, true],
    ] as const) {
      const t = new Scripted([
        [/ list /, { stdout: LIST_DEPLOYED }],
        [/ plugin list/, { stdout: 'NAME\tVERSION\tDESCRIPTION\ndiff\t3.9.4\tPreview helm upgrade changes as a diff\n' }],
        [/ diff upgrade /, { rc, stdout: rc ? 'openstack, keystone-api, Deployment (apps) has changed:' : '' }],
      ]);
      const r = await run(t, 'helm', { name: 'keystone', chart_ref: './keystone', release_namespace: 'openstack', values: { a: 1 } }, { check: true });
      expect(r.changed).toBe(changed);
      const d = t.cmds().find((c) => / diff upgrade /.test(c))!;
      expect(d).toContain('--allow-unreleased --detailed-exitcode --no-color');
      expect(d).not.toContain('--install');
    }
  });

  it('absent: uninstall only an existing release; helm missing is a clear failure', async () => {
    const t = new Scripted([
      [/ list /, { stdout: LIST_DEPLOYED }],
      [/ uninstall /, { stdout: 'release "keystone" uninstalled\n' }],
    ]);
    expect(await run(t, 'helm', { name: 'keystone', release_namespace: 'openstack', state: 'absent', wait: true })).toMatchObject({ changed: true });
    expect(t.cmds()[1]).toBe('helm uninstall keystone --namespace=openstack --wait');
    const none = new Scripted([[/ list /, { stdout: '[]' }]]);
    expect(await run(none, 'helm', { name: 'keystone', release_namespace: 'openstack', state: 'absent' })).toMatchObject({ changed: false });
    const nohelm = new Scripted([[/ list /, { rc: 127, stderr: 'sh: 1: helm: not found\n' }]]);
    expect(await run(nohelm, 'helm', { name: 'keystone', release_namespace: 'openstack', chart_ref: 'x' })).toMatchObject({ failed: true, msg: 'helm is not installed on deployer (binary_path: helm)' });
  });
});

// ───────────────────────────────────────────── lvg ─────────────────────────────────────────────

describe('lvg', () => {
  const state = (vgs: string, pvs: string): Partial<ExecResult> => ({ stdout: `${vgs}@@PVS\n${pvs}` });

  it('creates PVs and the VG when missing; unchanged when it matches; extends and reduces', async () => {
    const create = new Scripted([
      [/vgs --noheadings/, state('', '  /dev/sdc|\n')],
      [/readlink -f/, { stdout: '/dev/sdb\n/dev/sdc\n' }],
      [/^pvcreate|^vgcreate/, {}],
    ]);
    expect(await run(create, 'lvg', { vg: 'cinder-volume', pvs: '/dev/sdb,/dev/sdc', pesize: '32' })).toMatchObject({ changed: true });
    expect(create.cmds().slice(2)).toEqual(['pvcreate -f /dev/sdb', 'vgcreate -s 32 cinder-volume /dev/sdb /dev/sdc']);

    const same = new Scripted([
      [/vgs --noheadings/, state('  cinder-volume|0\n', '  /dev/sdb|cinder-volume\n  /dev/sdc|cinder-volume\n')],
      [/readlink -f/, { stdout: '/dev/sdb\n/dev/sdc\n' }],
    ]);
    expect(await run(same, 'lvg', { vg: 'cinder-volume', pvs: ['/dev/sdb', '/dev/sdc'] })).toMatchObject({ changed: false });

    const change = new Scripted([
      [/vgs --noheadings/, state('  cinder-volume|2\n', '  /dev/sdb|cinder-volume\n  /dev/sdc|cinder-volume\n')],
      [/readlink -f/, { stdout: '/dev/sdb\n/dev/sdd\n' }],
      [/^pvcreate|^vgextend|^vgreduce/, {}],
    ]);
    expect(await run(change, 'lvg', { vg: 'cinder-volume', pvs: ['/dev/disk/by-id/x', '/dev/sdd'] })).toMatchObject({ changed: true });
    expect(change.cmds().slice(2)).toEqual(['pvcreate -f /dev/sdd', 'vgextend cinder-volume /dev/sdd', 'vgreduce --force cinder-volume /dev/sdc']);
  });

  it('absent refuses a VG with logical volumes unless forced; missing devices and a PV of another VG fail', async () => {
    const busy = new Scripted([[/vgs --noheadings/, state('  vg0|3\n', '')]]);
    expect(await run(busy, 'lvg', { vg: 'vg0', state: 'absent' })).toMatchObject({ failed: true, msg: 'Refuse to remove non-empty volume group vg0 without force=true' });
    const forced = new Scripted([
      [/vgs --noheadings/, state('  vg0|3\n', '')],
      [/^vgremove/, {}],
    ]);
    expect(await run(forced, 'lvg', { vg: 'vg0', state: 'absent', force: true })).toMatchObject({ changed: true });
    expect(forced.cmds()[1]).toBe('vgremove --force vg0');
    const missing = new Scripted([
      [/vgs --noheadings/, state('', '')],
      [/readlink -f/, { stdout: '@@MISSING /dev/nvme9n1\n' }],
    ]);
    expect(await run(missing, 'lvg', { vg: 'vg1', pvs: ['/dev/nvme9n1'] })).toMatchObject({ failed: true, msg: 'Device /dev/nvme9n1 not found.' });
    const other = new Scripted([
      [/vgs --noheadings/, state('  vgx|0\n', '  /dev/sdb|vgx\n')],
      [/readlink -f/, { stdout: '/dev/sdb\n' }],
    ]);
    expect(await run(other, 'lvg', { vg: 'vg1', pvs: ['/dev/sdb'] })).toMatchObject({ failed: true, msg: 'Device /dev/sdb is already in vgx volume group.' });
    const nolvm = new Scripted([[/vgs --noheadings/, { rc: 90, stderr: 'lvg needs the lvm2 tools (vgs, pvs, vgcreate) on the target\n' }]]);
    expect(await run(nolvm, 'lvg', { vg: 'vg1', pvs: ['/dev/sdb'] })).toMatchObject({ failed: true, msg: expect.stringContaining('lvm2') });
  });
});

// ───────────────────────────────────────────── the real kubectl ─────────────────────────────────────────────

const KUBECTL = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim();

describe('the command lines against the real kubectl (no cluster: it must fail only at connecting)', () => {
  it.skipIf(!KUBECTL || !existsSync(KUBECTL))('every kubectl line built above is accepted by kubectl', () => {
    const lines = kubectlLines.filter((c) => c.cmd.includes(`--kubeconfig=${KC}`));
    expect(lines.length).toBeGreaterThanOrEqual(12);
    const seen = new Set<string>();
    for (const l of lines) {
      if (seen.has(l.cmd)) continue;
      seen.add(l.cmd);
      const r = spawnSync('/bin/sh', ['-c', l.cmd], { input: l.stdin ?? '', encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() } });
      const out = `${r.stdout}\n${r.stderr}`;
      expect(out, l.cmd).not.toMatch(/unknown (flag|shorthand flag|command)|invalid argument|flag needs an argument|unable to read patch file|error: required flag|must specify one of|Usage:/);
      expect(out, l.cmd).toMatch(/127\.0\.0\.1:1.*(connection refused|connect: connection refused)|connection to the server 127\.0\.0\.1:1 was refused/);
    }
  }, 120_000);
});
