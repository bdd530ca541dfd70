/**
 * Shared machinery of the system modules (command, package, service, uri, k8s, helm …):
 *  - a small argument schema per module (types, aliases, choices, defaults) that gives Ansible's
 *    "Unsupported parameters" / "value of X must be one of" checks both at load time (`validate`, on literal
 *    values) and at run time (after templating);
 *  - `defineModule`, which turns `Fail` and argument errors into `{failed: true, msg}` and lets transport
 *    errors (unreachable host, become failure, command timeout) through to the executor;
 *  - `sh()`, the one place a system module runs a command: become and timeout are passed on every call;
 *  - Python-compatible helpers whose exact behaviour decides results: `shlex.split` (command module),
 *    `str.splitlines`, `str(datetime)` / `str(timedelta)`, Python regex → JS regex.
 *
 * Command tracing for -vvv is done by the executor's task transport for every exec, so modules do not call
 * `ctx.trace` themselves (that would record each command twice).
 */
import { floorModules } from '../../playbook/floor-modules.js';
import { closest as closestWord } from '../../core/suggest.js';
import type { Action, ArgProblem } from '../../playbook/types.js';
import { TransportError } from '../../transport/errors.js';
import type { ExecOptions, ExecResult } from '../../transport/types.js';
import { argBool, ModuleArgError, shq, type Module, type ModuleContext, type ModuleResult } from '../types.js';

export { argBool, ModuleArgError, shq };

// ───────────────────────────────────────────── failures ─────────────────────────────────────────────

/** A module failure on a reachable host: becomes `{changed: false, failed: true, msg, ...extra}`. */
export class Fail extends Error {
  readonly extra: Record<string, unknown>;
  constructor(msg: string, extra: Record<string, unknown> = {}) {
    super(msg);
    this.extra = extra;
  }
}

// ───────────────────────────────────────────── argument schema ─────────────────────────────────────────────

export type ArgType = 'str' | 'bool' | 'int' | 'float' | 'list' | 'dict' | 'raw' | 'path';

export interface ArgDef {
  type?: ArgType;
  /** list element type (default str for lists) */
  elements?: 'str' | 'dict' | 'raw' | 'int';
  default?: unknown;
  choices?: readonly (string | number | boolean)[];
  aliases?: readonly string[];
  /** required at run time (load-time requirements come from the loader's floor rules) */
  required?: boolean;
}

export type ArgSpec = Record<string, ArgDef>;

const TEMPLATE = /\{\{|\{%/;

function allNames(spec: ArgSpec): string[] {
  const out: string[] = [];
  for (const [k, d] of Object.entries(spec)) out.push(k, ...(d.aliases ?? []));
  return out;
}



function unsupported(module: string, spec: ArgSpec, keys: readonly string[]): ArgProblem[] {
  const names = allNames(spec);
  const out: ArgProblem[] = [];
  for (const k of keys) {
    if (names.includes(k) || k.startsWith('_ansible_')) continue;
    const s = closest(k, names);
    out.push({
      message: `Unsupported parameters for (${module}) module: ${k}`,
      arg: k,
      hint: s ? `did you mean '${s}'?` : `supported parameters: ${[...names].sort().join(', ')}`,
    });
  }
  return out;
}

function pyStr(v: unknown): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Coerce one value to its declared type (Ansible's argument-spec conversions). */
function coerce(module: string, name: string, d: ArgDef, v: unknown): unknown {
  const t = d.type ?? 'str';
  const bad = (what: string): never => {
    throw new ModuleArgError(`argument '${name}' is of type ${Array.isArray(v) ? 'list' : typeof v} and we were unable to convert to ${what}`);
  };
  switch (t) {
    case 'raw':
      return v;
    case 'str':
    case 'path': {
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean') return pyStr(v);
      return bad('str');
    }
    case 'bool':
      return argBool(v, name);
    case 'int': {
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) return Number(v);
      if (typeof v === 'number' && Number.isInteger(Math.trunc(v)) && v === Math.trunc(v)) return v;
      return bad('int');
    }
    case 'float': {
      if (typeof v === 'number') return v;
      if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
      return bad('float');
    }
    case 'dict': {
      if (v && typeof v === 'object' && !Array.isArray(v)) return v;
      if (typeof v === 'string') {
        const s = v.trim();
        if (s.startsWith('{')) {
          try {
            return JSON.parse(s) as unknown;
          } catch {
            return bad('dict');
          }
        }
        // k=v k2=v2
        const out: Record<string, string> = {};
        for (const part of s.split(/[\s,]+/).filter(Boolean)) {
          const i = part.indexOf('=');
          if (i <= 0) return bad('dict');
          out[part.slice(0, i)] = part.slice(i + 1);
        }
        return out;
      }
      return bad('dict');
    }
    case 'list': {
      let items: unknown[];
      if (Array.isArray(v)) items = v;
      else if (typeof v === 'string') items = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
      else if (typeof v === 'number' || typeof v === 'boolean') items = [pyStr(v)];
      else if (v && typeof v === 'object') items = [v];
      else return bad('list');
      const el = d.elements ?? 'str';
      if (el === 'str') return items.map((x) => (typeof x === 'string' ? x : typeof x === 'number' || typeof x === 'boolean' ? pyStr(x) : bad(`list of str (element ${pyStr(x)})`)));
      if (el === 'int') return items.map((x) => coerce(module, `${name} element`, { type: 'int' }, x));
      if (el === 'dict') return items.map((x) => coerce(module, `${name} element`, { type: 'dict' }, x));
      return items;
    }
  }
}

/** Typed view of a module's arguments after the schema has been applied. */
export class Args {
  readonly values: Record<string, unknown>;
  /** arguments the user set (canonical names), as opposed to defaults */
  readonly given: Set<string>;
  constructor(values: Record<string, unknown>, given: Set<string>) {
    this.values = values;
    this.given = given;
  }
  has(k: string): boolean {
    return this.given.has(k);
  }
  str(k: string): string | undefined {
    const v = this.values[k];
    return v === undefined || v === null ? undefined : (v as string);
  }
  req(k: string): string {
    const v = this.str(k);
    if (v === undefined || v === '') throw new ModuleArgError(`missing required arguments: ${k}`);
    return v;
  }
  bool(k: string): boolean {
    return this.values[k] === true;
  }
  /** tri-state boolean: undefined when not given and no default */
  optBool(k: string): boolean | undefined {
    const v = this.values[k];
    return v === undefined || v === null ? undefined : (v as boolean);
  }
  int(k: string): number | undefined {
    const v = this.values[k];
    return v === undefined || v === null ? undefined : (v as number);
  }
  num(k: string): number | undefined {
    return this.int(k);
  }
  list(k: string): string[] | undefined {
    const v = this.values[k];
    return v === undefined || v === null ? undefined : (v as string[]);
  }
  dictList(k: string): Record<string, unknown>[] | undefined {
    const v = this.values[k];
    return v === undefined || v === null ? undefined : (v as Record<string, unknown>[]);
  }
  dict(k: string): Record<string, unknown> | undefined {
    const v = this.values[k];
    return v === undefined || v === null ? undefined : (v as Record<string, unknown>);
  }
  raw(k: string): unknown {
    return this.values[k];
  }
}

/** Apply the schema at run time: aliases, unknown names, types, choices, defaults, required. */
export function parseArgs(module: string, spec: ArgSpec, args: Record<string, unknown>): Args {
  const bad = unsupported(module, spec, Object.keys(args));
  if (bad.length) {
    throw new ModuleArgError(`${bad.map((b) => b.message).join('; ')}${bad[0]!.hint ? ` (${bad[0]!.hint})` : ''}`);
  }
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  for (const [name, d] of Object.entries(spec)) {
    const keys = [name, ...(d.aliases ?? [])].filter((k) => args[k] !== undefined);
    if (keys.length > 1) {
      const distinct = new Set(keys.map((k) => JSON.stringify(args[k])));
      if (distinct.size > 1) throw new ModuleArgError(`parameters are mutually exclusive: ${keys.join('|')}`);
    }
    let v = keys.length ? args[keys[0]!] : undefined;
    if (v === null) v = undefined;
    if (v !== undefined) {
      given.add(name);
      v = coerce(module, name, d, v);
      if (d.choices && !(d.choices as readonly unknown[]).includes(v)) {
        throw new ModuleArgError(`value of ${name} must be one of: ${d.choices.map(pyStr).join(', ')}, got: ${pyStr(v)}`);
      }
    } else if (d.default !== undefined) {
      v = d.default;
    } else if (d.required) {
      throw new ModuleArgError(`missing required arguments: ${name}`);
    }
    values[name] = v;
  }
  return new Args(values, given);
}

/** Load-time checks on literal (untemplated) values: unknown names and choices. */
function literalProblems(module: string, spec: ArgSpec, a: Readonly<Action>): ArgProblem[] {
  const out = unsupported(module, spec, Object.keys(a.args));
  for (const [name, d] of Object.entries(spec)) {
    if (!d.choices) continue;
    for (const k of [name, ...(d.aliases ?? [])]) {
      const v = a.args[k];
      if (v === undefined || v === null || (typeof v === 'string' && TEMPLATE.test(v))) continue;
      let cv: unknown = v;
      try {
        cv = coerce(module, name, d, v);
      } catch {
        continue;
      }
      if (!(d.choices as readonly unknown[]).includes(cv)) {
        const s = typeof cv === 'string' ? closest(cv, d.choices.map(String)) : undefined;
        out.push({
          message: `value of ${name} must be one of: ${d.choices.map(pyStr).join(', ')}, got: ${pyStr(cv)}`,
          arg: k,
          hint: s ? `did you mean '${s}'?` : `use one of ${d.choices.map(pyStr).join(', ')}`,
        });
      }
    }
  }
  return out;
}

/** Arguments with aliases renamed to their canonical names (when the canonical one is not also given). */
function canonicalArgs(spec: ArgSpec, args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...args };
  for (const [name, d] of Object.entries(spec)) {
    for (const al of d.aliases ?? []) {
      if (al in out && !(name in out)) {
        out[name] = out[al];
        delete out[al];
      }
    }
  }
  return out;
}

const FLOOR = floorModules();

export interface ModuleDef {
  name: string;
  spec: ArgSpec;
  /** accepts free-form text (command, shell, raw) */
  freeForm?: boolean;
  freeFormKeys?: readonly string[];
  /** extra load-time checks */
  check?(action: Readonly<Action>): ArgProblem[];
  run(a: Args, ctx: ModuleContext, freeForm: string | undefined, raw: Record<string, unknown>): Promise<ModuleResult>;
}

/**
 * Builds a Module: `validate` = the loader's floor rules + unsupported names + literal choices;
 * `run` parses the arguments and turns Fail / ModuleArgError into `{failed: true, msg}` (never a stack).
 * Transport errors (unreachable, become, command timeout) go to the executor, which reports them.
 */
export function defineModule(def: ModuleDef): Module {
  const floor = FLOOR.get(def.name);
  const m: Module = {
    name: def.name,
    validate(a: Readonly<Action>): ArgProblem[] {
      // the floor rules know canonical names only (`package: pkg: x` must not be "missing name")
      const out = floor?.validate ? floor.validate({ ...a, args: canonicalArgs(def.spec, a.args) }) : [];
      if (a.varParams !== undefined) return out;
      out.push(...literalProblems(def.name, def.spec, a));
      if (def.check) out.push(...def.check(a));
      return out;
    },
    async run(args, ctx, freeForm) {
      try {
        const a = parseArgs(def.name, def.spec, args);
        return await def.run(a, ctx, freeForm, args);
      } catch (e) {
        if (e instanceof Fail) return { changed: false, ...e.extra, failed: true, msg: e.message };
        if (e instanceof ModuleArgError) return { changed: false, failed: true, msg: e.message };
        if (e instanceof TransportError && e.reason === 'remote') return { changed: false, failed: true, msg: e.message };
        throw e;
      }
    },
  };
  const ff = def.freeForm ?? floor?.freeForm;
  if (ff) m.freeForm = true;
  const ffk = def.freeFormKeys ?? floor?.freeFormKeys;
  if (ffk) m.freeFormKeys = ffk;
  return m;
}

// ───────────────────────────────────────────── running commands ─────────────────────────────────────────────

export interface ShOptions extends Omit<ExecOptions, 'become'> {
  /** override the task's become (e.g. `false` for a read-only probe that needs no privileges) */
  become?: ExecOptions['become'];
}

/** Run a POSIX sh command line on the module's transport with the task's become (unless overridden). */
export function sh(ctx: ModuleContext, cmd: string, opts: ShOptions = {}): Promise<ExecResult> {
  const o: ExecOptions = { ...opts, become: 'become' in opts ? opts.become : ctx.become };
  if (o.timeout === undefined && ctx.timeout > 0) o.timeout = ctx.timeout;
  return ctx.transport.exec(cmd, o);
}

/** A command line from argv: every word quoted for POSIX sh. */
export function argvLine(argv: readonly string[]): string {
  return argv.map(shq).join(' ');
}

/** Per-command timeout for a command with its own bound (`own` seconds): never shorter than that bound. */
export function boundedTimeout(ctx: ModuleContext, own: number): number {
  const t = Math.ceil(own) + 30;
  return ctx.timeout > 0 ? Math.max(ctx.timeout, t) : t;
}

/** Last lines of a command's error output, for a one-line failure message. */
export function tail(text: string, lines = 5): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** Sleep that ends early (resolving false) when the run is interrupted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.max(0, ms));
    const onAbort = (): void => {
      clearTimeout(t);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// ───────────────────────────────────────────── Python-compatible helpers ─────────────────────────────────────────────

/** Python's str.splitlines(): every line boundary Python knows, no trailing empty line. */
const LINE_BREAKS = new Set([0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029]);
export function splitlines(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!LINE_BREAKS.has(c)) continue;
    out.push(s.slice(start, i));
    if (c === 0x0d && s.charCodeAt(i + 1) === 0x0a) i++;
    start = i + 1;
  }
  if (start < s.length) out.push(s.slice(start));
  return out;
}

/** High-resolution wall clock in microseconds since the epoch. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** Python str(datetime.datetime.now()): `2024-05-01 12:34:56.123456` (local time). */
export function pyDatetime(us: number): string {
  const d = new Date(Math.floor(us / 1000));
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const frac = ((us % 1_000_000) + 1_000_000) % 1_000_000;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(frac, 6)}`;
}

/** Python str(timedelta): `0:00:01.234567`, `1 day, 2:03:04.000005`. */
export function pyTimedelta(us: number): string {
  const neg = us < 0;
  let v = Math.abs(Math.round(us));
  const micro = v % 1_000_000;
  v = Math.floor(v / 1_000_000);
  const days = Math.floor(v / 86400);
  v %= 86400;
  const h = Math.floor(v / 3600);
  const m = Math.floor((v % 3600) / 60);
  const s = v % 60;
  const hms = `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}${micro ? `.${String(micro).padStart(6, '0')}` : ''}`;
  const out = days ? `${days} day${days === 1 ? '' : 's'}, ${hms}` : hms;
  return neg ? `-${out}` : out;
}

export class ShlexError extends Error {}

/**
 * Python's shlex.split(s) (posix, no comments — what the command module uses): quotes removed, a backslash
 * escapes the next character outside quotes, inside double quotes only before `\` `"` (and `$` `` ` ``
 * is not special in shlex), nothing inside single quotes. Written by hand: the rules are Python's, not a shell's.
 */
export function shlexSplit(s: string): string[] {
  const out: string[] = [];
  let tok = '';
  let has = false;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (has) {
        out.push(tok);
        tok = '';
        has = false;
      }
      i++;
    } else if (c === "'") {
      const j = s.indexOf("'", i + 1);
      if (j < 0) throw new ShlexError('No closing quotation');
      tok += s.slice(i + 1, j);
      has = true;
      i = j + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = s[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < n && (s[i + 1] === '\\' || s[i + 1] === '"')) {
          tok += s[i + 1];
          i += 2;
          continue;
        }
        tok += d;
        i++;
      }
      if (!closed) throw new ShlexError('No closing quotation');
      has = true;
    } else if (c === '\\') {
      if (i + 1 >= n) throw new ShlexError('No escaped character');
      tok += s[i + 1];
      has = true;
      i += 2;
    } else {
      tok += c;
      has = true;
      i++;
    }
  }
  if (has) out.push(tok);
  return out;
}

/**
 * A Python `re` pattern as a JS RegExp (the subset that differs in syntax: `(?P<n>…)`, `(?P=n)`, inline
 * `(?i)`/`(?m)`/`(?s)` flags at the start, `\Z`, `\A`). `flags` are added (Ansible's wait_for uses re.M).
 */
export function pyRegex(pattern: string, flags = ''): RegExp {
  let p = pattern;
  let f = flags;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(p);
  if (inline) {
    p = p.slice(inline[0].length);
    for (const ch of inline[1]!) if ('ims'.includes(ch) && !f.includes(ch)) f += ch;
  }
  p = p
    .replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>')
    .replace(/\\Z/g, '$(?![\\s\\S])')
    .replace(/\\A/g, '^(?<![\\s\\S])');
  try {
    return new RegExp(p, f.includes('u') ? f : f + 'u');
  } catch {
    return new RegExp(p, f);
  }
}

/** Quote a glob pattern for sh: glob characters stay active, everything else is literal. */
export function globQuote(pattern: string): string {
  const re = /\*|\?|\[[!^]?[A-Za-z0-9_.,:-]+\]/g;
  let out = '';
  let last = 0;
  for (const m of pattern.matchAll(re)) {
    if (m.index! > last) out += shq(pattern.slice(last, m.index));
    out += m[0];
    last = m.index! + m[0].length;
  }
  if (last < pattern.length) out += shq(pattern.slice(last));
  return out || "''";
}

/** A unique marker for output parsing. */
export function marker(tag: string): string {
  return `@@BURROW-${tag}-${Math.random().toString(36).slice(2, 10)}@@`;
}

/** The argument name closest to a misspelt one (for 'did you mean'). */
function closest(word: string, names: readonly string[]): string | undefined {
  return closestWord(word, names)?.match;
}
