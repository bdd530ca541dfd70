/**
 * INI inventories, read as ansible-core's `ini` inventory plugin reads them:
 *  - lines before any section are hosts of `ungrouped`; `[g]` hosts, `[g:vars]` key=value,
 *    `[g:children]` group names (declared before or after the child's own section);
 *  - a host line is split like a shell line (Python shlex, posix, `#` comments), the first word is the
 *    host (ranges, `:port`), the rest `key=value`;
 *  - every value goes through Python's ast.literal_eval (pyParseValue), so inline host vars — whose
 *    quotes shlex has already removed — type differently from `[g:vars]` lines, which are taken whole:
 *    `x="1"` is the int 1 on a host line and the string "1" in a :vars section; `x=a # c` keeps the
 *    comment in :vars; JSON dicts survive only in :vars (`{"a":"b"}` loses its quotes on a host line);
 *  - `;` and `#` start comment lines; only `#` works after a section header or on a host line.
 * Errors are ParseErrors with file:line:col and a hint.
 */
import { ParseError, type SourcePos } from '../core/errors.js';
import type { InventoryBuilder } from './builder.js';
import { expandHostPattern, HostPatternError } from './hostpattern.js';
import { pyParseValue, PyLiteralError } from './pyliteral.js';
import { pySplitlines, pyStrip, shlexSplit, ShlexError, PY_WS_CLASS } from './pytext.js';

// `[name]`, `[name:type]`, optionally followed by a `#` comment
const SECTION = new RegExp(String.raw`^\[([^:\]${PY_WS_CLASS}]+)(?::([\p{L}\p{N}_]+))?\][${PY_WS_CLASS}]*(?:#.*)?$`, 'u');
const GROUPNAME = new RegExp(String.raw`^([^:\]${PY_WS_CLASS}]+)[${PY_WS_CLASS}]*(?:#.*)?$`, 'u');

type State = 'hosts' | 'vars' | 'children';

interface Pending {
  state: 'vars' | 'children';
  name: string;
  pos: SourcePos;
  /** groups whose [x:children] named this one, with where */
  parents: { name: string; pos: SourcePos }[];
}

function value(text: string, pos: SourcePos, what: string): unknown {
  try {
    return pyParseValue(text);
  } catch (e) {
    if (e instanceof PyLiteralError) {
      throw new ParseError(`${what}: ${e.message}`, {
        pos,
        hint: "quote the value to keep it a string (in [group:vars]: x='…'; on a host line: x=\"'…'\")",
      });
    }
    throw e;
  }
}

/** Parse INI inventory text into the builder. `file` is used for positions only. */
export function parseIniInventory(text: string, file: string, inv: InventoryBuilder): void {
  const pending = new Map<string, Pending>();
  let groupname = 'ungrouped';
  let state: State = 'hosts';
  const lines = pySplitlines(text);
  for (let idx = 0; idx < lines.length; idx++) {
    const lineno = idx + 1;
    const { text: line, offset } = pyStrip(lines[idx]!);
    const at = (i = 0): SourcePos => ({ file, line: lineno, col: offset + i + 1 });
    if (!line || line[0] === ';' || line[0] === '#') continue;

    const m = SECTION.exec(line);
    if (m) {
      groupname = m[1]!;
      const type = m[2] ?? 'hosts';
      if (type !== 'hosts' && type !== 'children' && type !== 'vars') {
        throw new ParseError(`Section [${groupname}:${type}] has unknown type: ${type}`, {
          pos: at(groupname.length + 2),
          hint: 'a section is [group] (hosts), [group:children] or [group:vars]',
        });
      }
      state = type;
      if (!inv.hasGroup(groupname)) {
        // [g] and [g:children] declare a group; [g:vars] alone does not (checked at the end)
        if (state === 'vars' && !pending.has(groupname)) {
          pending.set(groupname, { state: 'vars', name: groupname, pos: at(1), parents: [] });
        }
        inv.addGroup(groupname, at(1));
      }
      const p = pending.get(groupname);
      if (p && state !== 'vars') {
        if (p.state === 'children') addPendingChildren(inv, groupname, pending);
        else pending.delete(groupname);
      }
      continue;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      throw new ParseError(`Invalid section entry: '${line}'`, {
        pos: at(),
        hint: 'a section header is [name], [name:vars] or [name:children], with no spaces and no other characters',
      });
    }

    if (state === 'hosts') parseHostLine(line, at, groupname, inv);
    else if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) {
        throw new ParseError(`Expected key=value, got: ${line}`, {
          pos: at(),
          hint: `lines in [${groupname}:vars] are name=value; to list hosts use [${groupname}]`,
        });
      }
      const k = pyStrip(line.slice(0, eq)).text;
      const v = pyStrip(line.slice(eq + 1)).text;
      inv.setVariable(groupname, k, value(v, at(), `variable '${k}' of group '${groupname}'`), at());
    } else {
      const gm = GROUPNAME.exec(line);
      if (!gm) {
        throw new ParseError(`Expected group name, got: ${line}`, {
          pos: at(),
          hint: `lines in [${groupname}:children] are group names, one per line; hosts go in [${groupname}]`,
        });
      }
      const child = gm[1]!;
      if (!inv.hasGroup(child)) {
        const p = pending.get(child);
        if (!p) pending.set(child, { state: 'children', name: child, pos: at(), parents: [{ name: groupname, pos: at() }] });
        else p.parents.push({ name: groupname, pos: at() });
      } else inv.addChild(groupname, child, at());
    }
  }

  // Anything still pending was referenced but never declared; Ansible reports the first one.
  for (const decl of pending.values()) {
    if (decl.state === 'vars') {
      throw new ParseError(`Section [${decl.name}:vars] not valid for undefined group: ${decl.name}`, {
        pos: decl.pos,
        hint: `declare the group with a [${decl.name}] or [${decl.name}:children] section (it may be empty)`,
      });
    }
    const last = decl.parents[decl.parents.length - 1]!;
    const isHost = inv.hosts.has(decl.name);
    throw new ParseError(`Section [${last.name}:children] includes undefined group: ${decl.name}`, {
      pos: decl.pos,
      hint: isHost
        ? `'${decl.name}' is a host, not a group: list hosts under [${last.name}], groups under [${last.name}:children]`
        : `declare it with a [${decl.name}] section (it may be empty), or fix the name`,
    });
  }
}

function addPendingChildren(inv: InventoryBuilder, group: string, pending: Map<string, Pending>): void {
  const p = pending.get(group)!;
  for (const parent of p.parents) {
    inv.addChild(parent.name, group, parent.pos);
    const pp = pending.get(parent.name);
    if (pp && pp.state === 'children') addPendingChildren(inv, parent.name, pending);
  }
  pending.delete(group);
}

function parseHostLine(line: string, at: (i?: number) => SourcePos, groupname: string, inv: InventoryBuilder): void {
  let tokens;
  try {
    tokens = shlexSplit(line);
  } catch (e) {
    if (!(e instanceof ShlexError)) throw e;
    throw new ParseError(`Error parsing host definition '${line}': ${e.message}`, {
      pos: at(e.index),
      hint: e.message === 'No closing quotation' ? 'close the quote that starts here' : 'a line must not end with a backslash',
    });
  }
  const first = tokens[0];
  if (!first) return; // cannot happen for a non-comment line, kept for type safety
  const pattern = first.value;
  const hostPos = at(first.start);
  let names: string[];
  let port: number | undefined;
  try {
    ({ names, port } = expandHostPattern(pattern));
  } catch (e) {
    if (!(e instanceof HostPatternError)) throw e;
    const header = /^\[[^\]]*\]/.exec(line);
    throw new ParseError(`bad host range in '${pattern}': ${e.message}`, {
      pos: hostPos,
      hint:
        header && first.start === 0
          ? `this looks like a section header followed by text: only a # comment may follow ${header[0]} (not ;)`
          : 'ranges are [begin:end] or [begin:end:step]: web[1:3], node[01:10] (equal widths), db[a:c], x[1:9:2]',
    });
  }
  if (pyStrip(pattern).text.endsWith(':') && port === undefined) {
    throw new ParseError(`Invalid host pattern '${pattern}' supplied, ending in ':' is not allowed, this character is reserved to provide a port.`, {
      pos: hostPos,
      hint: 'write host:PORT with a number, or remove the trailing colon',
    });
  }
  for (const n of names) {
    if (pyStrip(n).text === '---') {
      throw new ParseError(`Invalid host pattern '${pattern}' supplied, '---' is normally a sign this is a YAML file.`, {
        pos: hostPos,
        hint: 'YAML inventories need a .yml/.yaml extension (or none) and valid YAML',
      });
    }
  }
  // key=value pairs; a repeated key keeps its first position and last value (a Python dict)
  const vars = new Map<string, { value: unknown; pos: SourcePos }>();
  for (const t of tokens.slice(1)) {
    const eq = t.value.indexOf('=');
    if (eq < 0) {
      throw new ParseError(`Expected key=value host variable assignment, got: ${t.value}`, {
        pos: at(t.start),
        hint: "host variables are key=value with no spaces around '='; quote values that contain spaces",
      });
    }
    const k = t.value.slice(0, eq);
    const pos = at(t.start);
    vars.set(k, { value: value(t.value.slice(eq + 1), pos, `variable '${k}' of host '${pattern}'`), pos });
  }
  for (const h of names) {
    inv.addHost(h, groupname, port, hostPos);
    for (const [k, d] of vars) inv.setVariable(h, k, d.value, d.pos);
  }
}
