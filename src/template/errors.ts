/**
 * Template errors with structure, so callers (the task runner, `./run vars`) can add the task's or the
 * variable's file:line and a hint without parsing messages.
 */

export type TemplateErrorKind = 'undefined' | 'syntax' | 'filter' | 'lookup' | 'type' | 'header' | 'other';

export interface TemplateErrorInfo {
  kind?: TemplateErrorKind;
  /** for `undefined`: the undefined variable (`foo`) or access (`a.b`, `hostvars[h]['x']`) as written */
  variable?: string;
  /** for `undefined`: the top-level name the access starts from (`a` for `a.b`) */
  name?: string;
  /** 1-based line and column inside the template text */
  line?: number;
  col?: number;
  /** the template line the error points at */
  sourceLine?: string;
  /** filter, test or lookup name, for kind filter/lookup */
  plugin?: string;
  hint?: string;
  cause?: unknown;
}

export class TemplateError extends Error {
  readonly kind: TemplateErrorKind;
  readonly variable?: string;
  readonly name_?: string;
  readonly line?: number;
  readonly col?: number;
  readonly sourceLine?: string;
  readonly plugin?: string;
  readonly hint?: string;
  /** the template file, set by renderTemplateFile */
  file?: string;

  constructor(message: string, info: TemplateErrorInfo = {}) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause });
    this.name = 'TemplateError';
    this.kind = info.kind ?? 'other';
    this.variable = info.variable;
    this.name_ = info.name;
    this.line = info.line;
    this.col = info.col;
    this.sourceLine = info.sourceLine;
    this.plugin = info.plugin;
    this.hint = info.hint;
  }

  /** The undefined top-level variable, when kind is `undefined` (e.g. `a` for `a.b`). */
  get undefinedName(): string | undefined {
    return this.name_;
  }
}

/** Thrown by filters, tests and lookups for bad input; becomes a TemplateError naming the plugin. */
export class PluginError extends Error {}
