/**
 * ansible.utils `ipaddr` / `ipv4` / `ipv6` / `network_in_usable` semantics (netaddr-based in Ansible), on
 * ipaddr.js. What matters for the installer: validation (`x | ipaddr` is the value or False), `'net'`
 * (a network address with prefix, else False), `'address'`, `'network'`, `'prefix'`, `'netmask'`, host and
 * usable-range queries, `cidr_lookup` (query is a network), and lists (filtered, falsy results dropped).
 */
import ipaddr from 'ipaddr.js';
import { PluginError } from './errors.js';

type Addr = ipaddr.IPv4 | ipaddr.IPv6;

/** netaddr's IPNetwork: an address with a prefix (the address keeps its host bits). */
interface Net {
  version: 4 | 6;
  ip: bigint;
  prefix: number;
  bits: number;
}

function toBig(a: Addr): bigint {
  let v = 0n;
  for (const b of a.toByteArray()) v = (v << 8n) | BigInt(b);
  return v;
}

function fromBig(v: bigint, version: 4 | 6): string {
  if (version === 4) {
    const n = Number(v);
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  const bytes: number[] = [];
  for (let i = 15; i >= 0; i--) bytes.push(Number((v >> BigInt(i * 8)) & 255n));
  return ipaddr.fromByteArray(bytes).toString();
}

function parseAddr(s: string): Addr | undefined {
  // netaddr accepts 1–4 decimal parts and zero-fills on the right ('198.18.0' → 198.18.0.0)
  if (/^\d{1,3}(\.\d{1,3}){0,3}$/.test(s)) {
    const parts = s.split('.').map(Number);
    if (parts.some((x) => x > 255)) return undefined;
    while (parts.length < 4) parts.push(0);
    return ipaddr.IPv4.parse(parts.join('.'));
  }
  if (s.includes(':') && ipaddr.IPv6.isValid(s)) return ipaddr.IPv6.parse(s);
  return undefined;
}

/** netaddr.IPNetwork(value); undefined when invalid. */
export function parseNet(value: string): Net | undefined {
  const s = value.trim();
  const slash = s.indexOf('/');
  const a = parseAddr(slash < 0 ? s : s.slice(0, slash));
  if (!a) return undefined;
  const version = a.kind() === 'ipv4' ? 4 : 6;
  const bits = version === 4 ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (/^\d+$/.test(p)) prefix = Number(p);
    else if (version === 4 && ipaddr.IPv4.isValidFourPartDecimal(p)) {
      const m = ipaddr.IPv4.parse(p);
      const pl = m.prefixLengthFromSubnetMask();
      if (pl !== null) prefix = pl;
      else {
        // netaddr accepts a hostmask (0.0.0.255) as well
        const inv = ipaddr.IPv4.parse(m.toByteArray().map((b) => 255 - b).join('.'));
        const pl2 = inv.prefixLengthFromSubnetMask();
        if (pl2 === null) return undefined;
        prefix = pl2;
      }
    } else return undefined;
    if (prefix > bits) return undefined;
  }
  return { version, ip: toBig(a), prefix, bits };
}

const size = (n: Net): bigint => 1n << BigInt(n.bits - n.prefix);
const mask = (n: Net): bigint => ((1n << BigInt(n.bits)) - 1n) ^ (size(n) - 1n);
const network = (n: Net): bigint => n.ip & mask(n);
const broadcast = (n: Net): bigint => network(n) + size(n) - 1n;
const ipStr = (n: Net): string => fromBig(n.ip, n.version as 4 | 6);
const cidrStr = (n: Net): string => `${ipStr(n)}/${n.prefix}`;
/** netaddr: /31 and /32 (and v6 /127, /128) have no broadcast. */
const hasBroadcast = (n: Net): boolean => n.version === 4 && n.bits - n.prefix >= 2;

function firstLast(n: Net): [bigint, bigint] | undefined {
  const sz = size(n);
  if (sz === 2n) return [network(n), broadcast(n)];
  if (sz > 1n) return [network(n) + 1n, broadcast(n) - 1n];
  return undefined;
}

function isPrivate(n: Net): boolean {
  return ['private', 'uniqueLocal', 'linkLocal', 'carrierGradeNat', 'benchmarking'].includes(ipaddr.parse(ipStr(n)).range());
}

type Result = unknown;

/** The `ipaddr` filter. `version` 4/6 for ipv4()/ipv6(). */
export function ipaddrFilter(value: unknown, query: unknown = '', version: 0 | 4 | 6 = 0, alias = 'ipaddr'): Result {
  const q = query === null || query === undefined ? '' : String(query);
  if (Array.isArray(value)) {
    return value.map((v) => ipaddrFilter(v, q, version, alias)).filter((x) => x !== false && x !== null && x !== undefined && x !== '' && x !== 0);
  }
  if (value === null || value === undefined || value === false || value === '' || value === 0 || value === true) return false;
  let n: Net | undefined;
  let vtype: 'address' | 'network';
  let val = String(value);
  if (/^\d+$/.test(val)) {
    const big = BigInt(val);
    if (version !== 6 && big < 1n << 32n) n = { version: 4, ip: big, prefix: 32, bits: 32 };
    else if (big < 1n << 128n) n = { version: 6, ip: big, prefix: 128, bits: 128 };
    else return false;
    val = cidrStr(n);
    vtype = 'address';
  } else {
    n = parseNet(val);
    if (!n) return false;
    vtype = val.includes('/') ? 'network' : 'address';
  }
  let iplist: Net | undefined;
  let qname = q;
  if (qname && (!(qname in QUERIES) || qname === 'cidr_lookup') && !/^\d+$/.test(qname)) {
    const qn = parseNet(qname);
    if (qn && qname.includes('/')) {
      iplist = qn;
      qname = 'cidr_lookup';
    }
  }
  if (version && n.version !== version) return false;
  const fn = QUERIES[qname];
  if (fn) {
    const r = fn(n, vtype, val, iplist);
    return r === undefined ? null : r;
  }
  if (/^-?\d+(\.\d+)?$/.test(qname)) {
    if (size(n) === 1n) return vtype === 'address' ? ipStr(n) : cidrStr(n);
    const idx = BigInt(Math.trunc(Number(qname)));
    const sz = size(n);
    const i = idx < 0n ? sz + idx : idx;
    if (i < 0n || i >= sz) return false;
    return `${fromBig(network(n) + i, n.version)}/${n.prefix}`;
  }
  throw new PluginError(`${alias}: unknown filter type: ${qname}`);
}

type Q = (n: Net, vtype: 'address' | 'network', value: string, iplist?: Net) => unknown;

const QUERIES: Record<string, Q> = {
  '': (n, vtype) => (vtype === 'address' ? ipStr(n) : cidrStr(n)),
  address: (n) => ipAddrQuery(n),
  ip: (n) => ipAddrQuery(n),
  'address/prefix': (n) => addressPrefix(n),
  'host/prefix': (n) => addressPrefix(n),
  gateway: (n) => addressPrefix(n),
  gw: (n) => addressPrefix(n),
  hostnet: (n) => addressPrefix(n),
  router: (n) => addressPrefix(n),
  bool: () => true,
  broadcast: (n) => (size(n) > 2n ? fromBig(broadcast(n), n.version) : undefined),
  cidr: (n) => cidrStr(n),
  cidr_lookup: (n, _t, value, list) => {
    if (!list || list.version !== n.version) return false;
    const inside = network(n) >= network(list) && broadcast(n) <= broadcast(list);
    return inside ? value : undefined;
  },
  first_usable: (n, vtype) => {
    if (vtype === 'address') throw new PluginError('Not a network address');
    const sz = size(n);
    if (sz === 2n) return fromBig(network(n), n.version);
    if (sz > 1n) return fromBig(network(n) + 1n, n.version);
    return undefined;
  },
  last_usable: (n, vtype) => {
    if (vtype === 'address') throw new PluginError('Not a network address');
    const fl = firstLast(n);
    return fl ? fromBig(fl[1], n.version) : undefined;
  },
  next_usable: (n, vtype) => {
    if (vtype === 'address') throw new PluginError('Not a network address');
    const fl = firstLast(n);
    if (!fl) return undefined;
    const x = n.ip + 1n;
    return x >= fl[0] && x <= fl[1] ? fromBig(x, n.version) : undefined;
  },
  previous_usable: (n, vtype) => {
    if (vtype === 'address') throw new PluginError('Not a network address');
    const fl = firstLast(n);
    if (!fl) return undefined;
    const x = n.ip - 1n;
    return x >= fl[0] && x <= fl[1] ? fromBig(x, n.version) : undefined;
  },
  range_usable: (n, vtype) => {
    if (vtype === 'address') throw new PluginError('Not a network address');
    const fl = firstLast(n);
    return fl ? `${fromBig(fl[0], n.version)}-${fromBig(fl[1], n.version)}` : undefined;
  },
  host: (n) => {
    if (size(n) === 1n) return cidrStr(n);
    if (n.ip !== network(n) || !hasBroadcast(n)) return cidrStr(n);
    return undefined;
  },
  hostmask: (n) => fromBig(size(n) - 1n, n.version),
  wildcard: (n) => fromBig(size(n) - 1n, n.version),
  int: (n, vtype) => (vtype === 'address' ? Number(n.ip) : `${n.ip}/${n.prefix}`),
  'ip/prefix': (n) => {
    const sz = size(n);
    if (sz === 2n) return cidrStr(n);
    if (sz > 1n && n.ip !== network(n)) return cidrStr(n);
    return undefined;
  },
  ip_netmask: (n) => {
    const sz = size(n);
    if (sz === 2n || (sz > 1n && n.ip !== network(n))) return `${ipStr(n)} ${fromBig(mask(n), n.version)}`;
    return undefined;
  },
  ipv4: (n, _t, value) => {
    if (n.version === 4) return value;
    const a = ipaddr.IPv6.parse(ipStr(n));
    return a.isIPv4MappedAddress() ? a.toIPv4Address().toString() : false;
  },
  v4: (n, t, v) => QUERIES.ipv4!(n, t, v),
  ipv6: (n, _t, value) => (n.version === 6 ? value : `::ffff:${ipStr(n)}/${n.prefix + 96}`),
  v6: (n, t, v) => QUERIES.ipv6!(n, t, v),
  'link-local': (n, _t, value) => (ipaddr.parse(ipStr(n)).range() === 'linkLocal' ? value : undefined),
  loopback: (n, _t, value) => (ipaddr.parse(ipStr(n)).range() === 'loopback' ? value : undefined),
  lo: (n, _t, value) => (ipaddr.parse(ipStr(n)).range() === 'loopback' ? value : undefined),
  multicast: (n, _t, value) => (ipaddr.parse(ipStr(n)).range() === 'multicast' ? value : undefined),
  private: (n, _t, value) => (isPrivate(n) ? value : undefined),
  public: (n, _t, value) => (ipaddr.parse(ipStr(n)).range() === 'unicast' ? value : undefined),
  unicast: (n, _t, value) => (ipaddr.parse(ipStr(n)).range() !== 'multicast' ? value : undefined),
  net: (n) => (size(n) > 1n && n.ip === network(n) ? `${fromBig(network(n), n.version)}/${n.prefix}` : undefined),
  netmask: (n) => fromBig(mask(n), n.version),
  network: (n) => fromBig(network(n), n.version),
  network_id: (n) => fromBig(network(n), n.version),
  'network/prefix': (n) => `${fromBig(network(n), n.version)}/${n.prefix}`,
  subnet: (n) => `${fromBig(network(n), n.version)}/${n.prefix}`,
  network_netmask: (n) => `${fromBig(network(n), n.version)} ${fromBig(mask(n), n.version)}`,
  network_wildcard: (n) => `${fromBig(network(n), n.version)} ${fromBig(size(n) - 1n, n.version)}`,
  prefix: (n) => n.prefix,
  revdns: (n) => ipaddr.parse(ipStr(n)).toString() && revdns(n),
  size: (n) => Number(size(n)),
  size_usable: (n) => {
    const sz = size(n);
    return sz === 1n ? 0 : sz === 2n ? 2 : Number(sz - 2n);
  },
  type: (n) => (size(n) === 1n ? 'address' : n.ip !== network(n) ? 'address' : 'network'),
  version: (n) => n.version,
  wrap: (n, vtype, value) => (n.version === 6 ? (vtype === 'address' ? `[${ipStr(n)}]` : `[${ipStr(n)}]/${n.prefix}`) : value),
};

function ipAddrQuery(n: Net): string | undefined {
  const sz = size(n);
  if (sz === 1n) return ipStr(n);
  if (n.ip !== network(n) || !hasBroadcast(n)) return ipStr(n);
  if (n.version === 6 && n.ip === network(n)) return ipStr(n);
  return undefined;
}

function addressPrefix(n: Net): string | false {
  if (size(n) > 2n && (n.ip === network(n) || n.ip === broadcast(n))) return false;
  return cidrStr(n);
}

function revdns(n: Net): string {
  if (n.version === 4) return `${ipStr(n).split('.').reverse().join('.')}.in-addr.arpa.`;
  const hex = n.ip.toString(16).padStart(32, '0');
  return `${hex.split('').reverse().join('.')}.ip6.arpa.`;
}

/** ansible.utils.network_in_usable(value, test): is `test` (address or network) inside value's usable range. */
export function networkInUsable(value: unknown, test: unknown): boolean {
  const norm = (x: unknown): string | false => {
    const t = ipaddrFilter(x, 'type');
    if (t !== 'address' && t !== 'network') return false;
    return ipaddrFilter(x, 'subnet') as string;
  };
  const v = norm(value);
  const w = norm(test);
  if (v === false || w === false) throw new PluginError(`network_in_usable: ${v === false ? String(value) : String(test)} is not a valid IP address or network`);
  const asInt = (x: unknown): bigint => {
    const n = parseNet(String(x));
    if (!n) throw new PluginError(`network_in_usable: bad address ${String(x)}`);
    return n.ip;
  };
  const pick = (a: unknown, b: unknown): unknown => (a !== null && a !== undefined && a !== false ? a : b);
  const vFirst = asInt(pick(safe(() => ipaddrFilter(v, 'first_usable')), ipaddrFilter(v, 'address')));
  const vLast = asInt(pick(safe(() => ipaddrFilter(v, 'last_usable')), ipaddrFilter(v, 'address')));
  const wFirst = asInt(pick(ipaddrFilter(w, 'network'), ipaddrFilter(w, 'address')));
  const wLast = asInt(pick(ipaddrFilter(w, 'broadcast'), ipaddrFilter(w, 'address')));
  return vFirst <= wFirst && wFirst <= vLast && vFirst <= wLast && wLast <= vLast;
}

function safe(f: () => unknown): unknown {
  try {
    return f();
  } catch {
    return undefined;
  }
}
