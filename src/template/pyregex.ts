/**
 * Python `re` patterns and replacement strings → JavaScript RegExp. Covers what playbooks write: named groups
 * `(?P<n>…)`/`(?P=n)`, `\A` `\Z`, inline flags at the start (`(?i)`, `(?m)`, `(?s)`, `(?x)` is refused),
 * `\1`/`\g<1>`/`\g<name>` in replacements. Python's `\w`/`\d` are Unicode-aware; JavaScript's are ASCII
 * (documented difference).
 */
import { PluginError } from './errors.js';

const cache = new Map<string, RegExp>();

export function pyRegex(pattern: string, opts: { ignorecase?: boolean; multiline?: boolean; global?: boolean; dotall?: boolean } = {}): RegExp {
  const key = `${+!!opts.ignorecase}${+!!opts.multiline}${+!!opts.global}${+!!opts.dotall}${pattern}`;
  const hit = cache.get(key);
  if (hit) {
    hit.lastIndex = 0;
    return hit;
  }
  let p = pattern;
  let flags = 'u';
  const fm = /^\(\?([aiLmsux]+)\)/.exec(p);
  if (fm) {
    p = p.slice(fm[0].length);
    for (const f of fm[1]!) {
      if (f === 'i') opts = { ...opts, ignorecase: true };
      else if (f === 'm') opts = { ...opts, multiline: true };
      else if (f === 's') opts = { ...opts, dotall: true };
      else if (f === 'x') throw new PluginError(`regex flag (?x) is not supported: ${pattern}`);
    }
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      const n = p[i + 1];
      if (n === undefined) throw new PluginError(`bad escape (end of pattern): ${pattern}`);
      if (!inClass && n === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && n === 'Z') out += '(?![\\s\\S])';
      else if (/[A-Za-z0-9]/.test(n) || /[\\^$.|?*+()[\]{}/]/.test(n)) out += c + n;
      else if (n === '-') out += inClass ? '\\-' : '-';
      else out += n; // `\'` `\"` `\ ` `\#` `\:` are literal in Python; JavaScript's u-mode refuses them
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (p[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (p[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && p.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
      continue;
    }
    if (c === '(' && p.startsWith('(?P=', i)) {
      const e = p.indexOf(')', i);
      out += `\\k<${p.slice(i + 4, e)}>`;
      i = e;
      continue;
    }
    if (c === '{' && !/^\{\d*(,\d*)?\}/.test(p.slice(i))) {
      out += '\\{';
      continue;
    }
    if (c === '}') {
      // a `}` closing a quantifier stays, a lone one is literal
      const before = out.lastIndexOf('{');
      out += before >= 0 && /^\{\d*(,\d*)?$/.test(out.slice(before)) ? '}' : '\\}';
      continue;
    }
    out += c;
  }
  if (opts.ignorecase) flags += 'i';
  if (opts.multiline) flags += 'm';
  if (opts.dotall) flags += 's';
  if (opts.global) flags += 'g';
  let re: RegExp;
  try {
    re = new RegExp(out, flags);
  } catch (e) {
    throw new PluginError(`invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
  if (cache.size > 500) cache.clear();
  cache.set(key, re);
  return re;
}

/** Python `re.sub` replacement template → a JS replacer function. */
export function pyReplacement(repl: string): (match: string, ...rest: unknown[]) => string {
  const parts: (string | number | { name: string })[] = [];
  let lit = '';
  for (let i = 0; i < repl.length; i++) {
    const c = repl[i]!;
    if (c !== '\\') {
      lit += c;
      continue;
    }
    const n = repl[i + 1];
    if (n === undefined) throw new PluginError('bad escape (end of replacement string)');
    const g = /^g<([^>]+)>/.exec(repl.slice(i + 1));
    if (g) {
      if (lit) parts.push(lit);
      lit = '';
      parts.push(/^\d+$/.test(g[1]!) ? Number(g[1]) : { name: g[1]! });
      i += g[0].length;
      continue;
    }
    const d = /^\d{1,2}/.exec(repl.slice(i + 1));
    if (d) {
      if (lit) parts.push(lit);
      lit = '';
      parts.push(Number(d[0]));
      i += d[0].length;
      continue;
    }
    const esc: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', f: '\f', v: '\v', a: '\x07', b: '\b' };
    if (n in esc) lit += esc[n];
    else if (/[A-Za-z]/.test(n)) throw new PluginError(`bad escape \\${n} in replacement`);
    else lit += '\\' + n;
    i++;
  }
  if (lit) parts.push(lit);
  return (match: string, ...rest: unknown[]) => {
    // rest: p1..pn, offset, string, [groups]
    const last = rest[rest.length - 1];
    const hasGroups = typeof last === 'object' && last !== null;
    const groups = (hasGroups ? last : undefined) as Record<string, string | undefined> | undefined;
    const caps = rest.slice(0, hasGroups ? -3 : -2) as (string | undefined)[];
    let s = '';
    for (const p of parts) {
      if (typeof p === 'string') s += p;
      else if (typeof p === 'number') {
        if (p === 0) s += match;
        else if (p > caps.length) throw new PluginError(`invalid group reference ${p}`);
        else s += caps[p - 1] ?? '';
      } else {
        if (!groups || !(p.name in groups)) throw new PluginError(`unknown group name '${p.name}'`);
        s += groups[p.name] ?? '';
      }
    }
    return s;
  };
}
