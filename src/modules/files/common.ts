/**
 * Shared machinery of the file modules (copy, template, file, lineinfile …): argument helpers, one
 * `Remote` wrapper that passes become/timeout to every transport call and records it for -vvv, a POSIX sh
 * probe that stats paths in one round trip, Ansible's mode/owner/group semantics (octal, int and symbolic
 * modes with umask, preserved attributes on rewrite), and the one writer every file-writing module uses
 * (backup, validate with %s, atomic put, before/after diff).
 *
 * Targets need GNU coreutils-compatible `stat -c`, `sha1sum`/`sha256sum`, `id`, `getent` — no Python.
 */
import { createHash } from 'node:crypto';
import { closest as closestWord } from '../../core/suggest.js';
import type { Readable } from 'node:stream';
import { floorModules } from '../../playbook/floor-modules.js';
import type { Action, ArgProblem } from '../../playbook/types.js';
import { TransportError } from '../../transport/errors.js';
import type { ExecResult } from '../../transport/types.js';
import { argBool, ModuleArgError, shq, type FileDiff, type Module, type ModuleContext, type ModuleResult } from '../types.js';

export { argBool, ModuleArgError, shq };

// ───────────────────────────────────────────── failures ─────────────────────────────────────────────

/** A module failure on a reachable host: becomes `{failed: true, msg, ...extra}`. */
export class Fail extends Error {
  readonly extra: Record<string, unknown>;
  constructor(msg: string, extra: Record<string, unknown> = {}) {
    super(msg);
    this.extra = extra;
  }
}

// ───────────────────────────────────────────── module definition ─────────────────────────────────────────────

/** Arguments every file-writing module accepts (Ansible's add_file_common_args). */
export const FILE_COMMON = ['mode', 'owner', 'group', 'seuser', 'serole', 'setype', 'selevel', 'unsafe_writes', 'attributes', 'attr'];

const FLOOR = floorModules();

export interface ModuleDef {
  name: string;
  /** every accepted argument name (aliases included) */
  params: readonly string[];
  /** extra load-time checks (after the floor rules and the unknown-argument check) */
  check?(action: Readonly<Action>): ArgProblem[];
  run(args: Record<string, unknown>, ctx: ModuleContext, r: Remote): Promise<ModuleResult>;
}



function unknownArgs(name: string, params: readonly string[], keys: string[]): { key: string; message: string; hint: string }[] {
  const out = [];
  for (const k of keys) {
    if (params.includes(k) || k.startsWith('_ansible_')) continue;
    const s = suggest(k, params);
    out.push({
      key: k,
      message: `unsupported parameter for (${name}) module: ${k}`,
      hint: s ? `did you mean '${s}'?` : `supported parameters: ${[...params].sort().join(', ')}`,
    });
  }
  return out;
}

/**
 * Builds a Module: `validate` = the loader's floor rules for this module + unknown-argument detection;
 * `run` turns Fail / ModuleArgError / remote file errors into `{failed: true, msg}` (never a stack) and
 * lets unreachable-host errors through to the executor.
 */
export function defineModule(def: ModuleDef): Module {
  const floor = FLOOR.get(def.name)?.validate;
  return {
    name: def.name,
    validate(a: Readonly<Action>): ArgProblem[] {
      const out = floor ? floor(a) : [];
      if (a.varParams !== undefined) return out;
      for (const u of unknownArgs(def.name, def.params, Object.keys(a.args))) out.push({ message: u.message, arg: u.key, hint: u.hint });
      if (def.check) out.push(...def.check(a));
      return out;
    },
    async run(args, ctx) {
      const r = new Remote(ctx);
      try {
        const bad = unknownArgs(def.name, def.params, Object.keys(args));
        if (bad.length) throw new ModuleArgError(`${bad.map((b) => b.message).join('; ')} (${bad[0]!.hint})`);
        return await def.run(args, ctx, r);
      } catch (e) {
        if (e instanceof Fail) return { changed: false, ...e.extra, failed: true, msg: e.message };
        if (e instanceof ModuleArgError) return { changed: false, failed: true, msg: e.message };
        if (e instanceof TransportError && e.reason === 'remote') return { changed: false, failed: true, msg: e.message };
        if (e instanceof TransportError) throw e;
        if (e instanceof Error && e.name === 'TemplateError') return { changed: false, failed: true, msg: e.message };
        const m = e instanceof Error ? e.message : String(e);
        return { changed: false, failed: true, msg: `${def.name}: unexpected error: ${m}` };
      }
    },
  };
}

// ───────────────────────────────────────────── arguments ─────────────────────────────────────────────

/** First defined of the given names (aliases), as a non-empty string. */
export function strArg(args: Record<string, unknown>, names: string | readonly string[], opts: { required?: boolean } = {}): string | undefined {
  const list = typeof names === 'string' ? [names] : names;
  for (const n of list) {
    const v = args[n];
    if (v === undefined || v === null) continue;
    if (typeof v === 'object') throw new ModuleArgError(`argument '${n}' must be a string, got ${Array.isArray(v) ? 'a list' : 'a mapping'}`);
    return String(v);
  }
  if (opts.required) throw new ModuleArgError(`missing required argument: ${list.join(' or ')}`);
  return undefined;
}

export function pathArg(args: Record<string, unknown>, names: readonly string[]): string {
  const p = strArg(args, names, { required: true })!;
  if (p === '') throw new ModuleArgError(`argument '${names[0]}' must not be empty`);
  return p;
}

export function boolArg(args: Record<string, unknown>, name: string, dflt = false): boolean {
  return argBool(args[name], name, dflt);
}

export function intArg(args: Record<string, unknown>, name: string, dflt?: number): number | undefined {
  const v = args[name];
  if (v === undefined || v === null || v === '') return dflt;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isInteger(n)) throw new ModuleArgError(`argument '${name}' must be an integer, got '${String(v)}'`);
  return n;
}

export function choiceArg<T extends string>(args: Record<string, unknown>, name: string, choices: readonly T[], dflt?: T): T | undefined {
  const v = strArg(args, name);
  if (v === undefined) return dflt;
  if (!(choices as readonly string[]).includes(v)) throw new ModuleArgError(`value of ${name} must be one of: ${choices.join(', ')}, got: ${v}`);
  return v as T;
}

/** A list argument: YAML list, or a comma-separated string (Ansible's type='list'). */
export function listArg(args: Record<string, unknown>, name: string): string[] | undefined {
  const v = args[name];
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map((x) => String(x));
  const s = String(v);
  if (s === '') return [];
  return s.split(',').map((x) => x.trim());
}

/** Warn about arguments we accept for compatibility but do not act on. */
export function warnIgnored(ctx: ModuleContext, args: Record<string, unknown>, names: readonly string[], why: string): void {
  for (const n of names) if (args[n] !== undefined && args[n] !== null && args[n] !== '') ctx.warn(`${n} is ignored: ${why}`);
}

// ───────────────────────────────────────────── remote access ─────────────────────────────────────────────

export interface HostEnv {
  umask: number;
  euid: number;
  egid: number;
  user: string;
}

export type Kind = 'file' | 'directory' | 'link' | 'char' | 'block' | 'fifo' | 'socket' | 'absent';

export interface FileInfo {
  path: string;
  exists: boolean;
  kind: Kind;
  /** permission bits incl. suid/sgid/sticky */
  mode: number;
  uid: number;
  gid: number;
  owner: string;
  group: string;
  size: number;
  nlink: number;
  inode: number;
  dev: number;
  atime: number;
  mtime: number;
  ctime: number;
  blocks: number;
  blksize: number;
  rdev: number;
  /** local time as `stat` prints it: `2024-01-02 03:04:05.123456789 +0000` */
  atimeStr?: string;
  mtimeStr?: string;
  /** readlink of a symlink */
  linkTarget?: string;
  /** stat of what a symlink points to (when asked to follow and the target exists) */
  target?: FileInfo;
  realpath?: string;
  checksum?: string;
  readable?: boolean;
  writeable?: boolean;
  executable?: boolean;
}

const ABSENT = (path: string): FileInfo => ({
  path,
  exists: false,
  kind: 'absent',
  mode: 0,
  uid: -1,
  gid: -1,
  owner: '',
  group: '',
  size: 0,
  nlink: 0,
  inode: 0,
  dev: 0,
  atime: 0,
  mtime: 0,
  ctime: 0,
  blocks: 0,
  blksize: 0,
  rdev: 0,
});

/** Ansible's get_state(): link, directory, hard (regular with >1 links), file, absent. */
export function stateOf(i: FileInfo): 'link' | 'directory' | 'hard' | 'file' | 'absent' {
  if (!i.exists) return 'absent';
  if (i.kind === 'link') return 'link';
  if (i.kind === 'directory') return 'directory';
  if (i.nlink > 1 && i.kind === 'file') return 'hard';
  return 'file';
}

export const CHECKSUM_CMD: Record<string, string> = {
  sha1: 'sha1sum',
  sha256: 'sha256sum',
  md5: 'md5sum',
  sha224: 'sha224sum',
  sha384: 'sha384sum',
  sha512: 'sha512sum',
};

/**
 * The probe: for each path prints a `B` record, an `S` line (lstat: raw mode hex, ids, sizes, times with
 * the nanoseconds of the human form), `N` (owner:group names), `L` readlink, `R` realpath, `T` the
 * followed stat, `A` r/w/x access, `C` checksum. Ends with `E umask euid egid user`.
 */
const PROBE_FN = String.raw`
pst() { stat $1 -c '%f %u %g %s %h %i %d %X %Y %Z %b %o %t %T|%x|%y|%z|%U:%G' -- "$2" 2>/dev/null; }
probe() {
  p=$1; fol=$2; ck=$3
  printf 'B\n'
  if [ ! -e "$p" ] && [ ! -L "$p" ]; then printf 'S absent\n'; return 0; fi
  s=$(pst '' "$p") || { printf 'S error\n'; return 0; }
  printf 'S %s\n' "$s"
  if [ -L "$p" ]; then printf 'L%s\n' "$(readlink -- "$p")"; fi
  if [ "$fol" = 1 ] || [ -L "$p" ]; then
    r=$(readlink -f -- "$p" 2>/dev/null) && printf 'R%s\n' "$r"
    if [ -L "$p" ] && [ "$fol" = 1 ] && [ -e "$p" ]; then printf 'T %s\n' "$(pst -L "$p")"; fi
  fi
  a=; [ -r "$p" ] && a=r; [ -w "$p" ] && a="$a"w; [ -x "$p" ] && a="$a"x; printf 'A%s\n' "$a"
  if [ -n "$ck" ] && [ -f "$p" ] && [ -r "$p" ] && { [ "$fol" = 1 ] || [ ! -L "$p" ]; }; then
    c=$($ck -- "$p" 2>/dev/null) && printf 'C%s\n' "\${c%% *}"
  fi
  return 0
}
`.replace('\\${', '${');

function parseStatLine(path: string, line: string): FileInfo | undefined {
  if (line === 'absent' || line === 'error') return undefined;
  const [head, hx, hy, hz, names] = line.split('|');
  const f = (head ?? '').trim().split(/\s+/);
  if (f.length < 14) return undefined;
  const raw = parseInt(f[0]!, 16);
  const fmt = raw & 0o170000;
  const kinds: Record<number, Kind> = {
    0o100000: 'file',
    0o040000: 'directory',
    0o120000: 'link',
    0o020000: 'char',
    0o060000: 'block',
    0o010000: 'fifo',
    0o140000: 'socket',
  };
  const frac = (h: string | undefined): number => {
    const m = /\.(\d+)/.exec(h ?? '');
    return m ? Number(`0.${m[1]}`) : 0;
  };
  const [owner, group] = (names ?? ':').split(':');
  const major = parseInt(f[12]!, 16);
  const minor = parseInt(f[13]!, 16);
  return {
    path,
    exists: true,
    kind: kinds[fmt] ?? 'file',
    mode: raw & 0o7777,
    uid: Number(f[1]),
    gid: Number(f[2]),
    size: Number(f[3]),
    nlink: Number(f[4]),
    inode: Number(f[5]),
    dev: Number(f[6]),
    atime: Number(f[7]) + frac(hx),
    mtime: Number(f[8]) + frac(hy),
    ctime: Number(f[9]) + frac(hz),
    blocks: Number(f[10]),
    blksize: Number(f[11]),
    rdev: (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) * 4096) | ((major & ~0xfff) * 2 ** 32),
    atimeStr: hx ?? '',
    mtimeStr: hy ?? '',
    owner: owner === 'UNKNOWN' ? String(f[1]) : (owner ?? ''),
    group: group === 'UNKNOWN' ? String(f[2]) : (group ?? ''),
  };
}

export interface ProbeOptions {
  /** also stat the symlink target (T record) and resolve realpath */
  follow?: boolean;
  /** checksum algorithm of regular files (followed when follow) */
  checksum?: keyof typeof CHECKSUM_CMD;
}

/** Everything a module does on the target goes through here (become, timeout, trace, error mapping). */
export class Remote {
  readonly ctx: ModuleContext;
  private envP: Promise<HostEnv> | undefined;
  private readonly homes = new Map<string, string>();
  private readonly idCache = new Map<string, number | null>();
  private readonly pendingUsers = new Set<string>();
  private readonly pendingGroups = new Set<string>();

  constructor(ctx: ModuleContext) {
    this.ctx = ctx;
  }

  get check(): boolean {
    return this.ctx.check;
  }

  /** Runs a command (as the task's become user). Non-zero rc is returned, not thrown. */
  async sh(cmd: string, opts: { stdin?: string | Uint8Array; env?: Record<string, string>; cwd?: string; trace?: string } = {}): Promise<ExecResult> {
    this.ctx.trace(opts.trace ?? cmd);
    const o: Parameters<ModuleContext['transport']['exec']>[1] = { become: this.ctx.become };
    if (this.ctx.timeout > 0) o.timeout = this.ctx.timeout;
    if (opts.stdin !== undefined) o.stdin = opts.stdin;
    if (opts.env) o.env = opts.env;
    if (opts.cwd) o.cwd = opts.cwd;
    return this.ctx.transport.exec(cmd, o);
  }

  /** Runs a command that must succeed; on failure throws Fail with `what` and the command's stderr. */
  async shOk(cmd: string, what: string, opts: { stdin?: string | Uint8Array; env?: Record<string, string>; cwd?: string; trace?: string } = {}): Promise<string> {
    const res = await this.sh(cmd, opts);
    if (res.rc !== 0) {
      const err = (res.stderr.trim() || res.stdout.trim() || 'no message').slice(0, 2000);
      throw new Fail(`${what}: ${err}${permissionHint(err)}`, { rc: res.rc, stderr: res.stderr, stdout: res.stdout });
    }
    return res.stdout;
  }

  async put(content: string | Uint8Array | Readable, path: string, opts: { mode: number; owner?: string | number; group?: string | number }): Promise<void> {
    this.ctx.trace(`put ${path} (mode ${octal(opts.mode)}${opts.owner !== undefined ? ` owner ${opts.owner}` : ''}${opts.group !== undefined ? ` group ${opts.group}` : ''})`);
    const po: Parameters<ModuleContext['transport']['put']>[2] = { become: this.ctx.become, mode: opts.mode };
    if (opts.owner !== undefined) po.owner = String(opts.owner);
    if (opts.group !== undefined) po.group = String(opts.group);
    if (this.ctx.timeout > 0) po.timeout = this.ctx.timeout;
    try {
      await this.ctx.transport.put(content, path, po);
    } catch (e) {
      if (e instanceof TransportError && e.reason === 'remote') {
        throw new Fail(`could not write ${path}: ${e.message.replace(/^writing \S+ failed \(rc \d+\): /, '')}; check that the directory exists and is writable by the task's user (become?)`);
      }
      throw e;
    }
  }

  async get(path: string): Promise<Buffer> {
    this.ctx.trace(`get ${path}`);
    try {
      return await this.ctx.transport.get(path, { become: this.ctx.become, ...(this.ctx.timeout > 0 ? { timeout: this.ctx.timeout } : {}) });
    } catch (e) {
      if (e instanceof TransportError && e.reason === 'remote') {
        const m = e.message.replace(/^reading \S+ failed \(rc \d+\): /, '');
        throw new Fail(`could not read ${path}: ${m}${permissionHint(m)}`);
      }
      throw e;
    }
  }

  /** umask, effective uid/gid and user name of the (become) user on the target; asked once per task. */
  env(): Promise<HostEnv> {
    this.envP ??= this.sh(ENV_LINE).then((r) => {
      const e = parseEnv(r.stdout.split('\n').find((l) => l.startsWith('E ')));
      if (r.rc !== 0 || !e) throw new Fail(`could not read the user environment on the target: ${r.stderr.trim()}`);
      return e;
    });
    return this.envP;
  }

  /** Names to resolve with the next probe (saves a round trip when the module later plans owner/group). */
  hint(want: WantAttrs): void {
    if (want.owner !== undefined && !/^\d+$/.test(want.owner) && !this.idCache.has(`u:${want.owner}`)) this.pendingUsers.add(want.owner);
    if (want.group !== undefined && !/^\d+$/.test(want.group) && !this.idCache.has(`g:${want.group}`)) this.pendingGroups.add(want.group);
  }

  private lookupLines(users: Iterable<string>, groups: Iterable<string>): string[] {
    const out: string[] = [];
    for (const u of users) out.push(`printf 'U%s\\t%s\\n' ${shq(u)} "$(id -u -- ${shq(u)} 2>/dev/null)"`);
    for (const g of groups) {
      out.push(
        `g=$(getent group ${shq(g)} 2>/dev/null | cut -d: -f3); [ -n "$g" ] || g=$(awk -F: -v n=${shq(g)} '$1==n{print $3; exit}' /etc/group 2>/dev/null); printf 'G%s\\t%s\\n' ${shq(g)} "$g"`,
      );
    }
    return out;
  }

  private absorb(stdout: string): void {
    for (const line of stdout.split('\n')) {
      if (line === 'B') break;
      if (line.startsWith('E ') && !this.envP) {
        const e = parseEnv(line);
        if (e) this.envP = Promise.resolve(e);
      } else if (line.startsWith('U') || line.startsWith('G')) {
        const [name, id] = line.slice(1).split('\t');
        this.idCache.set(`${line[0] === 'U' ? 'u' : 'g'}:${name}`, id ? Number(id) : null);
      }
    }
  }

  /** Stats paths in one round trip (lstat; optional followed stat, realpath, checksum); also learns env and hinted ids. */
  async probe(paths: string[], opts: ProbeOptions = {}): Promise<FileInfo[]> {
    const ck = opts.checksum ? CHECKSUM_CMD[opts.checksum] ?? '' : '';
    const head = [...(this.envP ? [] : [ENV_LINE]), ...this.lookupLines(this.pendingUsers, this.pendingGroups)];
    this.pendingUsers.clear();
    this.pendingGroups.clear();
    const calls = paths.map((p) => `probe ${shq(p)} ${opts.follow ? 1 : 0} ${shq(ck)}`).join('\n');
    const res = await this.sh(`${PROBE_FN}\n${head.join('\n')}\n${calls}`, { trace: `stat ${paths.join(' ')}` });
    if (res.rc !== 0) throw new Fail(`could not inspect ${paths.join(', ')} on the target: ${res.stderr.trim() || `rc ${res.rc}`}`);
    this.absorb(res.stdout);
    const blocks = res.stdout.split(/^B\n/m).slice(1);
    return paths.map((p, i) => parseProbe(p, blocks[i] ?? ''));
  }

  async stat(path: string, opts: ProbeOptions = {}): Promise<FileInfo> {
    return (await this.probe([path], opts))[0]!;
  }

  /** `~` / `~user` prefix expanded on the target (as the become user), as Ansible's type=path does. */
  async expandUser(p: string): Promise<string> {
    const m = /^~([A-Za-z0-9_.][A-Za-z0-9_.-]*)?(?=\/|$)/.exec(p);
    if (!m) return p;
    const who = m[1] ?? '';
    let home = this.homes.get(who);
    if (home === undefined) {
      const out = await this.shOk(`printf '%s' ~${who}`, `could not expand ~${who}`);
      if (out.startsWith('~')) throw new Fail(`cannot expand ${p}: no user ${who} on the target`);
      home = out;
      this.homes.set(who, home);
    }
    return home + p.slice(m[0].length);
  }

  /** Resolves owner/group names to ids on the target (numeric values pass through; cached per task). */
  async ids(owner: string | undefined, group: string | undefined): Promise<{ uid?: number; gid?: number }> {
    const users = owner !== undefined && !/^\d+$/.test(owner) && !this.idCache.has(`u:${owner}`) ? [owner] : [];
    const groups = group !== undefined && !/^\d+$/.test(group) && !this.idCache.has(`g:${group}`) ? [group] : [];
    if (users.length || groups.length) {
      const res = await this.sh(this.lookupLines(users, groups).join('\n'), { trace: `resolve owner/group ${owner ?? ''} ${group ?? ''}` });
      this.absorb(res.stdout);
    }
    const out: { uid?: number; gid?: number } = {};
    if (owner !== undefined) {
      const v = /^\d+$/.test(owner) ? Number(owner) : this.idCache.get(`u:${owner}`);
      if (v === null || v === undefined) throw new Fail(`chown failed: failed to look up user ${owner}; create the user first (user module) or fix 'owner'`);
      out.uid = v;
    }
    if (group !== undefined) {
      const v = /^\d+$/.test(group) ? Number(group) : this.idCache.get(`g:${group}`);
      if (v === null || v === undefined) throw new Fail(`chgrp failed: failed to look up group ${group}; create the group first or fix 'group'`);
      out.gid = v;
    }
    return out;
  }
}

/** what to do about a permission error on the target */
function permissionHint(err: string): string {
  return /Permission denied|Operation not permitted/.test(err) ? " (the task's user lacks the permission: use become, or fix the ownership)" : '';
}

const ENV_LINE = `printf 'E %s %s %s %s\\n' "$(umask)" "$(id -u)" "$(id -g)" "$(id -un)"`;

function parseEnv(line: string | undefined): HostEnv | undefined {
  if (!line) return undefined;
  const [, u, uid, gid, user] = line.trim().split(/\s+/);
  if (uid === undefined) return undefined;
  return { umask: parseInt(u ?? '022', 8), euid: Number(uid), egid: Number(gid), user: user ?? '' };
}

function parseProbe(path: string, block: string): FileInfo {
  let info: FileInfo = ABSENT(path);
  for (const line of block.split('\n')) {
    if (line.startsWith('S ')) {
      const s = parseStatLine(path, line.slice(2));
      if (s) info = s;
    } else if (line.startsWith('L')) info.linkTarget = line.slice(1);
    else if (line.startsWith('R')) info.realpath = line.slice(1);
    else if (line.startsWith('T ')) {
      const t = parseStatLine(info.realpath ?? path, line.slice(2));
      if (t) info.target = t;
    } else if (line.startsWith('A')) {
      const a = line.slice(1);
      info.readable = a.includes('r');
      info.writeable = a.includes('w');
      info.executable = a.includes('x');
    } else if (line.startsWith('C')) info.checksum = line.slice(1);
  }
  return info;
}

// ───────────────────────────────────────────── modes ─────────────────────────────────────────────

export function octal(mode: number): string {
  return '0' + mode.toString(8).padStart(3, '0');
}

const PERM_BITS = 0o7777;

/**
 * Ansible's mode semantics: int = the mode itself; a string is octal if it parses as one ("644", "0644"),
 * otherwise symbolic ("u=rw,g=r,o=", "a+X"), applied to `current` (an empty `who` honours the umask,
 * `X` applies to directories and already-executable files). `preserve` is resolved by the caller.
 */
export function resolveMode(v: unknown, current: number, isDir: boolean, umask: number): number {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > PERM_BITS) throw new ModuleArgError(`invalid mode ${v}: only permission bits (0-07777) are allowed`);
    return v;
  }
  const s = String(v).trim();
  if (/^[0-7]+$/.test(s)) {
    const n = parseInt(s, 8);
    if (n > PERM_BITS) throw new ModuleArgError(`invalid mode '${s}': only permission info is allowed`);
    return n;
  }
  return symbolicMode(s, current, isDir, umask);
}

export function symbolicMode(spec: string, current: number, isDir: boolean, umask: number): number {
  let mode = current & PERM_BITS;
  for (const clause of spec.split(',')) {
    const m = /^([ugoa]*)((?:[-+=][rwxXstugo]*)+)$/.exec(clause);
    if (!m) throw new ModuleArgError(`mode must be in octal or symbolic form: bad symbolic permission '${clause}' in '${spec}'`);
    const whoRaw = m[1]!;
    const useUmask = whoRaw === '';
    const who = whoRaw === '' || whoRaw.includes('a') ? 'ugo' : whoRaw;
    for (const op of m[2]!.matchAll(/([-+=])([rwxXstugo]*)/g)) {
      for (const u of who) {
        const bits = permBits(mode, u as 'u' | 'g' | 'o', op[2]!, useUmask, umask, isDir);
        mode = applyOp(u as 'u' | 'g' | 'o', op[1]!, bits, mode);
      }
    }
  }
  return mode;
}

function permBits(prev: number, user: 'u' | 'g' | 'o', perms: string, useUmask: boolean, umask: number, isDir: boolean): number {
  const rev = umask ^ PERM_BITS;
  const mask = (b: number): number => (useUmask ? rev & b : b);
  const applyX = isDir || (prev & 0o111) > 0;
  const shift = { u: 6, g: 3, o: 0 }[user];
  const table: Record<string, number> = {
    r: mask(0o4 << shift),
    w: mask(0o2 << shift),
    x: mask(0o1 << shift),
    X: applyX ? 0o1 << shift : 0,
    s: user === 'u' ? 0o4000 : user === 'g' ? 0o2000 : 0,
    t: user === 'o' ? 0o1000 : 0,
    u: (((prev >> 6) & 7) << shift) & 0o777,
    g: (((prev >> 3) & 7) << shift) & 0o777,
    o: ((prev & 7) << shift) & 0o777,
  };
  let out = 0;
  for (const p of perms) out |= table[p] ?? 0;
  return out;
}

function applyOp(user: 'u' | 'g' | 'o', op: string, bits: number, cur: number): number {
  if (op === '=') {
    const m = user === 'u' ? 0o4700 : user === 'g' ? 0o2070 : 0o1007;
    return (cur & (m ^ PERM_BITS)) | bits;
  }
  if (op === '+') return cur | bits;
  return cur - (cur & bits);
}

// ───────────────────────────────────────────── attributes ─────────────────────────────────────────────

export interface WantAttrs {
  mode?: unknown;
  owner?: string;
  group?: string;
}

export function wantAttrs(args: Record<string, unknown>, ctx?: ModuleContext, r?: Remote): WantAttrs {
  const w: WantAttrs = {};
  if (args.mode !== undefined && args.mode !== null && args.mode !== '') w.mode = args.mode;
  const o = strArg(args, 'owner');
  const g = strArg(args, 'group');
  if (o) w.owner = o;
  if (g) w.group = g;
  if (ctx) warnIgnored(ctx, args, ['seuser', 'serole', 'setype', 'selevel', 'attributes', 'attr'], 'SELinux contexts and chattr attributes are not managed by this runner');
  r?.hint(w);
  return w;
}

export interface AttrPlan {
  uid?: [number, number];
  gid?: [number, number];
  mode?: [number, number];
}

export function attrPlanEmpty(p: AttrPlan): boolean {
  return !p.uid && !p.gid && !p.mode;
}

/** What chown/chgrp/chmod would change on `info` (an existing path; for links: the link itself, mode skipped). */
export async function planAttrs(r: Remote, info: FileInfo, want: WantAttrs): Promise<AttrPlan> {
  const plan: AttrPlan = {};
  if (!info.exists) return plan;
  const ids = await r.ids(want.owner, want.group);
  if (ids.uid !== undefined && ids.uid !== info.uid) plan.uid = [info.uid, ids.uid];
  if (ids.gid !== undefined && ids.gid !== info.gid) plan.gid = [info.gid, ids.gid];
  if (want.mode !== undefined && info.kind !== 'link') {
    const env = await r.env();
    const m = resolveMode(want.mode, info.mode, info.kind === 'directory', env.umask);
    if (m !== info.mode) plan.mode = [info.mode, m];
  }
  return plan;
}

export async function applyAttrs(r: Remote, path: string, plan: AttrPlan): Promise<void> {
  const cmds: string[] = [];
  if (plan.uid) cmds.push(`chown -h ${plan.uid[1]} -- ${shq(path)}`);
  if (plan.gid) cmds.push(`chgrp -h ${plan.gid[1]} -- ${shq(path)}`);
  // chown clears suid/sgid: chmod last
  if (plan.mode) cmds.push(`chmod ${plan.mode[1].toString(8)} -- ${shq(path)}`);
  if (cmds.length === 0) return;
  const what = plan.uid ? 'chown failed' : plan.gid ? 'chgrp failed' : 'chmod failed';
  await r.shOk(cmds.join(' && '), `${what} on ${path}`);
}

/** The attribute part of a diff, as Ansible's before/after dicts (owner/group as ids, mode as '0644'). */
export function attrDiff(plan: AttrPlan, before: Record<string, unknown>, after: Record<string, unknown>): void {
  if (plan.uid) {
    before.owner = plan.uid[0];
    after.owner = plan.uid[1];
  }
  if (plan.gid) {
    before.group = plan.gid[0];
    after.group = plan.gid[1];
  }
  if (plan.mode) {
    before.mode = octal(plan.mode[0]);
    after.mode = octal(plan.mode[1]);
  }
}

/** Renders a before/after dict pair (Ansible's dict diffs) as text for FileDiff. */
export function dictDiff(before: Record<string, unknown>, after: Record<string, unknown>, header?: string): FileDiff {
  const render = (d: Record<string, unknown>): string =>
    Object.entries(d)
      .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}\n`)
      .join('');
  const d: FileDiff = { before: render(before), after: render(after) };
  if (header) {
    d.before_header = header;
    d.after_header = header;
  }
  return d;
}

/** Ansible's add_path_info(): uid, gid, owner, group, mode, state, size of the path (lstat). */
export function pathInfo(i: FileInfo): Record<string, unknown> {
  if (!i.exists) return {};
  return { uid: i.uid, gid: i.gid, owner: i.owner, group: i.group, mode: octal(i.mode), state: stateOf(i), size: i.size };
}

// ───────────────────────────────────────────── content ─────────────────────────────────────────────

export function sha1(b: string | Uint8Array): string {
  return createHash('sha1').update(b).digest('hex');
}

export function md5(b: string | Uint8Array): string {
  return createHash('md5').update(b).digest('hex');
}

/** Ansible's max_diff_size (bytes): bigger or binary contents are not shown in diffs. */
export const MAX_DIFF_SIZE = 104448;

export function diffText(b: Uint8Array | undefined, what: string): string {
  if (!b) return '';
  if (b.length > MAX_DIFF_SIZE) return `(${what} is larger than ${MAX_DIFF_SIZE} bytes: not shown)\n`;
  if (b.subarray(0, 8192).includes(0)) return `(${what} is binary: not shown)\n`;
  return Buffer.from(b).toString('utf8');
}

/** Python's json.dumps() defaults (', ' and ': ' separators, ASCII escapes) for copy's dict/list content. */
export function pyJsonDumps(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v).includes('e') ? String(v) : String(v);
  if (typeof v === 'string') return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  if (Array.isArray(v)) return '[' + v.map(pyJsonDumps).join(', ') + ']';
  if (typeof v === 'object') return '{' + Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyJsonDumps(k)}: ${pyJsonDumps(x)}`).join(', ') + '}';
  return JSON.stringify(String(v));
}

// ───────────────────────────────────────────── writing files ─────────────────────────────────────────────

export interface WriteRequest {
  /** path written (symlinks already resolved by the caller when it follows them) */
  dest: string;
  /** the new content, or a function opening it (large controller files are streamed) */
  content?: Uint8Array | (() => Readable);
  /** instead of content: a file on the target to copy (copy's remote_src) */
  remoteSrc?: string;
  /** lstat of dest before the write */
  before: FileInfo;
  want: WantAttrs;
  backup?: boolean;
  validate?: string;
}

export interface WritePlan {
  /** final mode / ids the new file gets */
  mode: number;
  uid?: number;
  gid?: number;
  /** attribute changes compared with the file as it was (or with a default new file) */
  attrs: AttrPlan;
}

/**
 * Mode/owner/group the written file will have: wanted values, else (existing file) its current ones —
 * Ansible's atomic_move keeps them — else a new file's default (0666 & ~umask, the writing user).
 */
export async function planWrite(r: Remote, before: FileInfo, want: WantAttrs): Promise<WritePlan> {
  const env = await r.env();
  const exists = before.exists && before.kind !== 'link';
  const base = exists ? before.mode : 0o666 & ~env.umask;
  const mode = want.mode !== undefined ? resolveMode(want.mode, base, false, env.umask) : base;
  const ids = await r.ids(want.owner, want.group);
  const curUid = exists ? before.uid : env.euid;
  const curGid = exists ? before.gid : env.egid;
  const attrs: AttrPlan = {};
  if (ids.uid !== undefined && ids.uid !== curUid) attrs.uid = [curUid, ids.uid];
  if (ids.gid !== undefined && ids.gid !== curGid) attrs.gid = [curGid, ids.gid];
  if (mode !== base) attrs.mode = [base, mode];
  const plan: WritePlan = { mode, attrs };
  const root = env.euid === 0;
  const uid = ids.uid ?? (exists && root ? before.uid : undefined);
  const gid = ids.gid ?? (exists && root ? before.gid : undefined);
  if (uid !== undefined) plan.uid = uid;
  if (gid !== undefined) plan.gid = gid;
  return plan;
}

/** Makes a date-stamped copy of `path` (Ansible's backup_local naming); returns the backup's path. */
export async function backupFile(r: Remote, path: string): Promise<string> {
  const out = await r.shOk(
    `p=${shq(path)}; b="$p.$$.$(date +%Y-%m-%d@%H:%M:%S)~"; cp -p -- "$p" "$b" && printf '%s' "$b"`,
    `could not make a backup of ${path}`,
  );
  return out;
}

function body(c: WriteRequest['content']): Uint8Array | Readable {
  if (c === undefined) throw new Error('no content to write');
  return typeof c === 'function' ? c() : c;
}

function tmpBeside(dest: string, tag: string): string {
  const slash = dest.lastIndexOf('/');
  const dir = slash < 0 ? '.' : slash === 0 ? '/' : dest.slice(0, slash);
  const base = dest.slice(slash + 1);
  return `${dir === '/' ? '' : dir}/.${base}.burrow-${tag}-${Math.random().toString(36).slice(2, 10)}`;
}

/** copy with remote_src: cp to a temp file beside dest, attributes, optional validate, rename. */
async function copyRemote(r: Remote, req: WriteRequest, plan: WritePlan): Promise<void> {
  const tmp = tmpBeside(req.dest, 'copy');
  const steps = [`t=${shq(tmp)}`, 'umask 077', `cp -- ${shq(req.remoteSrc!)} "$t"`];
  if (plan.uid !== undefined) steps.push(`chown ${plan.uid} "$t"`);
  if (plan.gid !== undefined) steps.push(`chgrp ${plan.gid} "$t"`);
  steps.push(`chmod ${plan.mode.toString(8)} "$t"`);
  await r.shOk(`${steps.join(' && ')} || { rm -f -- "$t"; exit 1; }`, `failed to copy: ${req.remoteSrc} to ${req.dest}`);
  if (req.validate) await runValidate(r, req, tmp);
  await r.shOk(`mv -f -- ${shq(tmp)} ${shq(req.dest)} || { rm -f -- ${shq(tmp)}; exit 1; }`, `could not move the new file into ${req.dest}`);
}

async function runValidate(r: Remote, req: WriteRequest, tmp: string): Promise<void> {
  const cmd = req.validate!.replace(/%%|%s/g, (m) => (m === '%%' ? '%' : shq(tmp)));
  const res = await r.sh(cmd);
  if (res.rc !== 0) {
    await r.sh(`rm -f -- ${shq(tmp)}`);
    throw new Fail(`failed to validate the new content of ${req.dest} (rc ${res.rc}): ${(res.stderr.trim() || res.stdout.trim()).slice(0, 2000)}; nothing was changed`, {
      exit_status: res.rc,
      stdout: res.stdout,
      stderr: res.stderr,
    });
  }
}

/** Runs `validate` (with %s = a temp file holding the new content) then moves it into place. */
async function putValidated(r: Remote, req: WriteRequest, plan: WritePlan): Promise<void> {
  const tmp = tmpBeside(req.dest, 'validate');
  await r.put(body(req.content), tmp, { mode: plan.mode, ...(plan.uid !== undefined ? { owner: plan.uid } : {}), ...(plan.gid !== undefined ? { group: plan.gid } : {}) });
  await runValidate(r, req, tmp);
  await r.shOk(`mv -f -- ${shq(tmp)} ${shq(req.dest)} || { rm -f -- ${shq(tmp)}; exit 1; }`, `could not move the validated file into ${req.dest}`);
}

/** Writes the file (after backup / validate); returns the backup's path when one was made. */
export async function writeFile(r: Remote, req: WriteRequest, plan: WritePlan): Promise<string | undefined> {
  let backup: string | undefined;
  if (req.backup && req.before.exists) backup = await backupFile(r, req.dest);
  if (req.validate && !req.validate.includes('%s')) throw new Fail(`validate must contain %s: ${req.validate}`);
  // a symlink at dest (not followed) is replaced by the rename itself: atomic, like the file it becomes
  if (req.remoteSrc !== undefined) await copyRemote(r, req, plan);
  else if (req.validate) await putValidated(r, req, plan);
  else
    await r.put(body(req.content), req.dest, { mode: plan.mode, ...(plan.uid !== undefined ? { owner: plan.uid } : {}), ...(plan.gid !== undefined ? { group: plan.gid } : {}) });
  if (plan.mode & 0o6000 && (plan.uid !== undefined || plan.gid !== undefined)) await r.shOk(`chmod ${plan.mode.toString(8)} -- ${shq(req.dest)}`, `chmod failed on ${req.dest}`);
  return backup;
}

export function parentDir(p: string): string {
  const i = p.replace(/\/+$/, '').lastIndexOf('/');
  if (i < 0) return '.';
  if (i === 0) return '/';
  return p.slice(0, i);
}

export function baseName(p: string): string {
  const t = p.replace(/\/+$/, '');
  return t.slice(t.lastIndexOf('/') + 1);
}

export function joinPath(a: string, b: string): string {
  if (b.startsWith('/')) return b;
  return a.endsWith('/') ? a + b : `${a}/${b}`;
}

/** The argument name closest to a misspelt one (for 'did you mean'). */
function suggest(word: string, names: readonly string[]): string | undefined {
  return closestWord(word, names)?.match;
}
