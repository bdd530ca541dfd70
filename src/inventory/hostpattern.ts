/**
 * Host declarations: `name`, `name:port`, `[v6addr]:port`, and ranges (`web[1:3]`, `node[01:10]`,
 * `db[a:c]`, `x[1:9:2]`, several ranges in one name). Follows ansible.parsing.utils.addresses
 * .parse_address (what counts as a valid host, where the port is) and
 * ansible.plugins.inventory.expand_hostname_range (how ranges expand), quirks included:
 *  - a declaration that is not a valid host name/address keeps any `:NN` as part of the name;
 *  - `[3:1]` expands to nothing; `[ab:cd]` uses substring positions in a-zA-Z;
 *  - zero-padded ranges need begin and end of equal length.
 */
import { pyInt, PyValueError } from './pytext.js';

export class HostPatternError extends Error {}

/** Hard cap on the hosts one declaration may expand to (every loop is bounded). */
export const MAX_RANGE_HOSTS = 100_000;

const NUM_RANGE = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const HEX_RANGE = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const ALNUM_RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const V6C = String.raw`(?:[0-9a-f]{1,4}|${HEX_RANGE})`;
const V4C = String.raw`(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${NUM_RANGE})`;
const LABEL = String.raw`(?:[\p{L}\p{N}_]|${ALNUM_RANGE})(?:[\p{L}\p{N}_-]|${ALNUM_RANGE})*(?<![_-])`;

const BRACKETED_HOSTPORT = /^\[(.+)\]:([0-9]+)$/;
const HOSTPORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/;
export const IPV4 = new RegExp(String.raw`^(?:${V4C}\.){3}${V4C}$`, 'i');
// Python's pattern is `^alt1|…|alt15$` used with re.match: every alternative is anchored at the start,
// only the last one at the end (so e.g. anything starting with `a::` counts as an IPv6 address).
export const IPV6 = new RegExp(
  '^(?:' +
    [
      String.raw`(?:${V6C}:){7}${V6C}`,
      String.raw`(?:${V6C}:){1,6}:`,
      String.raw`(?:${V6C}:)(?::${V6C}){1,6}`,
      String.raw`(?:${V6C}:){2}(?::${V6C}){1,5}`,
      String.raw`(?:${V6C}:){3}(?::${V6C}){1,4}`,
      String.raw`(?:${V6C}:){4}(?::${V6C}){1,3}`,
      String.raw`(?:${V6C}:){5}(?::${V6C}){1,2}`,
      String.raw`(?:${V6C}:){6}(?::${V6C})`,
      String.raw`:(?::${V6C}){1,6}`,
      String.raw`${V6C}?::`,
      String.raw`(?:0:){6}(?:${V6C}\.){3}${V6C}`,
      String.raw`::(?:ffff:)?(?:${V6C}\.){3}${V6C}`,
      String.raw`(?:0:){5}ffff:(?:${V6C}\.){3}${V6C}$`,
    ].join('|') +
    ')',
  'i',
);
const HOSTNAME = new RegExp(String.raw`^${LABEL}(?:\.${LABEL})*$`, 'iu');

export interface ParsedAddress {
  host: string;
  port: number | undefined;
}

/** parse_address(): split off the port and check the rest is a host name or address. */
export function parseAddress(address: string, allowRanges: boolean): ParsedAddress {
  let port: number | undefined;
  for (const re of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const m = re.exec(address);
    if (m) {
      address = m[1]!;
      port = Number(m[2]!);
    }
  }
  if (!(IPV4.test(address) || IPV6.test(address) || HOSTNAME.test(address))) {
    throw new HostPatternError(`Not a valid network hostname: ${address}`);
  }
  if (!allowRanges && address.includes('[')) throw new HostPatternError('Detected range in host but was asked to ignore ranges');
  return { host: address, port };
}

export interface ExpandedPattern {
  names: string[];
  port: number | undefined;
}

/** BaseInventoryPlugin._expand_hostpattern: names and optional port of one host declaration. */
export function expandHostPattern(pattern: string): ExpandedPattern {
  let host = pattern;
  let port: number | undefined;
  try {
    ({ host, port } = parseAddress(pattern, true));
  } catch {
    host = pattern;
    port = undefined;
  }
  const names = host.includes('[') ? expandHostnameRange(host) : [host];
  return { names, port };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

function zfill(s: string, width: number): string {
  const sign = s[0] === '-' || s[0] === '+' ? s[0] : '';
  const body = sign ? s.slice(1) : s;
  return sign + body.padStart(width - sign.length, '0');
}

/** Python's seq[start:stop:step] indices for a sequence of length len (start/stop already in range). */
function sliceIndices(start: number, stop: number, step: number): number[] {
  const out: number[] = [];
  if (step > 0) for (let i = start; i < stop && out.length <= MAX_RANGE_HOSTS; i += step) out.push(i);
  else for (let i = start; i > stop && out.length <= MAX_RANGE_HOSTS; i += step) out.push(i);
  return out;
}

function int(s: string): number {
  try {
    return pyInt(s);
  } catch (e) {
    if (e instanceof PyValueError) throw new HostPatternError(e.message);
    throw e;
  }
}

/** expand_hostname_range(): `db[01:03]-x[a:b]` → db01-xa, db01-xb, db02-xa, … */
export function expandHostnameRange(line: string): string[] {
  const parts = line.replace('[', '|').replace(']', '|').split('|');
  if (parts.length !== 3) {
    throw new HostPatternError(
      parts.length < 3 ? `not enough values to unpack (expected 3, got ${parts.length})` : 'too many values to unpack (expected 3)',
    );
  }
  const [head, nrange, tail] = parts as [string, string, string];
  const bounds = nrange.split(':');
  if (bounds.length !== 2 && bounds.length !== 3) throw new HostPatternError('host range must be begin:end or begin:end:step');
  let beg = bounds[0]!;
  const end = bounds[1]!;
  const step = bounds.length === 3 ? bounds[2]! : '1';
  if (!beg) beg = '0';
  if (!end) throw new HostPatternError('host range must specify end value');
  let fill = (x: string): string => x;
  if (beg[0] === '0' && beg.length > 1) {
    const rlen = beg.length;
    if (rlen !== end.length) throw new HostPatternError('host range must specify equal-length begin and end formats');
    fill = (x) => zfill(x, rlen);
  }
  let seq: string[] | undefined;
  const iBeg = LETTERS.indexOf(beg);
  const iEnd = LETTERS.indexOf(end);
  if (iBeg >= 0 && iEnd >= 0) {
    if (iBeg > iEnd) throw new HostPatternError('host range must have begin <= end');
    // int(step) failing or a zero step is a ValueError, which sends Python to the numeric branch
    let st: number | undefined;
    try {
      st = pyInt(step);
    } catch {
      st = undefined;
    }
    if (st !== undefined && st !== 0) seq = sliceIndices(iBeg, Math.min(iEnd + 1, LETTERS.length), st).map((i) => LETTERS[i]!);
  }
  if (!seq) {
    const b = int(beg);
    const e = int(end);
    const st = int(step);
    if (st === 0) throw new HostPatternError('range() arg 3 must not be zero');
    seq = sliceIndices(b, e + 1, st).map(String);
  }
  const out: string[] = [];
  for (const r of seq) {
    const name = head + fill(r) + tail;
    if (name.includes('[')) out.push(...expandHostnameRange(name));
    else out.push(name);
    if (out.length > MAX_RANGE_HOSTS) throw new HostPatternError(`the range expands to more than ${MAX_RANGE_HOSTS} hosts`);
  }
  return out;
}
