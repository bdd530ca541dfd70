/**
 * `to_yaml` / `to_nice_yaml` as Ansible prints them: PyYAML's `yaml.dump` (SafeDumper rules: sorted keys,
 * YAML 1.1 implicit types quoted, `...` after a bare root scalar) with `default_flow_style=None` (to_yaml:
 * collections of scalars in flow style) or `False` (to_nice_yaml), `indent` 2 or 4, width 80 folding of plain
 * scalars. Not emulated: folding inside flow collections and double-quoted scalars (documented).
 */

const BOOL_RE = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const FLOAT_RE = /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const INT_RE = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const NULL_RE = /^(?:~|null|Null|NULL|)$/;
const TS_RE = /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/;

function resolvesToOther(s: string): boolean {
  // PyYAML only checks resolvers whose first character matches; the regexes above cover the same set.
  return BOOL_RE.test(s) || FLOAT_RE.test(s) || INT_RE.test(s) || NULL_RE.test(s) || TS_RE.test(s) || s === '<<' || s === '=';
}

interface Analysis {
  multiline: boolean;
  flowPlain: boolean;
  blockPlain: boolean;
  singleQuoted: boolean;
}

// eslint-disable-next-line no-control-regex -- Python's line/character classes include control characters
const SPECIAL = /[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]|\uFEFF/u;

/** PyYAML's Emitter.analyze_scalar (allow_unicode=True). */
function analyze(s: string): Analysis {
  if (!s) return { multiline: false, flowPlain: false, blockPlain: true, singleQuoted: true };
  let blockInd = false;
  let flowInd = false;
  if (s.startsWith('---') || s.startsWith('...')) blockInd = flowInd = true;
  let preceededByWs = true;
  let followedByWs = s.length === 1 || /[\0 \t\r\n\x85\u2028\u2029]/.test(s[1]!);
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let prevSpace = false;
  let prevBreak = false;
  const chars = [...s];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) flowInd = blockInd = true;
      if ('?:'.includes(ch)) {
        flowInd = true;
        if (followedByWs) blockInd = true;
      }
      if (ch === '-' && followedByWs) flowInd = blockInd = true;
    } else {
      if (',?[]{}'.includes(ch)) flowInd = true;
      if (ch === ':') {
        flowInd = true;
        if (followedByWs) blockInd = true;
      }
      if (ch === '#' && preceededByWs) flowInd = blockInd = true;
    }
    if ('\n\x85\u2028\u2029'.includes(ch)) lineBreaks = true;
    if (!(ch === '\n' || (ch >= ' ' && ch <= '~'))) {
      if (SPECIAL.test(ch) || ch === '\uFEFF') special = true;
    }
    if (ch === ' ') {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (prevBreak) breakSpace = true;
      prevSpace = true;
      prevBreak = false;
    } else if ('\n\x85\u2028\u2029'.includes(ch)) {
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (prevSpace) spaceBreak = true;
      prevSpace = false;
      prevBreak = true;
    } else {
      prevSpace = false;
      prevBreak = false;
    }
    preceededByWs = /[\0 \t\r\n\x85\u2028\u2029]/.test(ch);
    followedByWs = i + 2 >= chars.length || /[\0 \t\r\n\x85\u2028\u2029]/.test(chars[i + 2]!);
  }
  let flowPlain = true;
  let blockPlain = true;
  let singleQuoted = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) flowPlain = blockPlain = false;
  if (trailingSpace) {
    /* block styles not used here */
  }
  if (breakSpace) flowPlain = blockPlain = singleQuoted = false;
  if (spaceBreak || special) flowPlain = blockPlain = singleQuoted = false;
  if (lineBreaks) flowPlain = blockPlain = false;
  if (flowInd) flowPlain = false;
  if (blockInd) blockPlain = false;
  return { multiline: lineBreaks, flowPlain, blockPlain, singleQuoted };
}

class Writer {
  out = '';
  column = 0;
  constructor(readonly width = 80) {}
  write(s: string): void {
    this.out += s;
    const nl = s.lastIndexOf('\n');
    this.column = nl >= 0 ? s.length - nl - 1 : this.column + s.length;
  }
  newline(indent: number): void {
    this.out += '\n' + ' '.repeat(indent);
    this.column = indent;
  }
}

function pyFloatYaml(x: number): string {
  if (Number.isNaN(x)) return '.nan';
  if (x === Infinity) return '.inf';
  if (x === -Infinity) return '-.inf';
  return String(x);
}

function scalarText(v: unknown): { text: string; isStr: boolean } {
  if (v === null || v === undefined) return { text: 'null', isStr: false };
  if (v === true) return { text: 'true', isStr: false };
  if (v === false) return { text: 'false', isStr: false };
  if (typeof v === 'number') return { text: Number.isInteger(v) ? String(v) : pyFloatYaml(v), isStr: false };
  return { text: String(v), isStr: true };
}

function isScalar(v: unknown): boolean {
  return v === null || v === undefined || typeof v !== 'object';
}

export interface DumpOptions {
  indent: number;
  flow: 'auto' | 'block';
  width?: number;
}

/** yaml.dump(value, Dumper=AnsibleDumper, allow_unicode=True, default_flow_style=…, indent=…). */
export function pyyamlDump(value: unknown, opts: DumpOptions): string {
  const w = new Writer(opts.width ?? 80);
  const ind = opts.indent;
  const flowOf = (v: unknown): boolean => {
    if (opts.flow === 'block') return isEmpty(v);
    if (Array.isArray(v)) return v.every(isScalar);
    return Object.values(v as object).every(isScalar);
  };

  const writeScalar = (v: unknown, indent: number, flowCtx: boolean, simpleKey: boolean): void => {
    const { text, isStr } = scalarText(v);
    if (!isStr) {
      w.write(text);
      return;
    }
    const a = analyze(text);
    const plainOk = (flowCtx ? a.flowPlain : a.blockPlain) && !(simpleKey && a.multiline) && text !== '' && !resolvesToOther(text);
    if (plainOk) {
      writeFolded(w, text, indent, !simpleKey);
      return;
    }
    if (a.singleQuoted && !(simpleKey && a.multiline)) {
      writeSingleQuoted(w, text, indent, !simpleKey);
      return;
    }
    w.write(doubleQuoted(text));
  };

  const writeFlow = (v: unknown, indent: number): void => {
    if (Array.isArray(v)) {
      w.write('[');
      v.forEach((x, i) => {
        if (i) w.write(', ');
        if (isScalar(x)) writeScalar(x, indent, true, false);
        else writeFlow(x, indent);
      });
      w.write(']');
    } else {
      const entries = sortedEntries(v as Record<string, unknown>);
      w.write('{');
      entries.forEach(([k, x], i) => {
        if (i) w.write(', ');
        writeScalar(k, indent, true, true);
        w.write(': ');
        if (isScalar(x)) writeScalar(x, indent, true, false);
        else writeFlow(x, indent);
      });
      w.write('}');
    }
  };

  // Block writers: they are called with the cursor where the node starts.
  const writeNode = (v: unknown, indent: number, ctx: 'root' | 'map' | 'seq'): void => {
    if (isScalar(v)) {
      writeScalar(v, indent, false, false);
      return;
    }
    if (flowOf(v)) {
      writeFlow(v, indent);
      return;
    }
    if (Array.isArray(v)) {
      // sequences inside mappings are indentless (PyYAML)
      const base = ctx === 'map' ? indent - ind : indent;
      v.forEach((x, i) => {
        if (i > 0 || ctx === 'map') w.newline(base);
        // a scalar item follows `- `; a block collection starts at the item's indentation column
        w.write(isScalar(x) || flowOf(x) ? '- ' : '-' + ' '.repeat(Math.max(1, ind - 1)));
        writeNode(x, base + ind, 'seq');
      });
    } else {
      const entries = sortedEntries(v as Record<string, unknown>);
      entries.forEach(([k, x], i) => {
        if (i > 0 || ctx === 'map') w.newline(indent);
        writeScalar(k, indent, false, true);
        w.write(':');
        if (isScalar(x) || flowOf(x)) {
          w.write(' ');
          writeNode(x, indent + ind, 'map');
        } else writeNode(x, indent + ind, 'map');
      });
    }
  };

  writeNode(value, 0, 'root');
  // (PyYAML adds `...` after a bare root scalar; Ansible's dumper does not.)
  return w.out + '\n';
}

function isEmpty(v: unknown): boolean {
  return Array.isArray(v) ? v.length === 0 : Object.keys(v as object).length === 0;
}

function sortedEntries(o: Record<string, unknown>): [string, unknown][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function writeFolded(w: Writer, text: string, indent: number, split: boolean): void {
  // PyYAML write_plain: a single space after a word that ended past the width becomes a line break.
  const words = text.split(/( +)/);
  for (const part of words) {
    if (/^ $/.test(part) && split && w.column > w.width) {
      w.newline(indent);
      continue;
    }
    w.write(part);
  }
}

function writeSingleQuoted(w: Writer, text: string, indent: number, split: boolean): void {
  w.write("'");
  const chars = [...text];
  let i = 0;
  while (i < chars.length) {
    const ch = chars[i]!;
    if (ch === '\n') {
      // a run of n breaks is written as n+1 line ends (the first one folds); each continuation is indented
      let n = 0;
      while (chars[i] === '\n') {
        n++;
        i++;
      }
      if (n === 1) w.out += '\n';
      for (let k = 0; k < n; k++) w.out += '\n';
      w.out = w.out.slice(0, -1);
      w.newline(indent);
      continue;
    }
    if (ch === ' ' && chars[i + 1] !== ' ' && (i === 0 || chars[i - 1] !== ' ') && split && w.column > w.width && i !== 0 && i !== chars.length - 1) {
      w.newline(indent);
      i++;
      continue;
    }
    w.write(ch === "'" ? "''" : ch);
    i++;
  }
  w.write("'");
}

function doubleQuoted(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const esc: Record<string, string> = { '\0': '0', '\x07': 'a', '\b': 'b', '\t': 't', '\n': 'n', '\v': 'v', '\f': 'f', '\r': 'r', '\x1b': 'e', '"': '"', '\\': '\\', '\x85': 'N', '\xA0': '_', '\u2028': 'L', '\u2029': 'P' };
    if (ch in esc) out += '\\' + esc[ch];
    else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp === 0xfeff || (cp >= 0xd800 && cp < 0xe000)) {
      out += cp < 0x100 ? '\\x' + cp.toString(16).toUpperCase().padStart(2, '0') : '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
    } else out += ch;
  }
  return out + '"';
}
