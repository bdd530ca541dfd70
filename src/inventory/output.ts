/**
 * ansible-inventory's outputs, reproduced: `--list` (JSON, or YAML with --yaml), `--host H`, and
 * `--graph [GROUP] [--vars]`. Only the inventory's own variables are shown; pass `hostVars` to add
 * group_vars/host_vars files the way ansible-inventory does (its hostvars include them).
 */
import { stringify } from 'yaml';
import { UsageError } from '../core/errors.js';
import { pyJsonDumps, pyStr } from './pyrepr.js';
import { compareCodePoints, hostsOfGroup, inventoryHostVars, varsToObject, type Inventory } from './types.js';

export interface OutputOptions {
  /** --export: group vars in the group entries, only each host's own vars in hostvars */
  export?: boolean;
  /** a host's variables; default: inventoryHostVars (inventory only) */
  hostVars?: (host: string) => Record<string, unknown>;
}

function hostVarsOf(inv: Inventory, host: string, opts: OutputOptions): Record<string, unknown> {
  if (opts.export) return varsToObject(inv.hosts.get(host)!.vars);
  return opts.hostVars ? opts.hostVars(host) : varsToObject(inventoryHostVars(inv, host));
}

function groupVarsOf(inv: Inventory, group: string): Record<string, unknown> {
  const g = inv.groups.get(group)!;
  const o = varsToObject(g.vars);
  if (g.priority !== 1) o.ansible_group_priority = g.priority;
  return o;
}

/** The object `ansible-inventory --list` prints. */
export function inventoryListObject(inv: Inventory, opts: OutputOptions = {}): Record<string, unknown> {
  const results: Record<string, unknown> = {};
  const seen = new Set<string>();
  const format = (name: string): void => {
    const g = inv.groups.get(name)!;
    const entry: Record<string, unknown> = {};
    if (name !== 'all' && g.hosts.length) entry.hosts = [...g.hosts];
    if (g.children.length) entry.children = [...g.children];
    if (opts.export) {
      const v = groupVarsOf(inv, name);
      if (Object.keys(v).length) entry.vars = v;
    }
    if (Object.keys(entry).length) results[name] = entry;
    for (const kid of g.children) {
      if (!seen.has(kid)) {
        seen.add(kid);
        format(kid);
      }
    }
  };
  format('all');
  const hostvars: Record<string, unknown> = {};
  for (const h of hostsOfGroup(inv, 'all')) {
    const v = hostVarsOf(inv, h, opts);
    if (Object.keys(v).length) hostvars[h] = v;
  }
  results._meta = { hostvars };
  return results;
}

/** `ansible-inventory --list` (JSON, Python's json.dumps layout, keys sorted). */
export function inventoryListJson(inv: Inventory, opts: OutputOptions = {}): string {
  return pyJsonDumps(inventoryListObject(inv, opts));
}

/** The object `ansible-inventory --list --yaml` prints (children nested; host vars on first mention). */
export function inventoryYamlObject(inv: Inventory, opts: OutputOptions = {}): Record<string, unknown> {
  const seen = new Set<string>();
  const format = (name: string): Record<string, unknown> => {
    const g = inv.groups.get(name)!;
    const entry: Record<string, unknown> = {};
    const children: Record<string, unknown> = {};
    for (const kid of g.children) if (kid !== 'all') Object.assign(children, format(kid));
    if (Object.keys(children).length) entry.children = children;
    if (name !== 'all') {
      const hosts: Record<string, unknown> = {};
      for (const h of g.hosts) {
        let v: Record<string, unknown> = {};
        if (!seen.has(h)) {
          seen.add(h);
          v = hostVarsOf(inv, h, opts);
        }
        hosts[h] = v;
      }
      if (Object.keys(hosts).length) entry.hosts = hosts;
    }
    if (opts.export) {
      const v = groupVarsOf(inv, name);
      if (Object.keys(v).length) entry.vars = v;
    }
    return { [name]: entry };
  };
  return format('all');
}

/** `ansible-inventory --list --yaml`: block style, keys sorted, empty maps as `{}`. */
export function inventoryListYaml(inv: Inventory, opts: OutputOptions = {}): string {
  return yamlText(inventoryYamlObject(inv, opts));
}

/** A value as ansible-inventory's YAML dump writes it (block style, sorted keys; PyYAML reads it back the same). */
export function yamlText(value: unknown): string {
  const text = stringify(value, {
    version: '1.1',
    indentSeq: false,
    sortMapEntries: (a, b) => compareCodePoints(String(a.key), String(b.key)),
    lineWidth: 0,
    nullStr: 'null',
    singleQuote: true,
    aliasDuplicateObjects: false,
  });
  return text.replace(/\n$/, '');
}

/** `ansible-inventory --host H`: the host's variables as JSON. A group with exactly one host also works. */
export function inventoryHostJson(inv: Inventory, pattern: string, opts: OutputOptions = {}): string {
  return pyJsonDumps(inventoryHostObject(inv, pattern, opts));
}

/** The variables `ansible-inventory --host H` prints. */
export function inventoryHostObject(inv: Inventory, pattern: string, opts: OutputOptions = {}): Record<string, unknown> {
  let host: string | undefined;
  if (inv.hosts.has(pattern)) host = pattern;
  else if (inv.groups.has(pattern)) {
    const hs = hostsOfGroup(inv, pattern);
    if (hs.length === 1) host = hs[0];
  }
  if (!host) {
    throw new UsageError('You must pass a single valid host to --host parameter', {
      hint: `'${pattern}' is not a host of this inventory (see ./run inventory --graph)`,
    });
  }
  return hostVarsOf(inv, host, opts);
}

/** `ansible-inventory --graph [GROUP] [--vars]`. */
export function inventoryGraph(inv: Inventory, group = 'all', opts: OutputOptions & { vars?: boolean } = {}): string {
  if (!inv.groups.has(group)) {
    throw new UsageError('Pattern must be valid group name when using --graph', {
      hint: `'${group}' is not a group of this inventory; groups: ${[...inv.groups.keys()].slice(0, 20).join(', ')}`,
    });
  }
  const out: string[] = [];
  const name = (text: string, depth: number): string => (depth ? '  |'.repeat(depth) + '--' + text : text);
  const showVars = (vars: Record<string, unknown>, depth: number): void => {
    for (const k of Object.keys(vars).sort(compareCodePoints)) out.push(name(`{${k} = ${pyStr(vars[k])}}`, depth));
  };
  // bounded: group relations are acyclic (the builder rejects cycles)
  const walk = (g: string, depth: number): void => {
    out.push(name(`@${g}:`, depth));
    const grp = inv.groups.get(g)!;
    for (const kid of grp.children) walk(kid, depth + 1);
    if (g !== 'all') {
      for (const h of grp.hosts) {
        out.push(name(h, depth + 1));
        if (opts.vars) showVars(hostVarsOf(inv, h, opts), depth + 2);
      }
    }
    if (opts.vars) showVars(groupVarsOf(inv, g), depth + 1);
  };
  walk(group, 0);
  return out.join('\n');
}
