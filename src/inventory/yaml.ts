/**
 * YAML inventories (`all: {hosts:, vars:, children:}`), read as ansible-core's `yaml` inventory plugin
 * reads them: every top-level key is a group; `hosts`/`children`/`vars` may be mappings, null, or a
 * single string (`hosts: web1`); host keys may be patterns with ranges and `:port`; other keys and
 * non-mapping values are skipped with a warning. Values are typed by pyyaml.ts (PyYAML rules).
 */
import { ParseError, type SourcePos } from '../core/errors.js';
import type { InventoryBuilder } from './builder.js';
import { expandHostPattern, HostPatternError } from './hostpattern.js';
import { pyStr } from './pyrepr.js';
import { plainKey, pyTypeName, toPlain, type PEntry, type PNode } from './pyyaml.js';
import { UnsafeText } from './types.js';

const SECTIONS = ['vars', 'children', 'hosts'] as const;

function isNull(n: PNode): boolean {
  return n.kind === 'scalar' && (n.value === null || n.value === undefined);
}

/** Python truthiness of a loaded value. */
function falsy(n: PNode): boolean {
  if (n.kind === 'map') return n.entries.length === 0;
  if (n.kind === 'seq') return n.items.length === 0;
  const v = n.value;
  return v === null || v === undefined || v === false || v === 0 || v === '';
}

function isStr(k: unknown): k is string | UnsafeText {
  return typeof k === 'string' || k instanceof UnsafeText;
}

function keyIs(e: PEntry, name: string): boolean {
  return isStr(e.key) && String(e.key) === name;
}

function describe(n: PNode): string {
  return `<class '${pyTypeName(n)}'>`;
}

export class YamlInventoryParser {
  private readonly file: string;
  private readonly inv: InventoryBuilder;

  constructor(file: string, inv: InventoryBuilder) {
    this.file = file;
    this.inv = inv;
  }

  parse(root: PNode | null): void {
    const pos: SourcePos = { file: this.file, line: 1, col: 1 };
    if (root === null || falsy(root)) throw new ParseError('Parsed empty YAML file', { pos, hint: 'a YAML inventory starts with `all:`' });
    if (root.kind !== 'map') {
      throw new ParseError(`YAML inventory has invalid structure, it should be a dictionary, got: ${describe(root)}`, {
        pos: root.pos,
        hint: 'a YAML inventory is a mapping of group names: all: {hosts: …, children: …, vars: …}',
      });
    }
    const plugin = root.entries.find((e) => keyIs(e, 'plugin'));
    if (plugin && !falsy(plugin.value)) {
      throw new ParseError('Plugin configuration YAML file, not YAML inventory', {
        pos: plugin.keyPos,
        hint: 'inventory plugins (dynamic inventories) are not supported; write the hosts out as a YAML or INI inventory',
      });
    }
    for (const e of root.entries) this.group(e.key, e.value, e.keyPos);
  }

  private group(group: unknown, data: PNode, pos: SourcePos): unknown {
    if (!(data.kind === 'map' || isNull(data))) {
      this.inv.warn(`Skipping '${pyStr(group)}' as this is not a valid group definition`, pos);
      return group;
    }
    if (!isStr(group)) {
      throw new ParseError(
        `Unable to add group ${pyStr(group)}: Invalid group name supplied, expected a string but got <class '${pyTypeName(group)}'> for ${pyStr(group)}`,
        { pos, hint: 'quote group names that look like numbers or booleans' },
      );
    }
    const name = String(group);
    if (!name) throw new ParseError('Unable to add group : Invalid empty/false group name provided', { pos });
    this.inv.addGroup(name, pos);
    if (data.kind !== 'map') return name;

    // sections: a string means a single name; anything but a mapping/null is an error
    const entries: PEntry[] = data.entries.map((e) => {
      if (!SECTIONS.some((s) => keyIs(e, s))) return e;
      const v = e.value;
      if (v.kind === 'scalar' && isStr(v.value)) {
        return { ...e, value: { kind: 'map', pos: v.pos, entries: [{ key: v.value, keyPos: v.pos, value: { kind: 'scalar', value: null, pos: v.pos } }] } };
      }
      if (!(v.kind === 'map' || isNull(v))) {
        throw new ParseError(`Invalid "${String(e.key)}" entry for "${name}" group, requires a dictionary, found "${describe(v)}" instead.`, {
          pos: v.pos,
          hint: `${String(e.key)} is a mapping: one "name:" per line (a value, or nothing)`,
        });
      }
      return e;
    });

    for (const e of entries) {
      const v = e.value;
      if (!(v.kind === 'map' || isNull(v))) {
        this.inv.warn(`Skipping key (${pyStr(e.key)}) in group (${name}) as it is not a mapping, it is a ${describe(v)}`, e.keyPos);
        continue;
      }
      if (v.kind !== 'map') continue; // empty section
      if (keyIs(e, 'vars')) {
        for (const ve of v.entries) this.inv.setVariable(name, plainKey(ve.key), toPlain(ve.value), ve.keyPos);
      } else if (keyIs(e, 'children')) {
        for (const ce of v.entries) {
          const sub = this.group(ce.key, ce.value, ce.keyPos);
          this.inv.addChild(name, typeof sub === 'string' ? sub : pyStr(sub), ce.keyPos);
        }
      } else if (keyIs(e, 'hosts')) {
        for (const he of v.entries) this.hosts(he, name);
      } else {
        this.inv.warn(`Skipping unexpected key (${pyStr(e.key)}) in group (${name}), only "vars", "children" and "hosts" are valid`, e.keyPos);
      }
    }
    return name;
  }

  private hosts(he: PEntry, group: string): void {
    if (!isStr(he.key)) {
      throw new ParseError(`Host pattern ${pyStr(he.key)} must be a string. Enclose integers/floats in quotation marks.`, {
        pos: he.keyPos,
        hint: `write "${pyStr(he.key)}": (quoted)`,
      });
    }
    const pattern = String(he.key);
    let names: string[];
    let port: number | undefined;
    try {
      ({ names, port } = expandHostPattern(pattern));
    } catch (e) {
      if (!(e instanceof HostPatternError)) throw e;
      throw new ParseError(`bad host range in '${pattern}': ${e.message}`, {
        pos: he.keyPos,
        hint: 'ranges are [begin:end] or [begin:end:step]: web[1:3], node[01:10] (equal widths), db[a:c], x[1:9:2]',
      });
    }
    const data = he.value;
    if (!falsy(data) && data.kind !== 'map') {
      throw new ParseError(`Invalid data from file, expected dictionary and got:\n\n${pyStr(toPlain(data))}`, {
        pos: data.pos,
        hint: `the variables of host ${pattern} must be a mapping (name: value), or nothing`,
      });
    }
    for (const h of names) {
      this.inv.addHost(h, group, port, he.keyPos);
      if (data.kind === 'map') for (const ve of data.entries) this.inv.setVariable(h, plainKey(ve.key), toPlain(ve.value), ve.keyPos);
    }
  }
}
