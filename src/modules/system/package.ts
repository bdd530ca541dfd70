/**
 * `package`: install, upgrade or remove OS packages with the target's package manager (facts
 * `ansible_pkg_mgr`, or `use:`): dnf / yum (rpm database) and apt (dpkg database).
 *
 * `changed` is honest: the package database is queried before (to skip work and to plan check mode) and
 * after (the result lists what really changed: `Installed: x-1.2-3.el9.x86_64`, `Upgraded: …`,
 * `Removed: …`); the final state is verified. Names are `name`, `name-version` (dnf), `name=version` (apt),
 * or a path to a local `.rpm` / `.deb` file. Package groups (`@group`) are refused with a clear message.
 *
 * Check mode: present → changed when something is missing; latest → missing, or an upgrade available
 * (`dnf check-update` rc 100, `apt-cache policy` candidate ≠ installed); absent → something installed.
 */
import type { ModuleContext, ModuleResult } from '../types.js';
import { argvLine, defineModule, Fail, ModuleArgError, sh, shq, splitlines, tail, type Args } from './common.js';

type Mgr = 'dnf' | 'yum' | 'apt';
type State = 'present' | 'latest' | 'absent';

/** What the package database says about one requested name. */
export interface PkgInfo {
  /** package name as the database knows it (from the spec, or read from a local package file) */
  name: string;
  /** installed versions (`1.2-3.el9.x86_64` / `1.2-3`); empty = not installed */
  versions: string[];
}

export type PkgDb = Map<string, PkgInfo>;

const SPEC_RE = /^[A-Za-z0-9_.+:~@/=*^[\]<>-]+$/;

function isFile(spec: string, mgr: Mgr): boolean {
  return spec.includes('/') && (mgr === 'apt' ? spec.endsWith('.deb') : spec.endsWith('.rpm'));
}

/** apt's `name=version` → name; other specs unchanged. */
function aptName(spec: string): string {
  const i = spec.indexOf('=');
  return i > 0 ? spec.slice(0, i) : spec;
}

// ───────────────────────────────────────────── database queries ─────────────────────────────────────────────

/** One sh script that prints `@@<spec>` then the database's answer for each spec. */
export function queryScript(mgr: Mgr, specs: readonly string[]): string {
  const words = specs.map(shq).join(' ');
  if (mgr === 'apt') {
    const fmt = shq('${db:Status-Abbrev} ${Package} ${Version}\\n');
    return [
      `for p in ${words}; do`,
      `  printf '@@%s\\n' "$p"`,
      `  case "$p" in`,
      `    */*.deb) n=$(dpkg-deb -f "$p" Package 2>/dev/null) || n=; [ -n "$n" ] && printf 'name %s\\n' "$n" ;;`,
      `    *=*) n=\${p%%=*} ;;`,
      `    *) n=$p ;;`,
      `  esac`,
      `  [ -n "$n" ] && dpkg-query -W -f=${fmt} "$n" 2>/dev/null`,
      `done; exit 0`,
    ].join('\n');
  }
  const qf = shq('%{NAME} %{VERSION}-%{RELEASE}.%{ARCH}\\n');
  return [
    `for p in ${words}; do`,
    `  printf '@@%s\\n' "$p"`,
    `  case "$p" in`,
    `    */*.rpm) n=$(rpm -qp --qf '%{NAME}' "$p" 2>/dev/null) || n=; [ -n "$n" ] && printf 'name %s\\n' "$n" ;;`,
    `    *) n=$p ;;`,
    `  esac`,
    `  [ -n "$n" ] && rpm -q --qf ${qf} "$n" 2>&1`,
    `done; exit 0`,
  ].join('\n');
}

/** Parse the output of queryScript. */
export function parseQuery(mgr: Mgr, specs: readonly string[], out: string): PkgDb {
  const db: PkgDb = new Map();
  let cur: PkgInfo | undefined;
  for (const line of out.split('\n')) {
    const h = /^@@(.*)$/.exec(line);
    if (h) {
      const spec = h[1]!;
      cur = { name: mgr === 'apt' ? aptName(spec) : spec, versions: [] };
      db.set(spec, cur);
      continue;
    }
    if (!cur || !line.trim()) continue;
    const nm = /^name (\S+)$/.exec(line);
    if (nm) {
      cur.name = nm[1]!;
      continue;
    }
    if (mgr === 'apt') {
      // "ii  pkg 1.2-3" : desired/status/error flags, then name and version
      const m = /^(\S)(\S)(\S?)\s+(\S+)\s+(\S*)$/.exec(line);
      if (m && m[2] === 'i') cur.versions.push(m[5]!); // second flag = status: i = installed
      if (m && !cur.name) cur.name = m[4]!;
    } else {
      if (/^package .* is not installed$/.test(line) || /^error: /.test(line)) continue;
      const m = /^(\S+) (\S+)$/.exec(line);
      if (m) {
        cur.name = m[1]!;
        cur.versions.push(m[2]!);
      }
    }
  }
  for (const s of specs) if (!db.has(s)) db.set(s, { name: mgr === 'apt' ? aptName(s) : s, versions: [] });
  return db;
}

/** apt `name=version`: satisfied only by that version. */
function satisfied(mgr: Mgr, spec: string, info: PkgInfo | undefined): boolean {
  if (!info || !info.versions.length) return false;
  if (mgr === 'apt' && spec.includes('=') && !isFile(spec, mgr)) {
    const want = spec.slice(spec.indexOf('=') + 1);
    return info.versions.includes(want);
  }
  return true;
}

/** `apt-cache policy` blocks → name → {installed, candidate}. */
export function parseAptPolicy(out: string): Map<string, { installed?: string; candidate?: string }> {
  const m = new Map<string, { installed?: string; candidate?: string }>();
  let cur: { installed?: string; candidate?: string } | undefined;
  for (const line of out.split('\n')) {
    const h = /^(\S+):$/.exec(line);
    if (h) {
      cur = {};
      m.set(h[1]!, cur);
      continue;
    }
    if (!cur) continue;
    const i = /^\s+Installed:\s*(\S+)/.exec(line);
    if (i) cur.installed = i[1] === '(none)' ? undefined : i[1];
    const c = /^\s+Candidate:\s*(\S+)/.exec(line);
    if (c) cur.candidate = c[1] === '(none)' ? undefined : c[1];
  }
  return m;
}

/** `dnf check-update` lines (`name.arch  version  repo`) → package names with an update. */
export function parseCheckUpdate(out: string): Set<string> {
  const s = new Set<string>();
  for (const line of out.split('\n')) {
    if (/^(Last metadata|Obsoleting|Security:)/.test(line)) break;
    const m = /^(\S+)\.(\S+)\s+\S+\s+\S+\s*$/.exec(line);
    if (m) s.add(m[1]!);
  }
  return s;
}

// ───────────────────────────────────────────── commands ─────────────────────────────────────────────

interface Opts {
  enablerepo: string[];
  disablerepo: string[];
  nogpg: boolean;
  installRecommends: boolean | undefined;
  purge: boolean;
  autoremove: boolean;
  lockTimeout: number;
}

export function dnfCommand(mgr: Mgr, verb: 'install' | 'upgrade' | 'remove', specs: readonly string[], o: Opts): string {
  const argv = [mgr, '-y'];
  if (o.nogpg) argv.push('--nogpgcheck');
  for (const r of o.disablerepo) argv.push(`--disablerepo=${r}`);
  for (const r of o.enablerepo) argv.push(`--enablerepo=${r}`);
  argv.push(verb, ...specs);
  return argvLine(argv);
}

export function aptCommand(verb: 'install' | 'remove', specs: readonly string[], o: Opts): string {
  const argv = ['apt-get', '-y', '-q', '-o', `DPkg::Lock::Timeout=${o.lockTimeout}`, '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold'];
  if (verb === 'install' && o.installRecommends === false) argv.push('--no-install-recommends');
  if (verb === 'install' && o.installRecommends === true) argv.push('--install-recommends');
  if (verb === 'remove' && o.purge) argv.push('--purge');
  if (verb === 'remove' && o.autoremove) argv.push('--auto-remove');
  argv.push(verb, ...specs);
  return argvLine(argv);
}

const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive', APT_LISTCHANGES_FRONTEND: 'none', LC_ALL: 'C' };

// ───────────────────────────────────────────── module ─────────────────────────────────────────────

async function resolveMgr(a: Args, ctx: ModuleContext): Promise<Mgr> {
  const use = a.str('use')!;
  const m = use === 'auto' ? String((await ctx.facts()).ansible_pkg_mgr ?? 'unknown') : use;
  if (m === 'dnf' || m === 'yum' || m === 'apt') return m;
  if (m === 'dnf5') return 'dnf';
  throw new Fail(`package: the package manager '${m}' is not supported (supported: dnf, yum, apt)`, {});
}

async function query(ctx: ModuleContext, mgr: Mgr, specs: readonly string[]): Promise<PkgDb> {
  const r = await sh(ctx, queryScript(mgr, specs), { env: { LC_ALL: 'C' } });
  if (r.rc !== 0) throw new Fail(`querying the package database failed (rc ${r.rc}): ${tail(r.stderr)}`);
  return parseQuery(mgr, specs, r.stdout);
}

function label(info: PkgInfo, v: string): string {
  return `${info.name}-${v}`;
}

/** What changed between two database snapshots, in Ansible-ish words. */
export function changesOf(specs: readonly string[], before: PkgDb, after: PkgDb): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const s of specs) {
    const b = before.get(s);
    const a = after.get(s);
    const name = a?.name ?? b?.name ?? s;
    if (seen.has(name)) continue;
    seen.add(name);
    const bv = b?.versions ?? [];
    const av = a?.versions ?? [];
    if (!bv.length && av.length) out.push(...av.map((v) => `Installed: ${label(a!, v)}`));
    else if (bv.length && !av.length) out.push(...bv.map((v) => `Removed: ${label(b!, v)}`));
    else if (bv.join(' ') !== av.join(' ')) out.push(`Upgraded: ${name} ${bv.join(',')} -> ${av.join(',')}`);
  }
  return out;
}

export const pkg = defineModule({
  name: 'package',
  spec: {
    name: { type: 'list', aliases: ['pkg'], required: true },
    state: { type: 'str', default: 'present', choices: ['present', 'installed', 'latest', 'absent', 'removed'] },
    use: { type: 'str', default: 'auto', choices: ['auto', 'dnf', 'yum', 'apt', 'dnf5'] },
    update_cache: { type: 'bool', default: false },
    enablerepo: { type: 'list', default: [] },
    disablerepo: { type: 'list', default: [] },
    disable_gpg_check: { type: 'bool', default: false },
    install_recommends: { type: 'bool' },
    purge: { type: 'bool', default: false },
    autoremove: { type: 'bool', default: false },
    lock_timeout: { type: 'int', default: 60 },
  },
  async run(a, ctx) {
    const specs = [...new Set(a.list('name')!.map((s) => s.trim()).filter(Boolean))];
    for (const s of specs) {
      if (s.startsWith('@')) throw new ModuleArgError(`package groups and module streams ('${s}') are not supported; list the packages instead`);
      if (s.startsWith('-') || !SPEC_RE.test(s)) throw new ModuleArgError(`invalid package name '${s}'`);
    }
    const st = a.str('state')!;
    const state: State = st === 'installed' ? 'present' : st === 'removed' ? 'absent' : (st as State);
    if (!specs.length) return { changed: false, msg: 'Nothing to do', results: [] };
    const mgr = await resolveMgr(a, ctx);
    const o: Opts = {
      enablerepo: a.list('enablerepo')!,
      disablerepo: a.list('disablerepo')!,
      nogpg: a.bool('disable_gpg_check'),
      installRecommends: a.optBool('install_recommends'),
      purge: a.bool('purge'),
      autoremove: a.bool('autoremove'),
      lockTimeout: a.int('lock_timeout')!,
    };
    const env = mgr === 'apt' ? APT_ENV : { LC_ALL: 'C' };

    if (a.bool('update_cache') && !ctx.check) {
      const cmd = mgr === 'apt' ? argvLine(['apt-get', '-q', '-o', `DPkg::Lock::Timeout=${o.lockTimeout}`, 'update']) : argvLine([mgr, '-y', 'makecache']);
      const r = await sh(ctx, cmd, { env });
      if (r.rc !== 0) throw new Fail(`updating the package cache failed (rc ${r.rc}): ${tail(r.stderr)}`, { rc: r.rc, stdout: r.stdout, stderr: r.stderr });
    }

    const before = await query(ctx, mgr, specs);
    const missing = specs.filter((s) => !satisfied(mgr, s, before.get(s)));
    const installed = specs.filter((s) => (before.get(s)?.versions.length ?? 0) > 0);
    const cmds: string[] = [];
    let wouldChange: string[] = [];

    if (state === 'present') {
      wouldChange = missing.map((s) => `Would install: ${s}`);
      if (missing.length) cmds.push(mgr === 'apt' ? aptCommand('install', missing, o) : dnfCommand(mgr, 'install', missing, o));
    } else if (state === 'absent') {
      wouldChange = installed.map((s) => `Would remove: ${s}`);
      if (installed.length) cmds.push(mgr === 'apt' ? aptCommand('remove', installed.map(aptName), o) : dnfCommand(mgr, 'remove', installed, o));
    } else {
      // latest: only ask what would be upgraded in check mode; otherwise let the manager decide and compare
      const upToDate = specs.filter((s) => !missing.includes(s));
      if (ctx.check) {
        wouldChange = missing.map((s) => `Would install: ${s}`);
        const names = upToDate.filter((s) => !isFile(s, mgr)).map((s) => (mgr === 'apt' ? aptName(s) : s));
        if (names.length && mgr === 'apt') {
          const r = await sh(ctx, argvLine(['apt-cache', 'policy', ...names]), { env });
          const pol = parseAptPolicy(r.stdout);
          for (const n of names) {
            const p = pol.get(n);
            if (p?.candidate && p.candidate !== p.installed) wouldChange.push(`Would upgrade: ${n} ${p.installed ?? ''} -> ${p.candidate}`);
          }
        } else if (names.length) {
          const r = await sh(ctx, argvLine([mgr, '-q', 'check-update', ...names]), { env });
          if (r.rc === 100) for (const n of parseCheckUpdate(r.stdout)) wouldChange.push(`Would upgrade: ${n}`);
          else if (r.rc !== 0) throw new Fail(`${mgr} check-update failed (rc ${r.rc}): ${tail(r.stderr)}`, { rc: r.rc });
        }
      } else if (mgr === 'apt') {
        cmds.push(aptCommand('install', specs, o));
      } else {
        if (missing.length) cmds.push(dnfCommand(mgr, 'install', missing, o));
        const up = upToDate.filter((s) => !isFile(s, mgr));
        if (up.length) cmds.push(dnfCommand(mgr, 'upgrade', up, o));
      }
    }

    if (ctx.check) {
      return { changed: wouldChange.length > 0, results: wouldChange, msg: wouldChange.length ? '' : 'Nothing to do' };
    }
    if (!cmds.length) return { changed: false, results: [], msg: 'Nothing to do', rc: 0 };

    const line = cmds.join(' && ');
    const r = await sh(ctx, line, { env });
    const after = await query(ctx, mgr, specs);
    const results = changesOf(specs, before, after);
    const out: ModuleResult = {
      changed: results.length > 0,
      results,
      rc: r.rc,
      stdout: r.stdout,
      stderr: r.stderr,
      stdout_lines: splitlines(r.stdout),
      stderr_lines: splitlines(r.stderr),
      msg: '',
    };
    if (r.rc !== 0) {
      const verb = state === 'absent' ? 'remove' : 'install';
      throw new Fail(`Failed to ${verb} some of the specified packages (${mgr} rc ${r.rc}): ${tail(r.stderr || r.stdout, 3)}`, { ...out });
    }
    const bad = state === 'absent' ? specs.filter((s) => (after.get(s)?.versions.length ?? 0) > 0) : specs.filter((s) => !satisfied(mgr, s, after.get(s)));
    if (bad.length) {
      throw new Fail(`${mgr} finished but ${bad.join(', ')} ${bad.length === 1 ? 'is' : 'are'} ${state === 'absent' ? 'still installed' : 'not installed'}`, { ...out });
    }
    return out;
  },
});
