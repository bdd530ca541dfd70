/**
 * A host's variable scope: ordered layers of raw definitions (lowest precedence first) evaluated lazily.
 * A value is templated only when read, with the names it refers to resolved from the same scope (so a
 * broken or vaulted variable costs nothing until something needs it), cycles are detected, and every
 * error names the variable, its file:line and the host.
 *
 * The project builds the inventory/vars-file/extra-vars layers; the executor stacks play, role, block,
 * task, facts and set_fact layers between them (see Project.scope).
 */
import { RunError, type SourcePos } from '../core/errors.js';
import { isTemplate, referencedNames, renderString, TemplateError } from '../template/templar.js';
import type { VarDef } from '../inventory/types.js';

export type VarMap = Map<string, VarDef>;

export interface VarLayer {
  /** precedence class, e.g. `inventory group vars`, `group_vars (project)`, `extra vars (-e)` */
  kind: string;
  /** what it is: `[controller-node:vars]`, a file path, `-e #2` */
  label: string;
  vars: VarMap;
}

export interface Definition {
  layer: VarLayer;
  def: VarDef;
}

/** Something that decrypts an inline `!vault` value; `reveal` registers the secret for redaction. */
export interface Revealable {
  reveal(secrets?: undefined, ctx?: { name?: string; pos?: SourcePos }): string;
}
export function isRevealable(v: unknown): v is Revealable {
  return typeof v === 'object' && v !== null && typeof (v as Revealable).reveal === 'function';
}

/** Variables the runner provides (inventory_hostname, groups, hostvars, …). */
export type MagicProvider = (name: string, scope: VarScope) => { found: boolean; value?: unknown };

export interface Explanation {
  host: string;
  name: string;
  definitions: Definition[];
  value?: unknown;
  error?: string;
  references: { name: string; winner?: Definition; magic?: boolean }[];
}

export class VarScope {
  private mergedCache?: Map<string, Definition>;
  private readonly values = new Map<string, unknown>();
  private readonly evaluating = new Set<string>();

  constructor(
    readonly host: string,
    readonly layers: readonly VarLayer[],
    private readonly magic: MagicProvider,
  ) {}

  merged(): Map<string, Definition> {
    if (!this.mergedCache) {
      const m = new Map<string, Definition>();
      for (const layer of this.layers) for (const [k, def] of layer.vars) m.set(k, { layer, def });
      this.mergedCache = m;
    }
    return this.mergedCache;
  }

  definitions(name: string): Definition[] {
    const out: Definition[] = [];
    for (const layer of this.layers) {
      const def = layer.vars.get(name);
      if (def) out.push({ layer, def });
    }
    return out;
  }

  has(name: string): boolean {
    return this.merged().has(name) || this.magic(name, this).found;
  }

  /** Evaluated value of one variable; RunError when undefined or broken. */
  get(name: string): unknown {
    if (this.values.has(name)) return this.values.get(name);
    const win = this.merged().get(name);
    if (!win) {
      const m = this.magic(name, this);
      if (m.found) return m.value;
      throw new RunError(`variable '${name}' is not defined for host ${this.host}`, {
        host: this.host,
        hint: `define it in group_vars/, host_vars/, the inventory or vars.yml; ./run vars ${this.host} lists what is defined`,
      });
    }
    if (this.evaluating.has(name)) {
      throw new RunError(`variable '${name}' refers to itself: ${[...this.evaluating, name].join(' → ')}`, {
        pos: win.def.pos,
        host: this.host,
        exitCode: 4,
      });
    }
    this.evaluating.add(name);
    try {
      const v = this.evaluate(win.def.value, name, win.def.pos);
      this.values.set(name, v);
      return v;
    } finally {
      this.evaluating.delete(name);
    }
  }

  /** Every variable, evaluated; a variable that fails is reported by `onError` and left out. */
  all(onError?: (name: string, e: unknown) => void): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k of this.merged().keys()) {
      try {
        out[k] = this.get(k);
      } catch (e) {
        if (!onError) throw e;
        onError(k, e);
      }
    }
    return out;
  }

  /** Template every string inside a value (dicts and lists recursively), revealing vault values. */
  evaluate(v: unknown, name = '(value)', pos?: SourcePos, extra?: Record<string, unknown>): unknown {
    if (isRevealable(v)) return v.reveal(undefined, { name });
    if (typeof v === 'string') return isTemplate(v) ? this.render(v, name, pos, extra) : v;
    if (Array.isArray(v)) return v.map((x) => this.evaluate(x, name, pos, extra));
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = this.evaluate(x, name, pos, extra);
      return o;
    }
    return v;
  }

  /** The context a template needs: the names it refers to, resolved in this scope. */
  contextFor(template: string, extra?: Record<string, unknown>): { ctx: Record<string, unknown>; missing: string[]; broken: Map<string, unknown> } {
    const ctx: Record<string, unknown> = { ...extra };
    const missing: string[] = [];
    // A referenced variable that cannot be evaluated is left out: the template may not use it (a branch not
    // taken). If rendering then fails, its own error is the one reported.
    const broken = new Map<string, unknown>();
    for (const ref of referencedNames(template)) {
      if (ref in ctx) continue;
      if (this.merged().has(ref)) {
        try {
          ctx[ref] = this.get(ref);
        } catch (e) {
          if (this.evaluating.size) throw e; // inside another variable: let the outermost report it
          broken.set(ref, e);
        }
      } else {
        const m = this.magic(ref, this);
        if (m.found) ctx[ref] = m.value;
        else missing.push(ref);
      }
    }
    return { ctx, missing, broken };
  }

  /** Render one template string in this scope (Ansible native typing for a lone `{{ expr }}`). */
  render(template: string, name = '(expression)', pos?: SourcePos, extra?: Record<string, unknown>): unknown {
    const { ctx, missing, broken } = this.contextFor(template, extra);
    try {
      return renderString(template, ctx);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      if (broken.size && /undefined/i.test(e.message)) throw [...broken.values()][0];
      const undef = /undefined/i.test(e.message) && missing.length ? ` (undefined: ${missing.join(', ')})` : '';
      throw new RunError(`cannot evaluate '${name}': ${e.message}${undef}`, {
        pos,
        host: this.host,
        hint: undef
          ? `define ${missing.join(', ')}; ./run vars ${this.host} NAME --explain shows where a variable comes from`
          : 'check the Jinja2 expression',
      });
    }
  }

  explain(name: string): Explanation {
    const definitions = this.definitions(name);
    const ex: Explanation = { host: this.host, name, definitions, references: [] };
    try {
      ex.value = this.get(name);
    } catch (e) {
      ex.error = (e as Error).message;
    }
    const win = definitions.at(-1);
    if (win) {
      const refs = new Set<string>();
      collectRefs(win.def.value, refs);
      for (const r of refs) {
        const d = this.merged().get(r);
        ex.references.push(d ? { name: r, winner: d } : { name: r, magic: this.magic(r, this).found });
      }
    }
    return ex;
  }
}

function collectRefs(v: unknown, out: Set<string>, depth = 0): void {
  if (depth > 64) return;
  if (typeof v === 'string' && isTemplate(v)) for (const r of referencedNames(v)) out.add(r);
  else if (Array.isArray(v)) v.forEach((x) => collectRefs(x, out, depth + 1));
  else if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) Object.values(v).forEach((x) => collectRefs(x, out, depth + 1));
}
