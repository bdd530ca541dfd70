/**
 * What the cluster modules (k8s, k8s_info, k8s_json_patch; helm uses the connection part) share: the
 * `kubectl` command line for the connection arguments, resource names from kind + apiVersion, object keys,
 * manifests from `definition` / `src` / `template`, readiness predicates and the polling wait.
 *
 * kubectl runs on the task's (usually delegated) host through the transport; manifests and patches go on
 * stdin, never in the command line. The connection is the kubeconfig (`kubeconfig`, `context`,
 * `validate_certs`); direct API credentials (`host`, `api_key`, …) are refused with a clear message.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import type { ModuleContext } from '../types.js';
import { argvLine, boundedTimeout, Fail, ModuleArgError, sh, shq, sleep, type Args, type ArgSpec } from './common.js';
import type { ExecResult } from '../../transport/types.js';

export type KObj = Record<string, unknown> & { apiVersion?: string; kind?: string; metadata?: Record<string, unknown> };

export const KUBE_CONN_SPEC: ArgSpec = {
  kubeconfig: { type: 'raw', aliases: ['kubeconfig_path'] },
  context: { type: 'str' },
  validate_certs: { type: 'bool', aliases: ['verify_ssl'] },
  // refused with a message (the runner drives kubectl with a kubeconfig)
  host: { type: 'str' },
  api_key: { type: 'str' },
  username: { type: 'str' },
  password: { type: 'str' },
  ca_cert: { type: 'path' },
  client_cert: { type: 'path' },
  client_key: { type: 'path' },
  proxy: { type: 'str' },
  persist_config: { type: 'bool' },
  impersonate_user: { type: 'str' },
  impersonate_groups: { type: 'list' },
};

export const WAIT_SPEC: ArgSpec = {
  wait: { type: 'bool', default: false },
  wait_sleep: { type: 'int', default: 5 },
  wait_timeout: { type: 'int', default: 120 },
  wait_condition: { type: 'dict' },
};

/** `kubectl` plus the connection flags. */
export function kubectlBase(a: Args): string[] {
  for (const k of ['host', 'api_key', 'username', 'password', 'ca_cert', 'client_cert', 'client_key', 'proxy']) {
    if (a.has(k)) throw new ModuleArgError(`'${k}' is not supported: this runner drives kubectl with a kubeconfig (set kubeconfig/context)`);
  }
  const argv = ['kubectl'];
  const kc = a.raw('kubeconfig');
  if (kc !== undefined && kc !== null && kc !== '') {
    if (typeof kc !== 'string') throw new ModuleArgError('kubeconfig must be a path on the host that runs kubectl (a dict is not supported)');
    argv.push(`--kubeconfig=${kc}`);
  }
  const ctxName = a.str('context');
  if (ctxName) argv.push(`--context=${ctxName}`);
  if (a.optBool('validate_certs') === false) argv.push('--insecure-skip-tls-verify=true');
  const iu = a.str('impersonate_user');
  if (iu) argv.push(`--as=${iu}`);
  for (const g of a.list('impersonate_groups') ?? []) argv.push(`--as-group=${g}`);
  return argv;
}

/** kubectl's name for a kind in an API group/version: `deployment.v1.apps`, `configmap` (core). */
export function resourceArg(kind: string, apiVersion?: string): string {
  const k = kind.toLowerCase();
  if (!apiVersion || !apiVersion.includes('/')) return k;
  const [group, version] = apiVersion.split('/') as [string, string];
  return `${k}.${version}.${group}`;
}

export function meta(o: KObj): Record<string, unknown> {
  return (o.metadata ?? {}) as Record<string, unknown>;
}

/** Identity of an object (kind, namespace, name), the same for what we send and what the server returns. */
export function objKey(o: KObj): string {
  const m = meta(o);
  const group = String(o.apiVersion ?? '').includes('/') ? String(o.apiVersion).split('/')[0] : '';
  return `${group}/${String(o.kind ?? '').toLowerCase()}/${String(m.namespace ?? '')}/${String(m.name ?? '')}`;
}

/** The objects in `kubectl … -o json` output: a List's items, one object, or none (empty output). */
export function objectsOf(stdout: string): KObj[] {
  const t = stdout.trim();
  if (!t) return [];
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    throw new Fail(`kubectl printed something that is not JSON: ${t.slice(0, 200)}`);
  }
  if (v && typeof v === 'object' && Array.isArray((v as { items?: unknown }).items) && String((v as KObj).kind ?? '').endsWith('List')) {
    return (v as { items: KObj[] }).items;
  }
  return v && typeof v === 'object' ? [v as KObj] : [];
}

/** Flatten documents: drop empty ones, expand `kind: *List` with items. */
function flatten(docs: unknown[]): KObj[] {
  const out: KObj[] = [];
  for (const d of docs) {
    if (d === null || d === undefined) continue;
    if (Array.isArray(d)) {
      out.push(...flatten(d));
      continue;
    }
    if (typeof d !== 'object') throw new Fail(`a resource definition must be a mapping, got ${JSON.stringify(d).slice(0, 80)}`);
    const o = d as KObj;
    if (String(o.kind ?? '').endsWith('List') && Array.isArray(o.items)) out.push(...flatten(o.items as unknown[]));
    else out.push(o);
  }
  return out;
}

export function parseYamlDocs(text: string, where: string): unknown[] {
  const docs = parseAllDocuments(text);
  const out: unknown[] = [];
  for (const d of Array.isArray(docs) ? docs : [docs]) {
    if (d.errors.length) throw new Fail(`${where}: invalid YAML: ${d.errors[0]!.message.split('\n')[0]}`);
    out.push(d.toJS());
  }
  return out;
}

/**
 * The manifests of a k8s task: `definition` (mapping, list, or YAML text), `src` (a file on the controller,
 * looked up like Ansible's `files/`), `template` (rendered with the task's variables); `kind`/`name`/
 * `namespace`/`api_version` fill in what the documents leave out, or make a minimal object by themselves.
 */
export function loadDefinitions(a: Args, ctx: ModuleContext): KObj[] {
  let docs: KObj[] = [];
  const def = a.raw('definition');
  const src = a.str('src');
  const tpl = a.raw('template');
  const given = [def !== undefined && def !== null, !!src, tpl !== undefined && tpl !== null].filter(Boolean).length;
  if (given > 1) throw new ModuleArgError('parameters are mutually exclusive: definition|src|template');
  if (def !== undefined && def !== null) {
    // a copy: filling in namespace/name must not change the task's own argument
    docs = flatten(typeof def === 'string' ? parseYamlDocs(def, 'definition') : [structuredClone(def)]);
  } else if (src) {
    const p = ctx.findFile('files', src);
    if (!p) throw new Fail(`Could not find or access '${src}' on the Ansible controller (looked in files/ and the playbook directory)`);
    docs = flatten(parseYamlDocs(readFileSync(p, 'utf8'), p));
  } else if (tpl !== undefined && tpl !== null) {
    const name = typeof tpl === 'string' ? tpl : String((tpl as Record<string, unknown>).path ?? '');
    const p = ctx.findFile('templates', name);
    if (!p) throw new Fail(`Could not find or access template '${name}' on the Ansible controller`);
    docs = flatten(parseYamlDocs(ctx.renderTemplate(readFileSync(p, 'utf8'), p), p));
  }
  const kind = a.str('kind');
  const name = a.str('name');
  const ns = a.str('namespace');
  const apiVersion = a.str('api_version');
  if (!docs.length) {
    if (!kind || !name) return [];
    docs = [{ apiVersion: apiVersion ?? 'v1', kind, metadata: { name } }];
  }
  for (const d of docs) {
    if (!d.kind && kind) d.kind = kind;
    if (!d.apiVersion && apiVersion) d.apiVersion = apiVersion;
    const m = (d.metadata ??= {}) as Record<string, unknown>;
    if (!m.name && name && docs.length === 1) m.name = name;
    if (ns && !m.namespace) m.namespace = ns;
    if (!d.kind || !d.apiVersion) throw new Fail(`a resource definition needs apiVersion and kind (got ${JSON.stringify(d).slice(0, 120)})`);
    if (!m.name && !m.generateName) throw new Fail(`the ${String(d.kind)} definition has no metadata.name`);
  }
  return docs;
}

/** Multi-document YAML for kubectl's stdin. */
export function manifest(docs: readonly KObj[]): string {
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}

/** Run kubectl (argv after `kubectl` and the connection flags) on the task's host. */
export function kubectl(ctx: ModuleContext, base: readonly string[], argv: readonly string[], opts: { stdin?: string; timeout?: number } = {}): Promise<ExecResult> {
  const o: { stdin?: string; timeout?: number; env: Record<string, string> } = { env: { LC_ALL: 'C' } };
  if (opts.stdin !== undefined) o.stdin = opts.stdin;
  if (opts.timeout !== undefined) o.timeout = opts.timeout;
  return sh(ctx, argvLine([...base, ...argv]), o);
}

/**
 * Run kubectl with `content` in a private temp file on the host (for flags that want a file path, e.g.
 * `--patch-file`): the argument `@FILE@` in argv is replaced by the file's path. Nothing of the content
 * reaches a command line.
 */
export function kubectlWithFile(ctx: ModuleContext, base: readonly string[], argv: readonly string[], content: string, timeout?: number): Promise<ExecResult> {
  // rebuild each @FILE@ word as: '<prefix>'"$t"'<suffix>'
  const line = [...base, ...argv]
    .map((w) => {
      if (!w.includes('@FILE@')) return shq(w);
      return w
        .split('@FILE@')
        .map((part) => (part ? shq(part) : ''))
        .join('"$t"');
    })
    .join(' ');
  const script = `t=$(mktemp) || exit 90\ntrap 'rm -f "$t"' EXIT\ncat > "$t" || exit 91\n${line}`;
  const o: { stdin: string; timeout?: number; env: Record<string, string> } = { stdin: content, env: { LC_ALL: 'C' } };
  if (timeout !== undefined) o.timeout = timeout;
  return sh(ctx, script, o);
}

export function kubeError(r: ExecResult): string {
  const lines = r.stderr.trim().split('\n').filter((l) => !/^Warning: /.test(l));
  return (lines.join('\n') || r.stdout.trim() || `kubectl exit code ${r.rc}`).slice(0, 2000);
}

// ───────────────────────────────────────────── readiness and waiting ─────────────────────────────────────────────

export interface WaitCondition {
  type: string;
  status: string;
  reason?: string;
}

export function waitCondition(a: Args): WaitCondition | undefined {
  const c = a.dict('wait_condition');
  if (!c) return undefined;
  if (!c.type) throw new ModuleArgError('wait_condition needs a type');
  const w: WaitCondition = { type: String(c.type), status: c.status === undefined ? 'True' : String(c.status) };
  if (c.status === true) w.status = 'True';
  if (c.status === false) w.status = 'False';
  if (c.reason !== undefined) w.reason = String(c.reason);
  return w;
}

function num(v: unknown, d = 0): number {
  return typeof v === 'number' ? v : v === undefined || v === null ? d : Number(v) || d;
}

/** Is this object ready? With a condition: that condition; else the kind's own notion (as kubernetes.core). */
export function isReady(o: KObj, cond?: WaitCondition): boolean {
  const status = (o.status ?? {}) as Record<string, unknown>;
  if (cond) {
    const cs = (status.conditions ?? []) as Record<string, unknown>[];
    const c = cs.find((x) => x.type === cond.type);
    if (!c) return false;
    return String(c.status) === cond.status && (cond.reason === undefined || c.reason === cond.reason);
  }
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  const m = meta(o);
  const generationOk = status.observedGeneration === undefined || num(status.observedGeneration) >= num(m.generation);
  switch (o.kind) {
    case 'Deployment': {
      const want = num(spec.replicas, 1);
      return generationOk && num(status.replicas) === want && num(status.updatedReplicas) === want && num(status.availableReplicas) === want && !num(status.unavailableReplicas);
    }
    case 'StatefulSet': {
      const want = num(spec.replicas, 1);
      return generationOk && num(status.readyReplicas) === want && num(status.replicas) === want && (status.updateRevision === undefined || status.updateRevision === status.currentRevision);
    }
    case 'DaemonSet': {
      const want = num(status.desiredNumberScheduled);
      return generationOk && num(status.numberReady) >= want && num(status.updatedNumberScheduled, want) >= want;
    }
    case 'Pod': {
      if (status.phase === 'Succeeded') return true;
      const cs = (status.conditions ?? []) as Record<string, unknown>[];
      return status.phase === 'Running' && cs.some((c) => c.type === 'Ready' && c.status === 'True');
    }
    case 'Job':
      return ((status.conditions ?? []) as Record<string, unknown>[]).some((c) => c.type === 'Complete' && c.status === 'True');
    case 'PersistentVolumeClaim':
      return status.phase === 'Bound';
    case 'CustomResourceDefinition':
      return ((status.conditions ?? []) as Record<string, unknown>[]).some((c) => c.type === 'Established' && c.status === 'True');
    case 'Namespace':
      return status.phase === undefined || status.phase === 'Active';
    default:
      return true;
  }
}

/** One round trip: `kubectl get` for each reference → the object, undefined (not found), or an error text. */
export async function getEach(
  ctx: ModuleContext,
  base: readonly string[],
  refs: readonly { resource: string; name: string; namespace?: string }[],
  timeout?: number,
): Promise<{ objects: (KObj | undefined)[]; errors: (string | undefined)[] }> {
  const script = refs
    .map((r, i) => {
      const argv = [...base, 'get', r.resource, r.name, ...(r.namespace ? ['-n', r.namespace] : []), '-o', 'json', '--ignore-not-found'];
      // stdout (the JSON) straight through fd 3, stderr captured: warnings never mix with the JSON
      return `printf '\\n@@OBJ${i}\\n'; { e=$( { ${argvLine(argv)}; } 2>&1 >&3 3>&- ) || printf '\\n@@ERR${i}\\n%s\\n' "$e"; } 3>&1`;
    })
    .join('\n');
  const r = await sh(ctx, script, { env: { LC_ALL: 'C' }, ...(timeout ? { timeout } : {}) });
  const objects: (KObj | undefined)[] = [];
  const errors: (string | undefined)[] = [];
  const parts = r.stdout.split(/\n@@OBJ\d+\n/).slice(1);
  for (let i = 0; i < refs.length; i++) {
    const p = parts[i] ?? '';
    const e = p.indexOf(`\n@@ERR${i}`);
    if (e >= 0) {
      objects.push(undefined);
      errors.push(p.slice(e + `\n@@ERR${i}\n`.length).trim().split('\n').filter((l) => !/^Warning: /.test(l)).join('\n') || 'kubectl get failed');
      continue;
    }
    objects.push(objectsOf(p)[0]);
    errors.push(undefined);
  }
  return { objects, errors };
}

export function refOf(o: KObj): { resource: string; name: string; namespace?: string } {
  const m = meta(o);
  const ref: { resource: string; name: string; namespace?: string } = { resource: resourceArg(String(o.kind), o.apiVersion), name: String(m.name) };
  if (m.namespace) ref.namespace = String(m.namespace);
  return ref;
}

/**
 * Poll until every object is ready (present) or gone (absent), `sleepSec` apart, at most `timeoutSec`.
 * Returns the last objects seen and whether the wait succeeded.
 */
export async function waitObjects(
  ctx: ModuleContext,
  base: readonly string[],
  objs: readonly KObj[],
  opts: { state: 'present' | 'absent'; cond?: WaitCondition; timeoutSec: number; sleepSec: number },
): Promise<{ ok: boolean; objects: (KObj | undefined)[]; elapsed: number; error?: string }> {
  const t0 = Date.now();
  const deadline = t0 + opts.timeoutSec * 1000;
  const refs = objs.map(refOf);
  let last: (KObj | undefined)[] = [...objs];
  let lastError: string | undefined;
  for (let i = 0; i < 100_000; i++) {
    const got = await getEach(ctx, base, refs, boundedTimeout(ctx, 30));
    last = got.objects;
    lastError = got.errors.find((e) => e !== undefined);
    const ok = !lastError && (opts.state === 'absent' ? last.every((o) => o === undefined) : last.every((o) => o !== undefined && isReady(o, opts.cond)));
    if (ok) return { ok: true, objects: last, elapsed: (Date.now() - t0) / 1000 };
    if (Date.now() + opts.sleepSec * 1000 > deadline) break;
    if (!(await sleep(opts.sleepSec * 1000, ctx.signal))) break;
  }
  const res: { ok: boolean; objects: (KObj | undefined)[]; elapsed: number; error?: string } = { ok: false, objects: last, elapsed: (Date.now() - t0) / 1000 };
  if (lastError) res.error = lastError;
  return res;
}

/** Strip server-managed fields, for comparing a server dry-run with the stored object. */
export function comparable(o: KObj | undefined): unknown {
  if (!o) return undefined;
  const c = JSON.parse(JSON.stringify(o)) as KObj;
  const m = (c.metadata ?? {}) as Record<string, unknown>;
  for (const k of ['resourceVersion', 'managedFields', 'generation', 'creationTimestamp', 'uid', 'selfLink']) delete m[k];
  return c;
}
