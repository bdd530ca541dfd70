/**
 * Builds an Inventory the way ansible-core's InventoryData does (add_group / add_host / add_child /
 * set_variable / reconcile_inventory), so the INI and YAML parsers only have to call it in Ansible's
 * order to get Ansible's result: group creation order, host order, `ungrouped`, cycle detection,
 * `ansible_group_priority` and depth.
 */
import { ParseError, type SourcePos } from '../core/errors.js';
import { pyInt, PyValueError } from './pytext.js';
import type { Group, Host, Inventory, InventoryWarning } from './types.js';

const LOCALHOST = new Set(['127.0.0.1', 'localhost', '::1']);

function newGroup(name: string, pos?: SourcePos): Group {
  return { name, vars: new Map(), hosts: [], children: [], parents: [], depth: 0, priority: 1, ...(pos ? { pos } : {}) };
}

interface State {
  hosts: Map<string, Host>;
  groups: Map<string, Group>;
  warnings: InventoryWarning[];
  localhost: string | undefined;
}

function cloneState(s: State): State {
  const hosts = new Map<string, Host>();
  for (const [k, h] of s.hosts) hosts.set(k, { ...h, vars: new Map(h.vars) });
  const groups = new Map<string, Group>();
  for (const [k, g] of s.groups) {
    groups.set(k, { ...g, vars: new Map(g.vars), hosts: [...g.hosts], children: [...g.children], parents: [...g.parents] });
  }
  return { hosts, groups, warnings: [...s.warnings], localhost: s.localhost };
}

export class InventoryBuilder {
  private s: State = { hosts: new Map(), groups: new Map(), warnings: [], localhost: undefined };
  /** group → its direct hosts, as a set (membership tests on big groups) */
  private members = new Map<string, Set<string>>();
  readonly sources: string[] = [];

  constructor() {
    this.addGroup('all');
    this.addGroup('ungrouped');
    this.addChild('all', 'ungrouped');
  }

  get hosts(): ReadonlyMap<string, Host> {
    return this.s.hosts;
  }
  get groups(): ReadonlyMap<string, Group> {
    return this.s.groups;
  }

  /** Save the state so a failed parser attempt can be undone (Ansible would keep a half-parsed source). */
  snapshot(): () => void {
    const saved = cloneState(this.s);
    return () => {
      this.s = saved;
      this.members = new Map([...saved.groups.values()].map((g) => [g.name, new Set(g.hosts)]));
    };
  }

  private addMember(g: Group, host: string): void {
    let set = this.members.get(g.name);
    if (!set) this.members.set(g.name, (set = new Set(g.hosts)));
    if (!set.has(host)) {
      set.add(host);
      g.hosts.push(host);
    }
  }

  warn(message: string, pos?: SourcePos): void {
    this.s.warnings.push(pos ? { message, pos } : { message });
  }

  hasGroup(name: string): boolean {
    return this.s.groups.has(name);
  }

  /** add_group: creates the group if new; returns its name. */
  addGroup(name: string, pos?: SourcePos): string {
    if (!name) throw new ParseError('invalid empty group name', { pos, hint: 'give the group a name' });
    if (!this.s.groups.has(name)) this.s.groups.set(name, newGroup(name, pos));
    return name;
  }

  /** add_host: creates the host if new (a port only counts then), and adds it to `group`. */
  addHost(name: string, group: string | undefined, port: number | undefined, pos: SourcePos): string {
    if (!name) throw new ParseError('invalid empty host name', { pos, hint: 'a host line must start with a host name' });
    const g = group === undefined ? undefined : this.s.groups.get(group);
    if (group !== undefined && !g) throw new ParseError(`could not find group ${group} in inventory`, { pos, hint: `declare the group ${group} first` });
    if (!this.s.hosts.has(name)) {
      const h: Host = { name, vars: new Map(), pos };
      if (port) h.vars.set('ansible_port', { value: port, pos });
      this.s.hosts.set(name, h);
      if (LOCALHOST.has(name)) {
        if (this.s.localhost === undefined) this.s.localhost = name;
        else this.warn(`A duplicate localhost-like entry was found (${name}). First found localhost was ${this.s.localhost}`, pos);
      }
    }
    if (g) this.addMember(g, name);
    return name;
  }

  private ancestors(name: string): Set<string> {
    const seen = new Set<string>();
    const todo = [...(this.s.groups.get(name)?.parents ?? [])];
    while (todo.length) {
      const p = todo.pop()!;
      if (seen.has(p)) continue;
      seen.add(p);
      todo.push(...(this.s.groups.get(p)?.parents ?? []));
    }
    return seen;
  }

  /** add_child: a group or host becomes a member of `group`. */
  addChild(group: string, child: string, pos?: SourcePos): void {
    const g = this.s.groups.get(group);
    if (!g) throw new ParseError(`${group} is not a known group`, { pos, hint: `declare the group ${group} first` });
    const c = this.s.groups.get(child);
    if (c) {
      if (c === g) {
        throw new ParseError(`group '${group}' cannot be a child of itself`, { pos, hint: `remove '${child}' from [${group}:children]` });
      }
      if (g.children.includes(child)) return;
      if (this.ancestors(group).has(child)) {
        throw new ParseError(`Adding group '${child}' as child to '${group}' creates a recursive dependency loop.`, {
          pos,
          hint: `'${child}' is already an ancestor of '${group}'; group relations must not form a cycle`,
        });
      }
      g.children.push(child);
      if (!c.parents.includes(group)) c.parents.push(group);
      return;
    }
    if (this.s.hosts.has(child)) {
      this.addMember(g, child);
      return;
    }
    throw new ParseError(`${child} is not a known host nor group`, {
      pos,
      hint: `give '${child}' a mapping (or nothing) so it is declared as a group, or declare it as a host`,
    });
  }

  /** set_variable: on the group of that name if there is one, else on the host. */
  setVariable(entity: string, key: string, value: unknown, pos: SourcePos): void {
    const g = this.s.groups.get(entity);
    if (g) {
      if (key === 'ansible_group_priority') {
        try {
          g.priority = pyInt(value);
        } catch (e) {
          if (!(e instanceof PyValueError)) throw e;
          throw new ParseError(`ansible_group_priority of group '${entity}': ${e.message}`, {
            pos,
            hint: 'ansible_group_priority must be an integer',
          });
        }
        return;
      }
      g.vars.set(key, { value, pos });
      return;
    }
    const h = this.s.hosts.get(entity);
    if (h) {
      h.vars.set(key, { value, pos });
      return;
    }
    throw new ParseError(`Could not identify group or host named ${entity}`, { pos, hint: 'declare the host or group before setting its variables' });
  }

  /** every group each host is in, directly or through parents */
  private closures(): Map<string, Set<string>> {
    const direct = new Map<string, string[]>();
    for (const g of this.s.groups.values()) {
      for (const h of g.hosts) {
        const l = direct.get(h);
        if (l) l.push(g.name);
        else direct.set(h, [g.name]);
      }
    }
    const up = new Map<string, Set<string>>(); // group → itself and its ancestors
    const ancestorsOf = (name: string): Set<string> => {
      let a = up.get(name);
      if (!a) {
        a = new Set([name, ...this.ancestors(name)]);
        up.set(name, a);
      }
      return a;
    };
    const out = new Map<string, Set<string>>();
    for (const h of this.s.hosts.keys()) {
      const mine = new Set<string>();
      for (const g of direct.get(h) ?? []) for (const a of ancestorsOf(g)) mine.add(a);
      out.set(h, mine);
    }
    return out;
  }

  /** reconcile_inventory + depths: the finished Inventory. */
  finish(): Inventory {
    const groups = this.s.groups;
    for (const g of [...groups.values()]) {
      if (g.name !== 'all' && this.ancestors(g.name).size === 0) this.addChild('all', g.name, g.pos);
    }
    const ungrouped = groups.get('ungrouped')!;
    const remove = new Set<string>();
    for (const [h, mine] of this.closures()) {
      if (mine.has('ungrouped')) {
        if ([...mine].some((x) => x !== 'all' && x !== 'ungrouped')) remove.add(h);
      } else if (mine.size === 0 || (mine.size === 1 && mine.has('all'))) {
        this.addMember(ungrouped, h);
      }
    }
    if (remove.size) ungrouped.hosts = ungrouped.hosts.filter((h) => !remove.has(h));
    for (const name of groups.keys()) {
      if (this.s.hosts.has(name)) this.warn(`Found both group and host with same name: ${name}`);
    }
    // depth = longest path from `all` (what Ansible's incremental updates amount to)
    const memo = new Map<string, number>();
    const depthOf = (name: string): number => {
      const known = memo.get(name);
      if (known !== undefined) return known;
      const g = groups.get(name)!;
      let d = 0;
      for (const p of g.parents) d = Math.max(d, depthOf(p) + 1);
      memo.set(name, d);
      return d;
    };
    for (const g of groups.values()) g.depth = depthOf(g.name);
    return { hosts: this.s.hosts, groups, sources: [...this.sources], warnings: this.s.warnings };
  }
}
