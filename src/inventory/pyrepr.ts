/**
 * Python's text forms of values, for output that must match ansible-inventory byte for byte:
 * `json.dumps(…, sort_keys=True, indent=4, ensure_ascii=False)` for --list/--host and `str()`/`repr()`
 * for `--graph --vars`. JS numbers cannot tell 1 from 1.0: an integral value prints as a Python int.
 */
import { compareCodePoints, isTuple, UnsafeText, VaultText } from './types.js';

/** Python's repr() of a float. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, expS] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const decpt = Number(expS) + 1; // value = 0.<digits> × 10^decpt
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
    if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
    return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  }
  const e = decpt - 1;
  const es = `${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return `${sign}${digits[0]}${digits.length > 1 ? '.' + digits.slice(1) : ''}e${es}`;
}

/** A number as Python would print it: integral safe integers as int, anything else as float. */
export function pyNumberRepr(x: number): string {
  if (Number.isSafeInteger(x)) return Object.is(x, -0) ? '0' : String(x);
  return pyFloatRepr(x);
}

const NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

/** Python's repr() of a str. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    i += cp > 0xffff ? 2 : 1;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp < 0x7f) out += ch;
    else if (cp !== 0x20 && NON_PRINTABLE.test(ch)) {
      if (cp <= 0xff) out += '\\x' + cp.toString(16).padStart(2, '0');
      else if (cp <= 0xffff) out += '\\u' + cp.toString(16).padStart(4, '0');
      else out += '\\U' + cp.toString(16).padStart(8, '0');
    } else out += ch;
  }
  return out + quote;
}

/** Python's repr() of a value built from Ansible's types. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return pyNumberRepr(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return pyStrRepr(v);
  if (v instanceof UnsafeText) return pyStrRepr(v.text);
  if (v instanceof VaultText) return pyStrRepr(v.ciphertext);
  if (Array.isArray(v)) {
    const items = v.map(pyRepr);
    if (isTuple(v)) return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
    return `[${items.join(', ')}]`;
  }
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyStrRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  return String(v);
}

/** Python's str() of a value (strings unquoted, containers as repr). */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof UnsafeText) return v.text;
  if (v instanceof VaultText) return v.ciphertext;
  return pyRepr(v);
}

function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

function jsonNumber(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return pyNumberRepr(x);
}

/**
 * `json.dumps(v, sort_keys=True, indent=4, ensure_ascii=False)` as ansible-inventory calls it, with
 * AnsibleJSONEncoder's forms for unsafe and vault values.
 */
export function pyJsonDumps(v: unknown, indent = 4, level = 0): string {
  if (v === null || v === undefined) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'number') return jsonNumber(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return jsonString(v);
  if (v instanceof UnsafeText || v instanceof VaultText) return pyJsonDumps(v.toJSON(), indent, level);
  const pad = ' '.repeat(indent * (level + 1));
  const end = ' '.repeat(indent * level);
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return `[\n${v.map((x) => pad + pyJsonDumps(x, indent, level + 1)).join(',\n')}\n${end}]`;
  }
  if (v instanceof Map) return pyJsonDumps(Object.fromEntries(v), indent, level);
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort(compareCodePoints);
    if (!keys.length) return '{}';
    const o = v as Record<string, unknown>;
    return `{\n${keys.map((k) => `${pad}${jsonString(k)}: ${pyJsonDumps(o[k], indent, level + 1)}`).join(',\n')}\n${end}}`;
  }
  return jsonString(String(v));
}
