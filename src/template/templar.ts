/**
 * Jinja2 evaluation for variables, task arguments and template files, on MiniJinja (minijinja-js, by
 * Jinja2's author; WASM, no native build), with Ansible's semantics on top (see docs/templates.md):
 *  - a string that is exactly one `{{ expr }}` evaluates to the expression's native value (list, int, bool),
 *    as Ansible's jinja2_native does; other strings render to text;
 *  - a text result that looks like a list, dict or bool (`[`, `{`, `True`, `False`) is converted with
 *    Python literal rules, as ansible-core 2.14's default templating does;
 *  - trim_blocks on, lstrip_blocks off, Jinja2's keep_trailing_newline off but Ansible's trailing-newline
 *    preservation on; a `#jinja2:` first line overrides these (and the delimiters);
 *  - values print as Python's str() (True, None → '', ['a']);
 *  - undefined variables are errors naming the variable (TemplateError.variable / .undefinedName / .line);
 *  - filters, tests and lookups of the reference installer (filters.ts, lookups.ts).
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Engine, STRING_TYPE_FILTERS, type MjEnvironment, type PluginFn, type TextOptions } from './engine.js';
import { TemplateError } from './errors.js';
import { FILTERS, TESTS } from './filters.js';
import { doubleBackslashesInStrings, lastFilter, scan, templateNames } from './lexer.js';
import { fsLookupContext, runLookup, type LookupContext } from './lookups.js';
import { isPlainObject, literalEval } from './pyvalue.js';

export { TemplateError } from './errors.js';
export type { TemplateErrorKind } from './errors.js';
export type { LookupContext } from './lookups.js';
export { fsLookupContext } from './lookups.js';

/** The value `omit` evaluates to; module arguments equal to it are dropped (removeOmit). */
export const OMIT_PLACEHOLDER = '__omit_place_holder__burrow';

export interface RenderOptions extends TextOptions {
  /** where lookups find files and read the environment (default: current directory, process.env) */
  lookup?: LookupContext;
}

let engine: Engine | undefined;
const pending: ((env: MjEnvironment) => void)[] = [];

function eng(): Engine {
  if (!engine) {
    const globals = new Map<string, PluginFn>();
    const e = new Engine({ filters: FILTERS, tests: TESTS, globals });
    const ctxOf = (): LookupContext => (e.currentData() as LookupContext | undefined) ?? fsLookupContext();
    globals.set('lookup', (...args: unknown[]) => runLookup(ctxOf(), args, false));
    globals.set('query', (...args: unknown[]) => runLookup(ctxOf(), args, true));
    globals.set('q', (...args: unknown[]) => runLookup(ctxOf(), args, true));
    for (const fn of pending) e.extend(fn);
    engine = e;
  }
  return engine;
}

/** Register filters/tests for every environment (callbacks are guarded: a throw becomes a TemplateError). */
export function extendTemplates(fn: (env: MjEnvironment) => void): void {
  if (engine) engine.extend(fn);
  else pending.push(fn);
}

/** Ansible's is_possibly_template: the string contains a Jinja start delimiter. */
/** True for a string with Jinja markup. (Not a type guard: `false` must not mean "not a string".) */
export function isTemplate(s: unknown): boolean {
  return typeof s === 'string' && (s.includes('{{') || s.includes('{%') || s.includes('{#'));
}

/** `{{ x }}` alone → the expression `x`, else undefined. Rejects `{{ a }} {{ b }}` and surrounding text. */
export function singleExpression(s: string): string | undefined {
  if (!s.startsWith('{{') || !s.endsWith('}}')) return undefined;
  try {
    const segs = scan(s);
    const seg = segs[0];
    if (segs.length !== 1 || seg?.kind !== 'var') return undefined;
    const inner = seg.inner.trim();
    return inner || undefined;
  } catch {
    return undefined;
  }
}

/** Names a template may read: identifiers not after `.`, not filter/test/keyword-argument names. Over-approximates. */
export function referencedNames(s: string): Set<string> {
  return templateNames(s);
}

function withCtx(ctx: Record<string, unknown>): Record<string, unknown> {
  return 'omit' in ctx ? ctx : { ...ctx, omit: OMIT_PLACEHOLDER };
}

/** Ansible 2.14's conversion of a text result: `[`/`{`-prefixed or True/False strings become Python literals. */
export function ansibleConvert(s: string): unknown {
  if (!(s.startsWith('{') || s.startsWith('[') || s === 'True' || s === 'False')) return s;
  try {
    return literalEval(s);
  } catch {
    return s;
  }
}

/** Evaluate one string the Ansible way (see the file comment). */
export function renderString(s: string, ctx: Record<string, unknown>, opts: RenderOptions = {}): unknown {
  if (!isTemplate(s)) return s;
  const c = withCtx(ctx);
  if (!s.startsWith('#jinja2:')) {
    const expr = singleExpression(s);
    if (expr !== undefined) {
      const e = opts.escapeBackslashes === false ? expr : doubleBackslashesInStrings(expr);
      const v = eng().evalExpression(e, c, opts.lookup);
      if (typeof v === 'string' && !STRING_TYPE_FILTERS.has(lastFilter(expr) ?? '')) return ansibleConvert(v);
      return v;
    }
  }
  return ansibleConvert(renderText(s, c, { escapeBackslashes: true, ...opts }));
}

/** Render to text (no native types): the template module's path, also for multi-part strings. */
export function renderText(s: string, ctx: Record<string, unknown>, opts: RenderOptions = {}): string {
  return eng().renderText(s, withCtx(ctx), opts, opts.lookup);
}

/** Evaluate a bare expression (`when:`, `until:`, `loop:` values) to its native value. */
export function evalExpression(expr: string, ctx: Record<string, unknown>, opts: RenderOptions = {}): unknown {
  return eng().evalExpression(expr, withCtx(ctx), opts.lookup);
}

/**
 * Render a template file as Ansible's template module does: `#jinja2:` header honoured, backslashes not
 * doubled, trailing newlines of the source kept. Lookups search the template's directory unless
 * `opts.lookup` says otherwise. Errors carry `file`.
 */
export function renderTemplateFile(path: string, ctx: Record<string, unknown>, opts: RenderOptions = {}): string {
  let src: string;
  try {
    src = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TemplateError(`cannot read template ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { kind: 'other' });
  }
  try {
    return renderText(src, ctx, { escapeBackslashes: false, lookup: fsLookupContext([dirname(path)]), ...opts });
  } catch (e) {
    if (e instanceof TemplateError) e.file = path;
    throw e;
  }
}

/** Drop dict entries whose value is `omit` (recursively), as Ansible does with module arguments. */
export function removeOmit(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== OMIT_PLACEHOLDER).map(removeOmit);
  if (isPlainObject(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== OMIT_PLACEHOLDER) o[k] = removeOmit(x);
    return o;
  }
  return v;
}
