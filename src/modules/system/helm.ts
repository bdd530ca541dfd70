/**
 * `helm` (kubernetes.core.helm): install, upgrade or uninstall a Helm 3 release with the `helm` CLI on the
 * task's (usually delegated) host.
 *
 * present: `helm upgrade <name> <chart> --install -o json`, values passed as a private temp file (never in
 * the command line). `changed` is honest without running an upgrade that would only bump the revision:
 *  - the release is read first (`helm list --all --filter ^name$ -o json`): missing or not `deployed` → act;
 *  - with the helm-diff plugin installed: `helm diff upgrade --detailed-exitcode` (2 = changes);
 *  - otherwise the chart (`helm show chart` name-version vs the release's chart) and the user values
 *    (`helm get values -o json` vs `values_files` read on the host, merged, then `values`) are compared —
 *    kubernetes.core's comparison; `set_values` cannot be compared and always upgrades;
 *  - after an upgrade the revision from helm's JSON output is compared with the one before.
 * absent: `helm uninstall` when the release exists. Check mode plans only.
 * Result: `status` (name, namespace, revision, status, chart, app_version, updated, values), `command`.
 */
import { parse as parseYaml } from 'yaml';
import type { ModuleContext } from '../types.js';
import { argvLine, boundedTimeout, defineModule, Fail, ModuleArgError, sh, shq, tail, type Args } from './common.js';

export interface HelmRelease {
  name: string;
  namespace: string;
  revision: string;
  updated?: string;
  status: string;
  chart: string;
  app_version?: string;
}

/** `helm list -o json` → the release named `name`, if any. */
export function parseHelmList(stdout: string, name: string): HelmRelease | undefined {
  const t = stdout.trim();
  if (!t) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    throw new Fail(`helm list printed something that is not JSON: ${t.slice(0, 200)}`);
  }
  if (!Array.isArray(v)) return undefined;
  const r = (v as Record<string, unknown>[]).find((x) => x.name === name);
  if (!r) return undefined;
  return {
    name: String(r.name),
    namespace: String(r.namespace ?? ''),
    revision: String(r.revision ?? ''),
    updated: r.updated === undefined ? undefined : String(r.updated),
    status: String(r.status ?? ''),
    chart: String(r.chart ?? ''),
    app_version: r.app_version === undefined ? undefined : String(r.app_version),
  };
}

/** Deep merge of Helm values (maps merge, everything else replaces), as `-f a -f b` does. */
export function mergeValues(base: unknown, over: unknown): unknown {
  if (over && typeof over === 'object' && !Array.isArray(over) && base && typeof base === 'object' && !Array.isArray(base)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = k in out ? mergeValues(out[k], v) : v;
    return out;
  }
  return over === undefined ? base : over;
}

/** Order-insensitive deep equality for JSON-like values (null and {} count as the same "no values"). */
export function sameValues(a: unknown, b: unknown): boolean {
  const norm = (x: unknown): unknown => {
    if (x === null || x === undefined) return {};
    if (Array.isArray(x)) return x.map(norm);
    if (typeof x === 'object') {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(x as object).sort()) o[k] = norm((x as Record<string, unknown>)[k]);
      return o;
    }
    return x;
  };
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

/** `--timeout` as Helm wants a duration: "600" / 600 → "600s", "10m" kept. */
export function helmDuration(v: string): string {
  return /^\d+$/.test(v.trim()) ? `${v.trim()}s` : v.trim();
}

function helmConn(a: Args): string[] {
  for (const k of ['host', 'api_key', 'ca_cert']) if (a.has(k)) throw new ModuleArgError(`'${k}' is not supported: this runner drives helm with a kubeconfig (set kubeconfig/context)`);
  const out: string[] = [];
  const kc = a.str('kubeconfig');
  if (kc) out.push(`--kubeconfig=${kc}`);
  const c = a.str('context');
  if (c) out.push(`--kube-context=${c}`);
  if (a.optBool('validate_certs') === false) out.push('--kube-insecure-skip-tls-verify');
  return out;
}

/** The `helm upgrade --install` argv (values files: the user's, then `@VALUES@` = our temp file). */
export function upgradeArgv(a: Args, release: string, ns: string, chart: string, withValuesFile: boolean): string[] {
  const argv = ['upgrade', release, chart, '--install', `--namespace=${ns}`, '-o', 'json'];
  if (a.bool('create_namespace')) argv.push('--create-namespace');
  const v = a.str('chart_version');
  if (v) argv.push(`--version=${v}`);
  const repo = a.str('chart_repo_url');
  if (repo) argv.push(`--repo=${repo}`);
  for (const f of a.list('values_files') ?? []) argv.push(`--values=${f}`);
  if (withValuesFile) argv.push('--values=@VALUES@');
  for (const sv of a.dictList('set_values') ?? []) {
    const type = String(sv.value_type ?? 'raw');
    const flag = type === 'string' ? '--set-string' : type === 'json' ? '--set-json' : type === 'file' ? '--set-file' : '--set';
    argv.push(`${flag}=${String(sv.value)}`);
  }
  if (a.bool('wait')) argv.push('--wait');
  const t = a.str('timeout');
  if (t) argv.push(`--timeout=${helmDuration(t)}`);
  if (a.bool('atomic')) argv.push('--atomic');
  if (a.bool('skip_crds')) argv.push('--skip-crds');
  if (a.bool('force')) argv.push('--force');
  if (a.bool('disable_hook')) argv.push('--no-hooks');
  if (a.bool('dependency_update')) argv.push('--dependency-update');
  if (a.optBool('reuse_values')) argv.push('--reuse-values');
  else if (a.bool('reset_values')) argv.push('--reset-values');
  const hm = a.int('history_max');
  if (hm !== undefined) argv.push(`--history-max=${hm}`);
  if (a.str('post_renderer')) argv.push(`--post-renderer=${a.str('post_renderer')}`);
  return argv;
}

/** One sh line for argv where the word `--values=@VALUES@` points at a temp file filled from stdin. */
function withValues(helm: string, argv: readonly string[], hasValues: boolean): string {
  const line = [shq(helm), ...argv.map((w) => (w === '--values=@VALUES@' ? '--values="$t"' : shq(w)))].join(' ');
  if (!hasValues) return line;
  return `t=$(mktemp) || exit 90\ntrap 'rm -f "$t"' EXIT\ncat > "$t" || exit 91\n${line}`;
}

function durationSeconds(v: string | undefined, dflt: number): number {
  if (!v) return dflt;
  if (/^\d+$/.test(v)) return Number(v);
  let s = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(h|m|s|ms)/g)) s += Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : m[2] === 's' ? 1 : 0.001);
  return s || dflt;
}

async function helm(ctx: ModuleContext, bin: string, argv: readonly string[], opts: { timeout: number; stdin?: string; valuesFile?: boolean } = { timeout: 120 }) {
  const o: { timeout: number; env: Record<string, string>; stdin?: string } = { timeout: opts.timeout, env: { LC_ALL: 'C' } };
  if (opts.stdin !== undefined) o.stdin = opts.stdin;
  return sh(ctx, withValues(bin, argv, Boolean(opts.valuesFile)), o);
}

export const helmModule = defineModule({
  name: 'helm',
  spec: {
    release_name: { type: 'str', aliases: ['name'], required: true },
    release_namespace: { type: 'str', aliases: ['namespace'], required: true },
    release_state: { type: 'str', aliases: ['state'], default: 'present', choices: ['present', 'absent'] },
    chart_ref: { type: 'path' },
    chart_repo_url: { type: 'str' },
    chart_version: { type: 'str' },
    release_values: { type: 'dict', aliases: ['values'], default: {} },
    values_files: { type: 'list', default: [] },
    set_values: { type: 'list', elements: 'dict' },
    update_repo_cache: { type: 'bool', default: false },
    create_namespace: { type: 'bool', default: false },
    wait: { type: 'bool', default: false },
    wait_timeout: { type: 'str' },
    timeout: { type: 'str' },
    atomic: { type: 'bool', default: false },
    skip_crds: { type: 'bool', default: false },
    force: { type: 'bool', default: false },
    disable_hook: { type: 'bool', default: false },
    dependency_update: { type: 'bool', default: false, aliases: ['dep_up'] },
    reset_values: { type: 'bool', default: true },
    reuse_values: { type: 'bool' },
    history_max: { type: 'int' },
    post_renderer: { type: 'str' },
    purge: { type: 'bool', default: true },
    replace: { type: 'bool', default: false },
    binary_path: { type: 'path', default: 'helm' },
    kubeconfig: { type: 'path', aliases: ['kubeconfig_path'] },
    context: { type: 'str', aliases: ['kube_context'] },
    validate_certs: { type: 'bool', aliases: ['verify_ssl'] },
    host: { type: 'str' },
    api_key: { type: 'str' },
    ca_cert: { type: 'path' },
  },
  async run(a, ctx) {
    const bin = a.str('binary_path')!;
    const release = a.req('release_name');
    const ns = a.req('release_namespace');
    const state = a.str('release_state')!;
    const conn = helmConn(a);
    if (a.has('wait_timeout') && !a.has('timeout')) a.values.timeout = a.str('wait_timeout');
    const waitSecs = durationSeconds(a.str('timeout'), 300);
    const t = boundedTimeout(ctx, 120);

    const list = await helm(ctx, bin, [...conn, 'list', `--namespace=${ns}`, '--all', `--filter=^${release.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, '-o', 'json'], { timeout: t });
    if (list.rc === 127) throw new Fail(`helm is not installed on ${ctx.transport.host} (binary_path: ${bin})`);
    if (list.rc !== 0) throw new Fail(`helm list failed: ${tail(list.stderr || list.stdout)}`, { rc: list.rc });
    const current = parseHelmList(list.stdout, release);

    if (state === 'absent') {
      if (!current) return { changed: false, status: {} };
      const argv = [...conn, 'uninstall', release, `--namespace=${ns}`];
      if (!a.bool('purge')) argv.push('--keep-history');
      if (a.bool('wait')) argv.push('--wait');
      if (a.str('timeout')) argv.push(`--timeout=${helmDuration(a.str('timeout')!)}`);
      if (a.bool('disable_hook')) argv.push('--no-hooks');
      const command = argvLine([bin, ...argv]);
      if (ctx.check) return { changed: true, command, status: { ...current } };
      const r = await helm(ctx, bin, argv, { timeout: boundedTimeout(ctx, waitSecs) });
      if (r.rc !== 0) throw new Fail(`Failure when executing Helm command: ${tail(r.stderr || r.stdout)}`, { command, rc: r.rc, stdout: r.stdout, stderr: r.stderr });
      return { changed: true, command, stdout: r.stdout, stderr: r.stderr, status: { ...current } };
    }

    const chart = a.str('chart_ref');
    if (!chart) throw new Fail('chart_ref is required when release_state is present');
    if (a.bool('update_repo_cache') && !ctx.check) {
      const r = await helm(ctx, bin, [...conn, 'repo', 'update'], { timeout: t });
      if (r.rc !== 0) throw new Fail(`helm repo update failed: ${tail(r.stderr)}`, { rc: r.rc });
    }
    const values = a.dict('release_values') ?? {};
    const hasValues = Object.keys(values).length > 0;
    const argv = [...conn, ...upgradeArgv(a, release, ns, chart, hasValues)];
    const command = argvLine([bin, ...argv]).replace(/'?--values=@VALUES@'?/, '--values=<release_values>');
    const valuesText = hasValues ? JSON.stringify(values) : undefined;

    // decide
    let reason: string | undefined;
    if (!current) reason = 'not installed';
    else if (current.status !== 'deployed') reason = `release status is ${current.status}`;
    else if (a.has('set_values')) reason = 'set_values given (not comparable)';
    else {
      const plugins = await helm(ctx, bin, ['plugin', 'list'], { timeout: t });
      const hasDiff = plugins.rc === 0 && /^diff\s/m.test(plugins.stdout);
      if (hasDiff) {
        const dargv = [...conn, 'diff', 'upgrade', ...upgradeArgv(a, release, ns, chart, hasValues).slice(1).filter((w) => !['--install', '-o', 'json', '--wait', '--atomic', '--create-namespace', '--force', '--dependency-update'].includes(w) && !w.startsWith('--timeout=') && !w.startsWith('--history-max=')), '--allow-unreleased', '--detailed-exitcode', '--no-color'];
        const d = await helm(ctx, bin, dargv, { timeout: t, ...(valuesText ? { stdin: valuesText, valuesFile: true } : {}) });
        if (d.rc === 2) reason = 'helm diff shows changes';
        else if (d.rc !== 0) throw new Fail(`helm diff failed: ${tail(d.stderr || d.stdout)}`, { rc: d.rc });
      } else {
        const show = await helm(ctx, bin, ['show', 'chart', chart, ...(a.str('chart_version') ? [`--version=${a.str('chart_version')}`] : []), ...(a.str('chart_repo_url') ? [`--repo=${a.str('chart_repo_url')}`] : [])], { timeout: t });
        if (show.rc !== 0) throw new Fail(`helm show chart ${chart} failed: ${tail(show.stderr || show.stdout)}`, { rc: show.rc });
        const meta = (parseYaml(show.stdout) ?? {}) as Record<string, unknown>;
        const want = `${String(meta.name)}-${String(meta.version)}`;
        if (want !== current.chart) reason = `chart ${current.chart} → ${want}`;
        else {
          const gv = await helm(ctx, bin, [...conn, 'get', 'values', release, `--namespace=${ns}`, '-o', 'json'], { timeout: t });
          if (gv.rc !== 0) throw new Fail(`helm get values failed: ${tail(gv.stderr)}`, { rc: gv.rc });
          let have: unknown = null;
          try {
            have = JSON.parse(gv.stdout.trim() || 'null');
          } catch {
            throw new Fail(`helm get values printed something that is not JSON: ${gv.stdout.slice(0, 200)}`);
          }
          let wantValues: unknown = {};
          const files = a.list('values_files') ?? [];
          if (files.length) {
            const cat = await sh(ctx, files.map((f) => `printf '\\n@@VALUES\\n'; cat -- ${shq(f)}`).join('\n'), { timeout: t });
            if (cat.rc !== 0) throw new Fail(`reading values_files failed: ${tail(cat.stderr)}`, { rc: cat.rc });
            for (const part of cat.stdout.split('\n@@VALUES\n').slice(1)) wantValues = mergeValues(wantValues, parseYaml(part) ?? {});
          }
          wantValues = mergeValues(wantValues, values);
          if (!sameValues(have, wantValues)) reason = 'values differ';
        }
      }
    }

    const statusOf = (r: HelmRelease | undefined, vals?: unknown): Record<string, unknown> => (r ? { ...r, ...(vals !== undefined ? { values: vals } : {}) } : {});
    if (!reason) return { changed: false, command: '', status: statusOf(current) };
    if (ctx.check) return { changed: true, command, reason, status: statusOf(current) };

    const r = await helm(ctx, bin, argv, { timeout: boundedTimeout(ctx, a.bool('wait') || a.bool('atomic') ? waitSecs : 300), ...(valuesText ? { stdin: valuesText, valuesFile: true } : {}) });
    if (r.rc !== 0) throw new Fail(`Failure when executing Helm command. Exited ${r.rc}.\nstdout: ${tail(r.stdout)}\nstderr: ${tail(r.stderr)}`, { command, rc: r.rc, stdout: r.stdout, stderr: r.stderr });
    let rel: Record<string, unknown> = {};
    try {
      rel = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    } catch {
      /* older helm without -o json on upgrade: status from helm list below */
    }
    const after = await helm(ctx, bin, [...conn, 'list', `--namespace=${ns}`, '--all', `--filter=^${release.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, '-o', 'json'], { timeout: t });
    const now = after.rc === 0 ? parseHelmList(after.stdout, release) : undefined;
    const revision = now?.revision ?? String(rel.version ?? '');
    const changed = !current || revision !== current.revision;
    return { changed, command, reason, stdout: r.stdout, stderr: r.stderr, status: statusOf(now, rel.config ?? values) };
  },
});
