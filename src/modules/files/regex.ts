/**
 * Python `re` line semantics on top of src/template/pyregex.ts, for lineinfile/blockinfile/replace:
 *  - `.` never matches `\n` only (JavaScript's also stops at `\r`, U+2028/9: CRLF files would differ),
 *  - `$` without MULTILINE matches at the end or before a final `\n`; with MULTILINE before every `\n`,
 *  - `^` with MULTILINE matches after every `\n` (JavaScript's also after `\r`).
 * The pattern is rewritten outside character classes, then handed to pyRegex (named groups, \A, \Z …).
 */
import { pyRegex, pyReplacement } from '../../template/pyregex.js';
import { ModuleArgError } from '../types.js';

export interface PyFlags {
  multiline?: boolean;
  dotall?: boolean;
  ignorecase?: boolean;
  global?: boolean;
}

/** Compiles a Python pattern with Python's `.`, `^`, `$` semantics (see the file comment). */
export function pyLineRegex(pattern: string, flags: PyFlags = {}): RegExp {
  let p = pattern;
  let { multiline, dotall, ignorecase } = flags;
  const fm = /^\(\?([aiLmsux]+)\)/.exec(p);
  if (fm) {
    p = p.slice(fm[0].length);
    for (const f of fm[1]!) {
      if (f === 'i') ignorecase = true;
      else if (f === 'm') multiline = true;
      else if (f === 's') dotall = true;
      else if (f === 'x') throw new ModuleArgError(`regex flag (?x) is not supported: ${pattern}`);
    }
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      out += c + (p[i + 1] ?? '');
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
        out += ']';
        i++;
      }
      continue;
    }
    if (c === '.') out += dotall ? '[\\s\\S]' : '[^\\n]';
    else if (c === '$') out += multiline ? '(?=\\n|(?![\\s\\S]))' : '(?=\\n?(?![\\s\\S]))';
    else if (c === '^') out += multiline ? '(?:(?<![\\s\\S])|(?<=\\n))' : '(?<![\\s\\S])';
    else out += c;
  }
  try {
    return pyRegex(out, { ignorecase: !!ignorecase, global: !!flags.global });
  } catch (e) {
    throw new ModuleArgError(`invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}

/** Python `re.subn(pattern, repl, text)` (pattern already compiled with global). Returns [text, count]. */
export function pySubn(re: RegExp, repl: string, text: string): [string, number] {
  let fn: (m: string, ...rest: unknown[]) => string;
  try {
    fn = pyReplacement(repl);
  } catch (e) {
    throw new ModuleArgError(`invalid replacement ${JSON.stringify(repl)}: ${(e as Error).message}`);
  }
  let n = 0;
  const out = text.replace(re, (m: string, ...rest: unknown[]) => {
    n++;
    return fn(m, ...rest);
  });
  return [out, n];
}

/** Python's `match.expand(template)` for lineinfile's backrefs. */
export function pyExpand(m: RegExpExecArray, template: string): string {
  let fn: (m: string, ...rest: unknown[]) => string;
  try {
    fn = pyReplacement(template);
  } catch (e) {
    throw new ModuleArgError(`invalid backreference template ${JSON.stringify(template)}: ${(e as Error).message}`);
  }
  const rest: unknown[] = [...m.slice(1), m.index, m.input];
  if (m.groups) rest.push(m.groups);
  return fn(m[0], ...rest);
}
