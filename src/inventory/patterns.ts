/**
 * Ansible host patterns, for `--limit` and a play's `hosts:`:
 *   all / *            every host, inventory order
 *   web, db1           a group (its hosts and its descendants' hosts) or a host
 *   a:b  a,b           union          a:&b  intersection          a:!b  exclusion
 *   g[0]  g[-1]  g[0:2]  g[1:]     subscripts (ranges include their end, as in Ansible)
 *   web*  db?          shell wildcards, matched against group names and host names
 *   ~web\d+            regular expression (anchored at the start, as Python's re.match)
 *   @file              host names listed in a file (a retry file), one per line
 * Evaluation order is Ansible's: all unions first (in the order written), then intersections, then
 * exclusions; a pattern of only `&`/`!` terms starts from `all`. A term that matches nothing is an
 * error that lists the closest group and host names.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../core/errors.js';

/** What pattern matching needs of an inventory (structurally compatible with src/inventory/types.ts). */
export interface PatternInventory {
  hosts: Map<string, unknown>;
  groups: Map<string, { name: string; hosts: string[]; children: string[] }>;
}

export interface SelectOptions {
  /** what to do when a term matches nothing: throw (default) or skip it */
  onNoMatch?: 'error' | 'ignore';
  /** where the pattern came from, for messages (e.g. "--limit" or "play hosts") */
  source?: string;
  /** base directory for @file terms */
  cwd?: string;
}

export class PatternError extends UsageError {}

/** Splits a pattern into terms: on commas when there are any, else on colons outside [] and IPv6 addresses. */
export function splitPattern(pattern: string | string[]): string[] {
  if (Array.isArray(pattern)) return pattern.flatMap((p) => splitPattern(p));
  const p = pattern.trim();
  if (!p) return [];
  if (p.includes(',')) return p.split(',').map((s) => s.trim()).filter(Boolean);
  // A bare IPv6 address is one term.
  if (/^[0-9a-f]*:[0-9a-f:]*:[0-9a-f]*$/i.test(p) && (p.match(/:/g) ?? []).length >= 2) return [p];
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '[') depth++;
    else if (c === ']') depth = Math.max(0, depth - 1);
    if (c === ':' && depth === 0) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function groupHosts(inv: PatternInventory, name: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visited = new Set<string>();
  // The group's own hosts first, then its descendants level by level (as Ansible orders them).
  let level = [name];
  while (level.length) {
    const next: string[] = [];
    for (const g of level) {
      if (visited.has(g)) continue;
      visited.add(g);
      const grp = inv.groups.get(g);
      if (!grp) continue;
      for (const h of grp.hosts) {
        if (!seen.has(h)) {
          seen.add(h);
          out.push(h);
        }
      }
      next.push(...grp.children);
    }
    level = next;
  }
  return out;
}

function allHosts(inv: PatternInventory): string[] {
  return [...inv.hosts.keys()];
}

interface Subscript {
  start: number;
  end?: number | 'last';
  single: boolean;
  text: string;
}

function splitSubscript(term: string): { base: string; sub?: Subscript } {
  if (term.startsWith('~')) return { base: term };
  // As Ansible: [i], [-i], [start:end], [start:] (and [start-end]); the start of a range is required.
  const m = /^(.+)\[(?:(-?\d+)|(\d+)[:-](\d*))\]$/.exec(term);
  if (!m) return { base: term };
  const text = term.slice(m[1]!.length);
  if (m[2] !== undefined) return { base: m[1]!, sub: { start: Number(m[2]), single: true, text } };
  return {
    base: m[1]!,
    sub: { start: Number(m[3]), end: m[4] ? Number(m[4]) : 'last', single: false, text },
  };
}

function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        let cls = glob.slice(i + 1, close);
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else re += c.replace(/[\\^$.+()|{}]/g, '\\$&');
  }
  return new RegExp(`^(?:${re})$`);
}

function matcher(pattern: string, source: string): (name: string) => boolean {
  if (pattern.startsWith('~')) {
    let re: RegExp;
    try {
      re = new RegExp(pattern.slice(1));
    } catch (e) {
      throw new PatternError(`invalid regular expression in host pattern ${JSON.stringify(pattern)} (${source}): ${(e as Error).message}`);
    }
    // Python's re.match: anchored at the start only.
    return (name) => {
      const m = re.exec(name);
      return m !== null && m.index === 0;
    };
  }
  if (/[*?[]/.test(pattern)) {
    const re = globRegExp(pattern);
    return (name) => re.test(name);
  }
  return (name) => name === pattern;
}

function enumerate(inv: PatternInventory, pattern: string, source: string): string[] {
  if (pattern === 'all' || pattern === '*') return inv.groups.has('all') ? groupHosts(inv, 'all') : allHosts(inv);
  const match = matcher(pattern, source);
  const groups = [...inv.groups.keys()].filter(match);
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (h: string) => {
    if (!seen.has(h)) {
      seen.add(h);
      out.push(h);
    }
  };
  for (const g of groups) for (const h of groupHosts(inv, g)) add(h);
  // Hosts are searched when no group matched, or when the pattern could name a host (regex, glob, dotted name).
  if (groups.length === 0 || pattern.startsWith('~') || /[.?*[]/.test(pattern)) {
    for (const h of inv.hosts.keys()) if (match(h)) add(h);
  }
  return out;
}

function applySubscript(hosts: string[], sub: Subscript, term: string, source: string): string[] {
  const n = hosts.length;
  if (sub.single) {
    const i = sub.start < 0 ? n + sub.start : sub.start;
    if (i < 0 || i >= n) throw new PatternError(`host pattern ${term} (${source}) is out of range: it selects from ${n} host${n === 1 ? '' : 's'}`);
    return [hosts[i]!];
  }
  const end = sub.end === 'last' || sub.end === undefined ? n - 1 : sub.end;
  return hosts.slice(sub.start, end + 1);
}

/** Edit distance counting an adjacent transposition as one edit ("wbe" → "web" is 1). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** Up to 5 group/host names close to `name` (edit distance, or one containing the other). */
export function closeMatches(inv: PatternInventory, name: string): string[] {
  const base = name.replace(/^[~&!]/, '').replace(/\[.*\]$/, '').toLowerCase();
  const names = [...new Set([...inv.groups.keys(), ...inv.hosts.keys()])];
  const limit = Math.max(1, Math.min(3, Math.floor(base.length / 3)));
  return names
    .map((n) => ({ n, d: editDistance(base, n.toLowerCase()) }))
    .filter(({ n, d }) => d <= limit || (base.length >= 3 && (n.toLowerCase().includes(base) || base.includes(n.toLowerCase()))))
    .sort((a, b) => a.d - b.d || a.n.localeCompare(b.n))
    .slice(0, 5)
    .map(({ n }) => n);
}

function matchTerm(inv: PatternInventory, term: string, opts: SelectOptions): string[] {
  const source = opts.source ?? 'host pattern';
  if (term.startsWith('@')) {
    const file = term.slice(1);
    let text: string;
    try {
      text = readFileSync(resolve(opts.cwd ?? process.cwd(), file), 'utf8');
    } catch (e) {
      throw new PatternError(`cannot read host list ${file} (${source}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const names = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    return names.flatMap((n) => matchTerm(inv, n, opts));
  }
  const { base, sub } = splitSubscript(term);
  const hosts = enumerate(inv, base, source);
  if (hosts.length === 0) {
    if (opts.onNoMatch === 'ignore') return [];
    const close = closeMatches(inv, base);
    const what = inv.groups.size + inv.hosts.size === 0 ? 'the inventory is empty' : `no group or host matches ${JSON.stringify(base)}`;
    throw new PatternError(`${source}: ${what}`, {
      hint: close.length ? `did you mean: ${close.join(', ')}?` : 'see ./run inventory --graph for the group and host names',
    });
  }
  return sub ? applySubscript(hosts, sub, term, source) : hosts;
}

/** The hosts a pattern selects, in Ansible's order. */
export function selectHosts(inv: PatternInventory, pattern: string | string[], opts: SelectOptions = {}): string[] {
  const terms = splitPattern(pattern);
  const unions = terms.filter((t) => !t.startsWith('&') && !t.startsWith('!'));
  const inters = terms.filter((t) => t.startsWith('&')).map((t) => t.slice(1));
  const excls = terms.filter((t) => t.startsWith('!')).map((t) => t.slice(1));
  if (unions.length === 0 && terms.length > 0) unions.push('all');
  let hosts: string[] = [];
  const seen = new Set<string>();
  for (const t of unions) {
    for (const h of matchTerm(inv, t, opts)) {
      if (!seen.has(h)) {
        seen.add(h);
        hosts.push(h);
      }
    }
  }
  for (const t of inters) {
    const that = new Set(matchTerm(inv, t, opts));
    hosts = hosts.filter((h) => that.has(h));
  }
  for (const t of excls) {
    const that = new Set(matchTerm(inv, t, opts));
    hosts = hosts.filter((h) => !that.has(h));
  }
  return hosts;
}

/** Restricts hosts (e.g. a play's) to a --limit pattern, keeping the hosts' order. */
export function limitHosts(inv: PatternInventory, hosts: string[], limit: string | undefined, opts: SelectOptions = {}): string[] {
  if (limit === undefined || limit.trim() === '') return hosts;
  const allowed = new Set(selectHosts(inv, limit, { source: '--limit', ...opts }));
  return hosts.filter((h) => allowed.has(h));
}
