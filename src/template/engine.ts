/**
 * The rendering engine: one MiniJinja (minijinja-js, WASM) environment per nesting depth, compiled templates
 * cached by content, and the glue that gives Jinja2/Ansible output on top of MiniJinja:
 *
 *  - Printing. MiniJinja prints `true`, `none`, `["a"]`; Jinja2 prints Python's `str()`: `True`, `['a']`,
 *    and Ansible's finalize prints None as ''. minijinja-js 2.11 has no finalizer hook, so every `{{ expr }}`
 *    is rewritten to `{{ __p((expr)) }}`, a macro that dispatches on the value's type inside MiniJinja (where
 *    int and float are still distinct) and hands only containers to a JavaScript repr. Expressions whose last
 *    filter returns a string are left alone (no cost).
 *  - Float-returning filters (`round`, `pow`, `log`, `root`) get `| float` appended, because a JavaScript
 *    filter cannot return a float with an integral value (2.0 comes back as int 2).
 *  - Errors. A JavaScript callback that throws panics the WASM module (minijinja-js 2.11 unwraps the call),
 *    so every filter, test and lookup runs guarded: the first error is parked in the current frame and
 *    re-thrown after MiniJinja returns. MiniJinja's "undefined value" message has no name; the failing
 *    template is rendered once more in a debug environment whose report carries the span (line, column,
 *    the failing `a.b` text), which becomes TemplateError.variable/name/line/col.
 *  - Undefined. Ansible's AnsibleUndefined is Jinja2's StrictUndefined, except that an attribute or item of
 *    an undefined value is the same undefined value instead of an error. MiniJinja's `strict` mode gives
 *    StrictUndefined; the chained access is added by `guardChains` where it matters: an access chain that
 *    `default`/`d`/`mandatory` or a test like `is defined` consumes has each receiver wrapped,
 *    `a.b.c | default(1)` → `((a | default(none)).b | default(none)).c | default(1)` (`none.x` is undefined).
 *    Every other use of an undefined value (printing, `if`, `for`, operators, other filters) keeps failing
 *    at the access, with the name. The inserted text is recorded so that error columns and names are
 *    reported in the template's own text.
 *  - Re-entrancy: a lookup that renders (lookup('template')) may not re-enter the environment that is
 *    rendering; each nesting depth has its own environment.
 */
import { createRequire } from 'node:module';
import { PluginError, TemplateError } from './errors.js';
import {
  delimitersOf, doubleBackslashesInStrings, HeaderError, isStandard, isStringLiteral, lastFilter, lineCol, LexError, parseHeader,
  scan, tokenize, type Delimiters, type HeaderOverrides, type Segment, type Tok,
} from './lexer.js';
import { literalEval, plain, pyFloat, pyRepr } from './pyvalue.js';

export interface MjEnvironment {
  addTemplate(name: string, source: string): void;
  removeTemplate(name: string): void;
  clearTemplates(): void;
  renderTemplate(name: string, ctx: unknown): string;
  renderStr(source: string, ctx: unknown): string;
  evalExpr(expr: string, ctx: unknown): unknown;
  addFilter(name: string, fn: (...args: unknown[]) => unknown): void;
  addTest(name: string, fn: (...args: unknown[]) => unknown): void;
  addGlobal(name: string, value: unknown): void;
  enablePyCompat(): void;
  free(): void;
  debug: boolean;
  trimBlocks: boolean;
  lstripBlocks: boolean;
  keepTrailingNewline: boolean;
  undefinedBehavior: 'strict' | 'chainable' | 'lenient' | 'semi_strct';
}

export type PluginFn = (...args: unknown[]) => unknown;

/** Filters, tests and globals installed in every environment (see filters.ts). */
export interface PluginSet {
  filters: Map<string, PluginFn>;
  tests: Map<string, PluginFn>;
  globals: Map<string, PluginFn>;
}

export interface TextOptions {
  /** default true (Ansible) */
  trimBlocks?: boolean;
  /** default false */
  lstripBlocks?: boolean;
  /** Jinja2's keep_trailing_newline, default false */
  keepTrailingNewline?: boolean;
  /** Ansible's preserve_trailing_newlines: restore as many trailing newlines as the source had (default true) */
  preserveTrailingNewlines?: boolean;
  /** Ansible's escape_backslashes for templated strings (default false; renderString turns it on) */
  escapeBackslashes?: boolean;
  /** honour a `#jinja2:` first line (default true) */
  header?: boolean;
}

interface Settings {
  trim: boolean;
  lstrip: boolean;
  keep: boolean;
  esc: boolean;
  delims: Delimiters;
}

interface Compiled {
  name: string;
  /** the template as MiniJinja sees it, without the printing wrappers: what diagnostics render */
  plainSource: string;
  /** output starts with one newline that belongs to the wrapper prelude */
  prelude: boolean;
  /** text guardChains inserted into plainSource, as [offset, length] ascending */
  inserts: Inserts;
}

/** Text inserted by a rewrite, as [offset in the rewritten text, length], ascending. */
export type Inserts = [number, number][];

interface Frame {
  error?: unknown;
  plugin?: string;
  data: unknown;
}

/** Filters whose Python result is a str: their output prints the same in MiniJinja, no wrapper needed. */
const STRING_FILTERS = new Set([
  'lower', 'upper', 'join', 'replace', 'regex_replace', 'regex_escape', 'b64encode', 'b64decode', 'to_json',
  'to_nice_json', 'to_yaml', 'to_nice_yaml', 'indent', 'basename', 'dirname', 'quote', 'trim', 'string', 'hash',
  'checksum', 'password_hash', 'comment', 'title', 'capitalize', 'center', 'urlencode', 'e', 'escape', 'safe',
  'tojson', 'realpath', 'expanduser', 'win_basename', 'win_dirname', 'strftime', 'to_uuid', 'md5', 'sha1', 'format',
  'int', 'length', 'count', 'wordcount', 'filesizeformat', 'truncate', 'wordwrap', 'striptags', 'forceescape',
]);
/** Filters that return floats in Python; `| float` restores the type MiniJinja loses at the JS boundary. */
const FLOAT_FILTERS = new Set(['round', 'pow', 'log', 'root']);
/** Ansible's STRING_TYPE_FILTERS: a single expression ending in one of these is never literal_eval'd. */
export const STRING_TYPE_FILTERS = new Set(['string', 'to_json', 'to_nice_json', 'to_yaml', 'to_nice_yaml', 'ppretty', 'json']);

export const UNDEF_MARK = '\u0001undefined\u0001';

const PRELUDE =
  '{% macro __p(v) %}{% if v is string %}{{ v }}{% elif v is boolean %}{{ "True" if v else "False" }}' +
  '{% elif v is integer %}{{ v }}{% elif v is float %}{{ v | __pf }}{% elif v is none %}' +
  '{% elif v is undefined %}{{ v }}{% else %}{{ v | __pr }}{% endif %}{% endmacro +%}\n';

const MAX_CACHE = 4000;
const MAX_DEPTH = 8;

export class Engine {
  private mj!: { Environment: new () => MjEnvironment };
  private envs: MjEnvironment[] = [];
  private caches: Map<string, Compiled>[] = [];
  private frames: Frame[] = [];
  private counter = 0;
  /** single expressions that needed the chain guards, rewritten (see evalExpression) */
  private readonly guarded = new Map<string, { out: string; inserts: Inserts }>();
  private readonly extensions: ((env: MjEnvironment) => void)[] = [];

  constructor(private readonly plugins: PluginSet) {
    this.load();
  }

  private load(): void {
    const require = createRequire(import.meta.url);
    const path = require.resolve('minijinja-js');
    delete require.cache[path];
    this.mj = require('minijinja-js') as { Environment: new () => MjEnvironment };
    this.envs = [];
    this.caches = [];
  }

  /** Register extra filters/tests through a guarded view of the environment (never lets a callback throw). */
  extend(fn: (env: MjEnvironment) => void): void {
    this.extensions.push(fn);
    for (const e of this.envs) fn(this.guardedView(e));
  }

  /** The data of the innermost render (the LookupContext), for globals like lookup(). */
  currentData(): unknown {
    return this.frames.at(-1)?.data;
  }

  private guard(name: string, fn: PluginFn): PluginFn {
    return (...args: unknown[]) => {
      const f = this.frames.at(-1);
      if (f?.error !== undefined) return null;
      try {
        return toMj(fn(...args));
      } catch (e) {
        if (f) {
          f.error = e;
          f.plugin = name;
        }
        return null;
      }
    };
  }

  private guardedView(e: MjEnvironment): MjEnvironment {
    return new Proxy(e, {
      get: (target, prop) => {
        if (prop === 'addFilter' || prop === 'addTest' || prop === 'addGlobal') {
          return (name: string, fn: unknown) => {
            const v = typeof fn === 'function' ? this.guard(name, fn as PluginFn) : fn;
            (target[prop] as (n: string, f: unknown) => void).call(target, name, v);
          };
        }
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as PluginFn).bind(target) : v;
      },
      set: (target, prop, value) => Reflect.set(target, prop, value),
    });
  }

  private newEnv(debug = false): MjEnvironment {
    const e = new this.mj.Environment();
    e.enablePyCompat();
    e.undefinedBehavior = 'strict';
    e.debug = debug;
    for (const [n, f] of this.plugins.filters) e.addFilter(n, this.guard(n, f));
    for (const [n, f] of this.plugins.tests) e.addTest(n, this.guard(n, f));
    for (const [n, f] of this.plugins.globals) e.addGlobal(n, this.guard(n, f));
    e.addFilter('__pr', this.guard('__pr', (v) => pyRepr(v)));
    e.addFilter('__pf', this.guard('__pf', (v) => pyFloat(v as number)));
    for (const x of this.extensions) x(this.guardedView(e));
    return e;
  }

  private env(depth: number): MjEnvironment {
    if (depth >= MAX_DEPTH) throw new TemplateError(`templates nested more than ${MAX_DEPTH} deep (a lookup rendering a template that renders …)`, { kind: 'other' });
    let e = this.envs[depth];
    if (!e) {
      e = this.newEnv();
      this.envs[depth] = e;
      this.caches[depth] = new Map();
    }
    return e;
  }

  // -------------------------------------------------------------------------------------------------------------

  /** Render template text (the template module's and every multi-part string's path). */
  renderText(source: string, ctx: Record<string, unknown>, opts: TextOptions = {}, data?: unknown): string {
    let body = source;
    let over: HeaderOverrides = {};
    let headerLines = 0;
    if (opts.header !== false && source.startsWith('#jinja2:')) {
      try {
        ({ overrides: over, body } = parseHeader(source, literalEval));
      } catch (e) {
        if (e instanceof HeaderError) throw new TemplateError(e.message, { kind: 'header', line: 1, col: 1, hint: 'format: #jinja2: trim_blocks: True, lstrip_blocks: False' });
        throw e;
      }
      headerLines = body === source ? 0 : 1;
    }
    const s: Settings = {
      trim: over.trim_blocks ?? opts.trimBlocks ?? true,
      lstrip: over.lstrip_blocks ?? opts.lstripBlocks ?? false,
      keep: over.keep_trailing_newline ?? opts.keepTrailingNewline ?? false,
      esc: opts.escapeBackslashes ?? false,
      delims: delimitersOf(over),
    };
    const depth = this.frames.length;
    const env = this.env(depth);
    const compiled = this.compile(env, depth, body, s, headerLines);
    const frame: Frame = { data };
    this.frames.push(frame);
    let out: string;
    try {
      out = env.renderTemplate(compiled.name, ctx);
    } catch (e) {
      this.frames.pop();
      if (frame.error !== undefined) throw pluginError(frame);
      this.checkPoisoned(e);
      throw this.diagnose(compiled.plainSource, ctx, s, e, headerLines, data, undefined, compiled.inserts);
    }
    this.frames.pop();
    if (frame.error !== undefined) throw pluginError(frame);
    if (compiled.prelude) out = out.slice(1);
    if (opts.preserveTrailingNewlines !== false) {
      const want = trailingNewlines(source);
      const have = trailingNewlines(out);
      if (want > have) out += (over.newline_sequence ?? '\n').repeat(want - have);
    }
    return out;
  }

  /** Evaluate one expression to its native value (dicts as plain objects, None as null). */
  evalExpression(expr: string, ctx: Record<string, unknown>, data?: unknown): unknown {
    const depth = this.frames.length;
    const env = this.env(depth);
    // MiniJinja compiles an expression on every evalExpr, so the chain guards (which lengthen it) are
    // added only when the plain form fails: if it succeeds, no access met an undefined receiver and the
    // guarded form gives the same value. An expression that needed them keeps them (loops over hosts).
    const base = rewriteBase(expr);
    const known = this.guarded.get(base);
    let { out: src, inserts: ins } = known ?? guardChains(base, false);
    const frame: Frame = { data };
    this.frames.push(frame);
    let v: unknown;
    try {
      try {
        v = env.evalExpr(src, ctx);
      } catch (e) {
        if (known || frame.error !== undefined || isPoisoned(e)) throw e;
        const g = guardChains(base, true);
        if (g.out === src) throw e;
        if (this.guarded.size >= MAX_CACHE) this.guarded.clear();
        this.guarded.set(base, g);
        ({ out: src, inserts: ins } = g);
        v = env.evalExpr(src, ctx);
      }
    } catch (e) {
      this.frames.pop();
      if (frame.error !== undefined) throw pluginError(frame);
      this.checkPoisoned(e);
      throw this.diagnose(`{{ ${src} }}`, ctx, settingsDefault(), e, 0, data, expr, shift(ins, 3));
    }
    if (v === undefined && frame.error === undefined) {
      // None and Undefined both arrive as `undefined`: ask MiniJinja which one it was.
      let undef = false;
      try {
        undef = env.evalExpr(`(${src}) is undefined`, ctx) === true;
      } catch {
        undef = true;
      }
      if (undef) {
        this.frames.pop();
        throw this.diagnose(`{{ ${src} }}`, ctx, settingsDefault(), new Error('undefined value'), 0, data, expr, shift(ins, 3));
      }
    }
    this.frames.pop();
    if (frame.error !== undefined) throw pluginError(frame);
    return plain(v);
  }

  private checkPoisoned(e: unknown): void {
    // A WASM trap leaves the module unusable: start a fresh instance for the next render.
    if (isPoisoned(e)) this.load();
  }

  private compile(env: MjEnvironment, depth: number, body: string, s: Settings, headerLines: number): Compiled {
    const cache = this.caches[depth]!;
    const key = `${+s.trim}${+s.lstrip}${+s.keep}${+s.esc}${isStandard(s.delims) ? '' : JSON.stringify(s.delims)}\u0000${body}`;
    const hit = cache.get(key);
    if (hit) return hit;
    let segs: Segment[];
    try {
      segs = scan(body, s.delims);
    } catch (e) {
      if (e instanceof LexError) {
        const { line, col } = lineCol(body, e.offset);
        throw new TemplateError(`template syntax error: ${e.message} (line ${line + headerLines})`, {
          kind: 'syntax', line: line + headerLines, col, sourceLine: body.split('\n')[line - 1],
        });
      }
      throw e;
    }
    const { wrapped, plainSrc, needsPrelude, inserts } = rewrite(segs, s);
    const source = needsPrelude ? PRELUDE + wrapped : wrapped;
    if (cache.size >= MAX_CACHE) {
      env.clearTemplates();
      cache.clear();
    }
    const name = `t${++this.counter}`;
    env.trimBlocks = s.trim;
    env.lstripBlocks = s.lstrip;
    env.keepTrailingNewline = s.keep;
    try {
      env.addTemplate(name, source);
    } catch (e) {
      throw this.diagnose(plainSrc, {}, s, e, headerLines, undefined, undefined, inserts);
    }
    // The prelude ends in a newline that is cut from the output, unless the template opens with a
    // whitespace-stripping tag (`{%-`, `{{-`, `{#-`), which removes that newline itself.
    const d = s.delims;
    const lead = wrapped.trimStart();
    const stripped = [d.blockStart, d.varStart, d.commentStart].some((o) => lead.startsWith(o + '-'));
    const c: Compiled = { name, plainSource: plainSrc, prelude: needsPrelude && !stripped, inserts };
    cache.set(key, c);
    return c;
  }

  /** Turn a MiniJinja failure into a TemplateError with the undefined name and position when there is one. */
  private diagnose(
    plainSrc: string, ctx: unknown, s: Settings, first: unknown, headerLines: number, data: unknown, exprForMsg?: string, inserts: Inserts = [],
  ): TemplateError {
    let report = String((first as Error)?.message ?? first);
    let dbg: MjEnvironment | undefined;
    const frame: Frame = { data };
    this.frames.push(frame);
    try {
      dbg = this.newEnv(true);
      dbg.trimBlocks = s.trim;
      dbg.lstripBlocks = s.lstrip;
      dbg.keepTrailingNewline = s.keep;
      dbg.addTemplate('template', plainSrc);
      dbg.renderTemplate('template', ctx);
    } catch (e) {
      if (frame.error === undefined) report = String((e as Error)?.message ?? e);
    } finally {
      this.frames.pop();
      try {
        dbg?.free();
      } catch {
        /* already gone */
      }
    }
    const err = errorFromReport(report, plainSrc, headerLines, exprForMsg, inserts);
    if (err.kind === 'undefined' && err.variable && /[.[]/.test(err.variable)) return this.refineUndefined(err, ctx, data) ?? err;
    return err;
  }

  /**
   * For `a.b[c].d` find the first access that is undefined by evaluating the prefixes against the context
   * (names bound inside the template, like loop variables, are not in it: then the span text is all we say).
   */
  private refineUndefined(err: TemplateError, ctx: unknown, data: unknown): TemplateError | undefined {
    const chain = splitChain(err.variable!);
    if (!chain) return undefined;
    const env = this.env(this.frames.length);
    const frame: Frame = { data };
    this.frames.push(frame);
    try {
      const ev = (e: string): unknown => env.evalExpr(e, ctx);
      if (ev(`(${chain.base}) is defined`) !== true) return undefined;
      let prefix = chain.base;
      for (const acc of chain.accessors) {
        const next = prefix + acc.text;
        if (ev(`(${next}) is defined`) !== true) {
          const key = acc.kind === 'attr' ? acc.key : ev(acc.key);
          if (frame.error !== undefined) return undefined;
          const keyS = typeof key === 'string' ? key : pyRepr(key);
          const what = acc.kind === 'attr' || typeof key === 'string' ? `attribute '${keyS}'` : `element ${keyS}`;
          return new TemplateError(`'${err.variable}' is undefined: '${prefix}' has no ${what}${err.line !== undefined ? ` (template line ${err.line})` : ''}`, {
            kind: 'undefined', variable: err.variable, name: err.undefinedName, line: err.line, col: err.col, sourceLine: err.sourceLine,
            hint: `'${prefix}' has no ${what}; guard it: {{ ${err.variable} | default(...) }}`,
          });
        }
        prefix = next;
      }
      return undefined;
    } catch {
      return undefined;
    } finally {
      this.frames.pop();
    }
  }
}

/** `a.b[c + 'x'].d` → base `a`, accessors `.b`, `[c + 'x']`, `.d`; undefined when it is not such a chain. */
function splitChain(text: string): { base: string; accessors: { kind: 'attr' | 'item'; key: string; text: string }[] } | undefined {
  const m = /^[A-Za-z_]\w*/.exec(text);
  if (!m) return undefined;
  const accessors: { kind: 'attr' | 'item'; key: string; text: string }[] = [];
  let i = m[0].length;
  while (i < text.length) {
    if (text[i] === '.') {
      const n = /^\.([A-Za-z_]\w*)/.exec(text.slice(i));
      if (!n) return undefined;
      accessors.push({ kind: 'attr', key: n[1]!, text: n[0] });
      i += n[0].length;
    } else if (text[i] === '[') {
      let depth = 0;
      let j = i;
      for (const tk of tokenize(text.slice(i))) {
        if (tk.t !== 'op') continue;
        if (tk.v === '[' || tk.v === '(' || tk.v === '{') depth++;
        else if (tk.v === ']' || tk.v === ')' || tk.v === '}') {
          depth--;
          if (depth === 0) {
            j = i + tk.i;
            break;
          }
        }
      }
      if (j === i) return undefined;
      accessors.push({ kind: 'item', key: text.slice(i + 1, j), text: text.slice(i, j + 1) });
      i = j + 1;
    } else return undefined;
  }
  return accessors.length ? { base: m[0], accessors } : undefined;
}

function isPoisoned(e: unknown): boolean {
  return (e as Error)?.constructor?.name === 'RuntimeError' || /recursive use of an object|unreachable/.test(String((e as Error)?.message));
}

function shift(ins: Inserts, by: number): Inserts {
  return ins.map(([at, n]) => [at + by, n]);
}

function settingsDefault(): Settings {
  return { trim: true, lstrip: false, keep: false, esc: false, delims: delimitersOf({}) };
}

function pluginError(f: Frame): TemplateError {
  const e = f.error;
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof TemplateError) return e;
  const isLookup = f.plugin === 'lookup' || f.plugin === 'query' || f.plugin === 'q';
  return new TemplateError(isLookup ? msg : `${f.plugin}: ${msg}`, {
    kind: isLookup ? 'lookup' : e instanceof PluginError ? 'filter' : 'filter',
    plugin: f.plugin,
    cause: e,
  });
}

/** JavaScript value → something minijinja-js 2.11 converts faithfully (it turns Maps into `{}`). */
function toMj(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Set) return [...v].map(toMj);
  return plain(v);
}

function trailingNewlines(s: string): number {
  let i = s.length;
  while (i > 0 && s[i - 1] === '\n') i--;
  return s.length - i;
}

/**
 * Token-level rewrites inside a tag: Python string escapes, `dict.get(k, d)`, `| round(…)` →
 * `| round(…) | float` (see FLOAT_FILTERS), then guardChains. Returns the text guardChains inserted.
 */
export function rewriteExprMapped(src: string): { out: string; inserts: Inserts } {
  return guardChains(rewriteBase(src), true);
}

function rewriteBase(src: string): string {
  if (src.includes('\\')) src = normalizeStrings(src);
  if (src.includes('.get(')) src = rewriteDictGet(src);
  if (/\b(round|pow|log|root|float)\b/.test(src)) src = rewriteFloats(src);
  return src;
}

function rewriteFloats(src: string): string {
  const toks = tokenize(src);
  const inserts: { at: number; text: string; cut?: number }[] = [];
  for (let k = 0; k + 1 < toks.length; k++) {
    const tk = toks[k]!;
    const nm = toks[k + 1]!;
    if (tk.t !== 'op' || tk.v !== '|' || nm.t !== 'name') continue;
    if (!FLOAT_FILTERS.has(nm.v) && nm.v !== 'float') continue;
    let end = nm.i + nm.v.length;
    const open = toks[k + 2];
    if (open && open.t === 'op' && open.v === '(') {
      let depth = 0;
      for (let j = k + 2; j < toks.length; j++) {
        const t = toks[j]!;
        if (t.t !== 'op') continue;
        if (t.v === '(' || t.v === '[' || t.v === '{') depth++;
        else if (t.v === ')' || t.v === ']' || t.v === '}') {
          depth--;
          if (depth === 0) {
            end = t.i + 1;
            break;
          }
        }
      }
    }
    if (nm.v === 'float') {
      // Jinja2's float(default=0.0) accepts anything; MiniJinja's fails on non-numbers: convert first.
      inserts.push({ at: nm.i, cut: nm.i + nm.v.length, text: '__num' });
      inserts.push({ at: end, text: ' | float' });
      continue;
    }
    inserts.push({ at: end, text: ' | float' });
  }
  let out = src;
  for (const ins of inserts.sort((a, b) => b.at - a.at)) out = out.slice(0, ins.at) + ins.text + out.slice(ins.cut ?? ins.at);
  return out;
}

/** Filters that take an undefined value (Jinja2's `default`; Ansible's `mandatory` checks for one). */
const GUARD_FILTERS = new Set(['default', 'd', 'mandatory']);
/**
 * Tests that answer for an undefined value instead of failing, in Jinja2 (isinstance checks) and in
 * MiniJinja's strict mode alike. Not `iterable` (Jinja2 iterates, which fails) nor `eq`/`in` (compare).
 */
const GUARD_TESTS = new Set(['defined', 'undefined', 'none', 'string', 'mapping', 'number', 'sequence', 'boolean', 'integer', 'float', 'sameas', 'true', 'false']);
/** Words that end an operand when walking back from a filter (`x if a.b | default(1)`). */
const OPERATOR_WORDS = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else', 'elif']);
const MAY_GUARD = /\b(?:default|d|mandatory|is)\b/;

/**
 * Ansible's chained undefined, where it is observable. For each access chain consumed by a guard filter or
 * test (GUARD_FILTERS, GUARD_TESTS), every receiver becomes `(receiver | default(none))`, so an access on an
 * undefined value yields undefined instead of failing: `a.b.c is defined` →
 * `((a | default(none)).b | default(none)).c is defined`. MiniJinja's `default` keeps a defined value
 * (None included) and `none.x` / `none[k]` are undefined, as attribute access on None is in Jinja2.
 * Method calls and slices end the guarded part (`a.b.m()` calls on undefined fail, as in Ansible).
 * `X | mandatory` becomes `X | default(UNDEF_MARK + 'X') | mandatory` (a JS filter cannot tell None from
 * undefined; the text names the variable in the error). With `chains` false only that is done.
 */
export function guardChains(src: string, chains: boolean): { out: string; inserts: Inserts } {
  if (chains ? !MAY_GUARD.test(src) : !src.includes('mandatory')) return { out: src, inserts: [] };
  const toks = tokenize(src);
  const adds: { at: number; text: string; open: boolean }[] = [];
  for (let k = 1; k < toks.length; k++) {
    const tk = toks[k]!;
    let mandatory = false;
    if (tk.t === 'op' && tk.v === '|') {
      const nm = toks[k + 1];
      if (nm?.t !== 'name' || !GUARD_FILTERS.has(nm.v)) continue;
      mandatory = nm.v === 'mandatory';
    } else if (tk.t === 'name' && tk.v === 'is') {
      const nm = toks[k + 1]?.v === 'not' ? toks[k + 2] : toks[k + 1];
      if (nm?.t !== 'name' || !GUARD_TESTS.has(nm.v)) continue;
    } else continue;
    const chain = operandChain(toks, k - 1);
    if (mandatory) {
      const name = chain ? src.slice(toks[chain.start]!.i, tk.i).trim() : '';
      adds.push({ at: tk.i, text: `| default(${JSON.stringify(UNDEF_MARK + name)}) `, open: false });
    }
    if (!chains) continue;
    // `(a.b.c) is defined`, `((a.b).c | default(1))`: the chain inside a parenthesized primary is guarded too
    for (let c = chain; c; ) {
      if (c.accessors.length) {
        adds.push({ at: toks[c.start]!.i, text: '('.repeat(c.accessors.length), open: true });
        for (const a of c.accessors) adds.push({ at: toks[a]!.i, text: ' | default(none))', open: false });
      }
      const open = c.start;
      if (toks[open]!.v !== '(' || toks[open]!.t !== 'op') break;
      const close = matchingClose(toks, open);
      const inner = close > open + 1 ? operandChain(toks, close - 1) : undefined;
      c = inner?.start === open + 1 ? inner : undefined;
    }
  }
  if (!adds.length) return { out: src, inserts: [] };
  // at one offset a closing insert (end of a receiver) goes before an opening one (start of a chain)
  adds.sort((x, y) => x.at - y.at || Number(x.open) - Number(y.open));
  let out = '';
  let last = 0;
  const inserts: Inserts = [];
  for (const a of adds) {
    out += src.slice(last, a.at);
    inserts.push([out.length, a.text.length]);
    out += a.text;
    last = a.at;
  }
  return { out: out + src.slice(last), inserts };
}

/**
 * The access chain that ends at token `end`: its primary's first token and the tokens (`.` or `[`) that
 * start each access after it, or undefined when the operand is not a primary with postfix accesses (an
 * operator, a filter, a test). A call's result counts as the primary (its callee is not guarded).
 */
function operandChain(toks: Tok[], end: number): { start: number; accessors: number[] } | undefined {
  const acc: number[] = [];
  let collect = true;
  const finish = (start: number): { start: number; accessors: number[] } | undefined => {
    const p = toks[start - 1];
    // a filter or test name is not an operand: `x | f | default(1)`
    if (p && ((p.t === 'op' && p.v === '|') || (p.t === 'name' && (p.v === 'is' || (p.v === 'not' && toks[start - 2]?.v === 'is'))))) return undefined;
    return { start, accessors: acc.reverse() };
  };
  for (let b = end; b >= 0; ) {
    const t = toks[b]!;
    if (t.t === 'op' && (t.v === ']' || t.v === ')' || t.v === '}')) {
      const open = matchingOpen(toks, b);
      if (open < 0) return undefined;
      const p = toks[open - 1];
      const postfix =
        p !== undefined && (p.t === 'str' || p.t === 'num' || (p.t === 'name' && !OPERATOR_WORDS.has(p.v)) || (p.t === 'op' && (p.v === ')' || p.v === ']' || p.v === '}')));
      if (t.v === '}' || !postfix) return finish(open); // a literal or a parenthesized expression
      if (t.v === ')') collect = false; // a call
      else if (collect) {
        if (isSlice(toks, open, b)) collect = false;
        else acc.push(open);
      }
      b = open - 1;
      continue;
    }
    if (t.t === 'name' || t.t === 'num') {
      if (t.t === 'name' && OPERATOR_WORDS.has(t.v)) return undefined;
      const p = toks[b - 1];
      if (p?.t === 'op' && p.v === '.') {
        if (collect) acc.push(b - 1);
        b -= 2;
        continue;
      }
      return finish(b);
    }
    if (t.t === 'str') return finish(b);
    return undefined;
  }
  return undefined;
}

function matchingOpen(toks: Tok[], close: number): number {
  let depth = 0;
  for (let j = close; j >= 0; j--) {
    const u = toks[j]!;
    if (u.t !== 'op') continue;
    if (u.v === ']' || u.v === ')' || u.v === '}') depth++;
    else if ((u.v === '[' || u.v === '(' || u.v === '{') && --depth === 0) return j;
  }
  return -1;
}

function matchingClose(toks: Tok[], open: number): number {
  let depth = 0;
  for (let j = open; j < toks.length; j++) {
    const u = toks[j]!;
    if (u.t !== 'op') continue;
    if (u.v === '[' || u.v === '(' || u.v === '{') depth++;
    else if ((u.v === ']' || u.v === ')' || u.v === '}') && --depth === 0) return j;
  }
  return -1;
}

function isSlice(toks: Tok[], open: number, close: number): boolean {
  let depth = 0;
  for (let j = open + 1; j < close; j++) {
    const u = toks[j]!;
    if (u.t !== 'op') continue;
    if (u.v === '[' || u.v === '(' || u.v === '{') depth++;
    else if (u.v === ']' || u.v === ')' || u.v === '}') depth--;
    else if (u.v === ':' && depth === 0) return true;
  }
  return false;
}

/**
 * MiniJinja's pycompat `dict.get` takes one argument; `X.get(k, default)` becomes `(X | __dget(k, default))`.
 * X is the postfix chain before `.get` (names, strings, literals, `.attr`, `[…]`, `(…)`).
 */
function rewriteDictGet(src: string): string {
  for (let guard = 0; guard < 50; guard++) {
    const toks = tokenize(src);
    let done = true;
    for (let k = 1; k + 2 < toks.length; k++) {
      const dot = toks[k]!;
      if (!(dot.t === 'op' && dot.v === '.' && toks[k + 1]!.v === 'get' && toks[k + 2]!.v === '(')) continue;
      // the call's argument list and whether it has two arguments
      let depth = 0;
      let close = -1;
      let commas = 0;
      for (let j = k + 2; j < toks.length; j++) {
        const t = toks[j]!;
        if (t.t !== 'op') continue;
        if (t.v === '(' || t.v === '[' || t.v === '{') depth++;
        else if (t.v === ')' || t.v === ']' || t.v === '}') {
          if (--depth === 0) {
            close = j;
            break;
          }
        } else if (t.v === ',' && depth === 1) commas++;
      }
      if (close < 0 || commas !== 1) continue;
      // walk back over the receiver chain
      let b = k - 1;
      for (;;) {
        const t = toks[b]!;
        if (t.t === 'op' && (t.v === ']' || t.v === ')' || t.v === '}')) {
          let d = 0;
          for (; b >= 0; b--) {
            const u = toks[b]!;
            if (u.t !== 'op') continue;
            if (u.v === ']' || u.v === ')' || u.v === '}') d++;
            else if ((u.v === '[' || u.v === '(' || u.v === '{') && --d === 0) break;
          }
          if (b < 0) return src;
          if (toks[b]!.v === '(' || toks[b]!.v === '{' || (toks[b]!.v === '[' && (b === 0 || toks[b - 1]!.t === 'op' && !/^[\])}]$/.test(toks[b - 1]!.v)))) break;
          b--;
          continue;
        }
        if (t.t === 'name' || t.t === 'str' || t.t === 'num') {
          if (b > 0 && toks[b - 1]!.t === 'op' && toks[b - 1]!.v === '.') {
            b -= 2;
            continue;
          }
          break;
        }
        return src;
      }
      const start = toks[b]!.i;
      const recv = src.slice(start, dot.i);
      const args = src.slice(toks[k + 2]!.i + 1, toks[close]!.i);
      src = `${src.slice(0, start)}(${recv} | __dget(${args}))${src.slice(toks[close]!.i + 1)}`;
      done = false;
      break;
    }
    if (done) break;
  }
  return src;
}

const PY_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '' };

/** Re-encode string literals that use backslashes: Python's escape rules in, MiniJinja-safe JSON escapes out. */
function normalizeStrings(src: string): string {
  let out = '';
  let last = 0;
  for (const tk of tokenize(src)) {
    if (tk.t !== 'str' || !tk.v.includes('\\')) continue;
    const body = tk.v.slice(1, -1);
    let s = '';
    for (let i = 0; i < body.length; i++) {
      const c = body[i]!;
      if (c !== '\\' || i + 1 >= body.length) {
        s += c;
        continue;
      }
      const n = body[++i]!;
      const hex = n === 'x' ? 2 : n === 'u' ? 4 : n === 'U' ? 8 : 0;
      if (n in PY_ESCAPES) s += PY_ESCAPES[n];
      else if (hex && /^[0-9a-fA-F]+$/.test(body.slice(i + 1, i + 1 + hex)) && body.length >= i + 1 + hex) {
        s += String.fromCodePoint(parseInt(body.slice(i + 1, i + 1 + hex), 16));
        i += hex;
      } else if (/[0-7]/.test(n)) {
        const m = /^[0-7]{1,3}/.exec(body.slice(i))!;
        s += String.fromCodePoint(parseInt(m[0], 8));
        i += m[0].length - 1;
      } else s += '\\' + n; // Python keeps unknown escapes
    }
    out += src.slice(last, tk.i) + JSON.stringify(s);
    last = tk.i + tk.v.length;
  }
  return out + src.slice(last);
}

function rewrite(segs: Segment[], s: Settings): { wrapped: string; plainSrc: string; needsPrelude: boolean; inserts: Inserts } {
  const std = isStandard(s.delims);
  let wrapped = '';
  let plainSrc = '';
  let needsPrelude = false;
  const inserts: Inserts = [];
  /** record guardChains' inserts of an expression about to be emitted `lead` characters from here */
  const mark = (ins: Inserts, lead: number): void => {
    for (const [at, n] of ins) inserts.push([plainSrc.length + lead + at, n]);
  };
  const emit = (w: string, p: string = w): void => {
    wrapped += w;
    plainSrc += p;
  };
  for (const seg of segs) {
    switch (seg.kind) {
      case 'text': {
        // With custom delimiters, standard ones in the text are literal text.
        const t = std ? seg.text : seg.text.replace(/\{[{%#]/g, (m) => `{{ ${JSON.stringify(m)} }}`);
        emit(t);
        break;
      }
      case 'comment':
        emit(std ? seg.raw : `{#${commentMarks(seg.raw, s.delims)}#}`);
        break;
      case 'block': {
        const { out: inner, inserts: ins } = rewriteExprMapped(seg.inner);
        mark(ins, 2 + seg.lead.length);
        emit(`{%${seg.lead}${inner}${seg.trail}%}`);
        break;
      }
      case 'raw':
        emit(`{%${seg.open.lead}${seg.open.inner}${seg.open.trail || '+'}%}${seg.body}{%${seg.close.lead}${seg.close.inner}${seg.close.trail}%}`);
        break;
      case 'var': {
        let expr = seg.inner;
        if (s.esc) expr = doubleBackslashesInStrings(expr);
        const { out, inserts: ins } = rewriteExprMapped(expr);
        expr = out;
        mark(ins, 2 + seg.lead.length);
        const trimmed = expr.trim();
        const lf = lastFilter(trimmed);
        if (!trimmed || isStringLiteral(trimmed) || (lf !== undefined && STRING_FILTERS.has(lf))) {
          emit(`{{${seg.lead}${expr}${seg.trail}}}`);
        } else {
          needsPrelude = true;
          emit(`{{${seg.lead} __p((${trimmed})) ${seg.trail}}}`, `{{${seg.lead}${expr}${seg.trail}}}`);
        }
        break;
      }
    }
  }
  return { wrapped, plainSrc, needsPrelude, inserts };
}

function commentMarks(raw: string, d: Delimiters): string {
  const body = raw.slice(d.commentStart.length, raw.length - d.commentEnd.length);
  const lead = body.startsWith('-') ? '-' : '';
  const trail = body.endsWith('-') ? '-' : '';
  return `${lead} ${trail}`;
}

/**
 * Parse MiniJinja's (debug) error report into a TemplateError. `inserts` is the text guardChains added to
 * `src`: the column, the source line and the failing expression are given without it.
 */
function errorFromReport(report: string, src: string, headerLines: number, exprForMsg?: string, inserts: Inserts = []): TemplateError {
  const lines = report.split('\n');
  const head = lines[0] ?? report;
  const m = /^(.*?)(?: \(in [^)]*?:(\d+)\))?$/.exec(head);
  const detail = (m?.[1] ?? head).trim();
  let line = m?.[2] ? Number(m[2]) : undefined;
  let col: number | undefined;
  let span: string | undefined;
  let sourceLine: string | undefined;
  for (let i = 0; i + 1 < lines.length; i++) {
    const lm = /^\s*(\d+) > (.*)$/.exec(lines[i]!);
    if (!lm) continue;
    const cm = /^(\s*i\s)(\s*)(\^+)/.exec(lines[i + 1]!);
    if (!cm) continue;
    const contentStart = lines[i]!.indexOf(' > ') + 3;
    const caretStart = lines[i + 1]!.indexOf('^');
    const c0 = caretStart - contentStart;
    line = Number(lm[1]);
    sourceLine = lm[2]!;
    col = c0 + 1;
    const c1 = c0 + cm[3]!.length;
    span = extendBack(sourceLine, c0, c1);
    if (inserts.length) {
      const srcLines = src.split('\n');
      let ls = 0;
      for (let k = 0; k < line - 1 && k < srcLines.length; k++) ls += srcLines[k]!.length + 1;
      const le = ls + (srcLines[line - 1] ?? '').length;
      const here = inserts.filter(([at]) => at >= ls && at < le);
      if (here.length) {
        sourceLine = withoutInserts(src, ls, le, here);
        col = c0 - insertedWithin(ls, ls + c0, here) + 1;
        span = withoutInserts(src, ls + c1 - span.length, ls + c1, here);
      }
    }
    break;
  }
  if (line !== undefined && !sourceLine) sourceLine = withoutInserts(src, 0, src.length, inserts).split('\n')[line - 1];
  const fileLine = line !== undefined ? line + headerLines : undefined;
  const where = exprForMsg !== undefined ? '' : fileLine !== undefined ? ` (template line ${fileLine})` : '';
  if (/^undefined value/.test(detail) || /undefined/.test(detail)) {
    const v = span?.trim();
    const root = v ? /^[A-Za-z_]\w*/.exec(v)?.[0] : undefined;
    let msg: string;
    if (v && /^[A-Za-z_]\w*$/.test(v)) msg = `'${v}' is undefined`;
    else if (v) {
      const am = /^(.*?)(?:\.([A-Za-z_]\w*)|\[(.*)\])$/s.exec(v);
      msg = am ? `'${v}' is undefined: '${am[1]}' has no ${am[2] ? `attribute '${am[2]}'` : `item ${am[3]}`}` : `'${v}' is undefined`;
    } else msg = `undefined variable in ${exprForMsg !== undefined ? `'${exprForMsg}'` : 'template'}`;
    return new TemplateError(msg + where, {
      kind: 'undefined', variable: v, name: root, line: fileLine, col, sourceLine,
      hint: root ? `define '${root}' or guard it: {{ ${v} | default(...) }} / {% if ${v} is defined %}` : undefined,
    });
  }
  const kind = /^syntax error/.test(detail) ? 'syntax' : /^invalid operation|cannot|unsupported/.test(detail) ? 'type' : 'other';
  return new TemplateError(`${kind === 'syntax' ? 'template ' : ''}${detail}${where}`, { kind, line: fileLine, col, sourceLine });
}

/** `src[from, to)` without the inserted ranges. */
function withoutInserts(src: string, from: number, to: number, inserts: Inserts): string {
  let out = '';
  let p = from;
  for (const [at, n] of inserts) {
    if (at + n <= p || at >= to) continue;
    out += src.slice(p, Math.max(p, at));
    p = Math.max(p, at + n);
  }
  return p < to ? out + src.slice(p, to) : out;
}

/** How many characters of [from, to) are inserted text. */
function insertedWithin(from: number, to: number, inserts: Inserts): number {
  let n = 0;
  for (const [at, len] of inserts) n += Math.max(0, Math.min(to, at + len) - Math.max(from, at));
  return n;
}

/** MiniJinja's span of `a[b].c` may start at `[b]`: extend it back over the primary expression it applies to. */
function extendBack(line: string, start: number, end: number): string {
  let i = start;
  if (line[i] !== '[' && line[i] !== '.') return line.slice(start, end);
  while (i > 0) {
    const c = line[i - 1]!;
    if (/[\w.]/.test(c)) i--;
    else if (c === ']') {
      let depth = 0;
      let j = i - 1;
      for (; j >= 0; j--) {
        if (line[j] === ']') depth++;
        else if (line[j] === '[' && --depth === 0) break;
      }
      if (j < 0) break;
      i = j;
    } else break;
  }
  return line.slice(i, end);
}
