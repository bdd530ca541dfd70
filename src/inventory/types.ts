/**
 * The inventory model: hosts, groups and their variables, each carrying where it was written.
 *
 * Semantics follow ansible-core's InventoryData (2.14, the version Debian ships and our parity tests run):
 *  - every group is (transitively) a child of `all`; `ungrouped` holds hosts that are in no other group;
 *  - a group's depth is the longest path from `all` (all = 0, its direct children = 1, …);
 *  - group variables merge in `sortGroups` order (depth, then ansible_group_priority, then name), host
 *    variables last; a later definition of a key replaces the earlier one (hash_behaviour=replace);
 *  - `ansible_group_priority` is not a variable: it sets `Group.priority` (Ansible stores it apart too).
 */
import type { SourcePos } from '../core/errors.js';

/** One variable definition: the typed value Ansible would hold, and where it was written. */
export interface VarDef {
  value: unknown;
  pos: SourcePos;
}

export interface Host {
  name: string;
  vars: Map<string, VarDef>;
  /** where the host was first declared */
  pos: SourcePos;
}

export interface Group {
  name: string;
  vars: Map<string, VarDef>;
  /** direct member hosts, in declaration order */
  hosts: string[];
  /** direct child groups, in declaration order */
  children: string[];
  /** direct parent groups, in the order the relations were made */
  parents: string[];
  /** longest path from `all` (all = 0) */
  depth: number;
  /** ansible_group_priority (default 1) */
  priority: number;
  /** where the group was first declared (absent for the implicit `all` / `ungrouped`) */
  pos?: SourcePos;
}

export interface InventoryWarning {
  message: string;
  pos?: SourcePos;
}

export interface Inventory {
  /** every host, in the order Ansible first saw them */
  hosts: Map<string, Host>;
  /** every group, in creation order (`all` and `ungrouped` first) */
  groups: Map<string, Group>;
  /** the files that were parsed, in order */
  sources: string[];
  /** things Ansible would warn about (skipped YAML keys, duplicate localhost, …) */
  warnings: InventoryWarning[];
}

/**
 * A string from a YAML `!unsafe` tag: Ansible never templates it. JSON form is Ansible's
 * (`ansible-inventory --list` prints `{"__ansible_unsafe": "…"}`); `String(x)` is the text.
 */
export class UnsafeText {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
  toJSON(): { __ansible_unsafe: string } {
    return { __ansible_unsafe: this.text };
  }
}

/**
 * An inline `!vault` value as written (still encrypted). The vault layer can supply its own tag
 * constructor through LoadOptions.scalarTags; without it this placeholder keeps the ciphertext.
 * JSON form is Ansible's (`{"__ansible_vault": "$ANSIBLE_VAULT;…"}`).
 */
export class VaultText {
  readonly ciphertext: string;
  constructor(ciphertext: string) {
    this.ciphertext = ciphertext;
  }
  toString(): string {
    return this.ciphertext;
  }
  toJSON(): { __ansible_vault: string } {
    return { __ansible_vault: this.ciphertext };
  }
}

const TUPLE = Symbol.for('burrow.pyTuple');

/** Marks an array as a Python tuple (INI `a=1,2` is a tuple); invisible to JSON and to equality checks. */
export function markTuple<T extends unknown[]>(a: T): T {
  Object.defineProperty(a, TUPLE, { value: true, enumerable: false });
  return a;
}
export function isTuple(a: unknown): boolean {
  return Array.isArray(a) && (a as unknown as Record<symbol, unknown>)[TUPLE] === true;
}

/** Set an own property even for the name `__proto__` (values come from user files). */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

// ---------------------------------------------------------------------------------------------------
// Queries

function requireGroup(inv: Inventory, name: string): Group {
  const g = inv.groups.get(name);
  if (!g) throw new Error(`no such group: ${name}`);
  return g;
}

/** A group's depth: the longest path from `all` (all = 0). */
export function depth(group: Group): number {
  return group.depth;
}

/**
 * Every group the host belongs to, directly or through children, including `all`. Ordered as
 * `sortGroups` orders them, so the list is also the group-variable merge order.
 */
export function groupsOfHost(inv: Inventory, host: string): string[] {
  const seen = new Set<string>();
  const stack = [...(directGroups(inv).get(host) ?? [])];
  while (stack.length) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const g = inv.groups.get(name);
    if (g) for (const p of g.parents) if (!seen.has(p)) stack.push(p);
  }
  if (inv.hosts.has(host)) seen.add('all');
  return sortGroups(inv, [...seen]);
}

/** host → groups that list it directly; cached per inventory, rebuilt if memberships change */
const directCache = new WeakMap<Inventory, { sig: string; index: Map<string, string[]> }>();
function directGroups(inv: Inventory): Map<string, string[]> {
  let n = 0;
  for (const g of inv.groups.values()) n += g.hosts.length;
  const sig = `${inv.groups.size}:${n}`;
  const c = directCache.get(inv);
  if (c && c.sig === sig) return c.index;
  const index = new Map<string, string[]>();
  for (const g of inv.groups.values()) {
    for (const h of g.hosts) {
      const l = index.get(h);
      if (l) l.push(g.name);
      else index.set(h, [g.name]);
    }
  }
  directCache.set(inv, { sig, index });
  return index;
}

/** Python's default str ordering: by code point (JS `<` compares UTF-16 units, which differs above U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

/**
 * Groups in Ansible's variable-merge order (ansible.inventory.helpers.sort_groups): by depth, then
 * ansible_group_priority, then name. Unknown names are dropped.
 */
export function sortGroups(inv: Inventory, names: Iterable<string>): string[] {
  const gs: Group[] = [];
  for (const n of names) {
    const g = inv.groups.get(n);
    if (g) gs.push(g);
  }
  gs.sort((a, b) => a.depth - b.depth || a.priority - b.priority || compareCodePoints(a.name, b.name));
  return gs.map((g) => g.name);
}

/** The group and its descendant groups in Ansible's walk order: itself, its children, then level by level. */
export function descendantsOf(inv: Inventory, group: string): string[] {
  const start = requireGroup(inv, group);
  const ordered = [start.name, ...start.children];
  const seen = new Set<string>([start.name, ...start.children]);
  let level = start.children.slice();
  while (level.length) {
    const next: string[] = [];
    for (const name of level) {
      for (const kid of inv.groups.get(name)?.children ?? []) {
        if (!seen.has(kid)) {
          seen.add(kid);
          ordered.push(kid);
          next.push(kid);
        }
      }
    }
    level = next;
  }
  return ordered;
}

/**
 * Every host of a group, recursively, without duplicates, in Ansible's order (Group.get_hosts): the
 * group's own hosts, then its children's, then grandchildren's, level by level. (Ansible walks levels
 * below the children through a Python set, so for grandchildren reached from two different children its
 * order is not defined; we take discovery order, which is what it does in the common case.)
 */
export function hostsOfGroup(inv: Inventory, group: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const g of descendantsOf(inv, group)) {
    for (const h of inv.groups.get(g)!.hosts) {
      if (!seen.has(h)) {
        seen.add(h);
        out.push(h);
      }
    }
  }
  return out;
}

export interface InventoryVarLayer {
  /** `group` layers come in merge order (all first); the `host` layer is last */
  kind: 'group' | 'host';
  name: string;
  vars: Map<string, VarDef>;
}

/**
 * The inventory's own variable layers for a host, lowest precedence first: `all`'s vars, the other
 * groups' vars in sortGroups order, then the host's vars. (Ansible's full precedence puts group_vars/
 * files between these; see the vars layer.)
 */
export function inventoryVarLayers(inv: Inventory, host: string): InventoryVarLayer[] {
  const h = inv.hosts.get(host);
  if (!h) throw new Error(`no such host: ${host}`);
  const out: InventoryVarLayer[] = [];
  for (const g of groupsOfHost(inv, host)) out.push({ kind: 'group', name: g, vars: inv.groups.get(g)!.vars });
  out.push({ kind: 'host', name: host, vars: h.vars });
  return out;
}

/**
 * A host's variables as the inventory alone defines them (what `ansible-inventory --list` shows in
 * `_meta.hostvars` when there are no group_vars/host_vars files): group vars merged in Ansible's order,
 * then host vars. Keys keep the position of their first definition (Python dict merge).
 */
export function inventoryHostVars(inv: Inventory, host: string): Map<string, VarDef> {
  const out = new Map<string, VarDef>();
  for (const layer of inventoryVarLayers(inv, host)) for (const [k, d] of layer.vars) out.set(k, d);
  return out;
}

/** Plain-object form of a variable map (for templating or JSON). */
export function varsToObject(vars: Map<string, VarDef>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, d] of vars) setOwn(o, k, d.value);
  return o;
}
