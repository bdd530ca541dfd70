/**
 * Minimal DER (ASN.1) reader/writer and the X.509 / PKCS#10 pieces the certificate modules need: build
 * names and extensions, assemble and sign CSRs and certificates with node:crypto, parse existing ones
 * back to compare them semantically (as community.crypto does before deciding to re-issue).
 *
 * Written by hand because node:crypto can sign and parse certificates (X509Certificate) but cannot build
 * or parse a CSR or a TBSCertificate, and no ASN.1/X.509 library is installed in this project.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

// ───────────────────────────────────────────── DER writer ─────────────────────────────────────────────

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(content.length), content]);
}

export const der = {
  seq: (...items: Uint8Array[]): Buffer => tlv(0x30, Buffer.concat(items)),
  set: (...items: Uint8Array[]): Buffer => tlv(0x31, Buffer.concat([...items].map((i) => Buffer.from(i)).sort(Buffer.compare))),
  bool: (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0])),
  null: (): Buffer => Buffer.from([0x05, 0x00]),
  int(v: bigint | number): Buffer {
    let n = BigInt(v);
    if (n < 0n) throw new Error('negative integers are not supported');
    const bytes: number[] = [];
    do {
      bytes.unshift(Number(n & 0xffn));
      n >>= 8n;
    } while (n > 0n);
    if (bytes[0]! & 0x80) bytes.unshift(0);
    return tlv(0x02, Buffer.from(bytes));
  },
  oid(dotted: string): Buffer {
    const arcs = dotted.split('.').map((a) => BigInt(a));
    if (arcs.length < 2) throw new Error(`bad OID ${dotted}`);
    const out: number[] = [];
    const push = (v: bigint): void => {
      const b: number[] = [Number(v & 0x7fn)];
      for (v >>= 7n; v > 0n; v >>= 7n) b.unshift(Number(v & 0x7fn) | 0x80);
      out.push(...b);
    };
    push(arcs[0]! * 40n + arcs[1]!);
    for (const a of arcs.slice(2)) push(a);
    return tlv(0x06, Buffer.from(out));
  },
  utf8: (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8')),
  printable: (s: string): Buffer => tlv(0x13, Buffer.from(s, 'latin1')),
  ia5: (s: string): Buffer => tlv(0x16, Buffer.from(s, 'latin1')),
  octet: (b: Uint8Array): Buffer => tlv(0x04, b),
  bits: (b: Uint8Array, unused = 0): Buffer => tlv(0x03, Buffer.concat([Buffer.from([unused]), b])),
  /** context-specific [n], constructed (EXPLICIT wrappers, SEQUENCE-like implicit) */
  ctx: (n: number, content: Uint8Array, constructed = true): Buffer => tlv((constructed ? 0xa0 : 0x80) | n, content),
  time(d: Date): Buffer {
    const y = d.getUTCFullYear();
    const p = (n: number): string => String(n).padStart(2, '0');
    const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
    if (y >= 1950 && y < 2050) return tlv(0x17, Buffer.from(`${p(y % 100)}${rest}`));
    return tlv(0x18, Buffer.from(`${y}${rest}`));
  },
};

// ───────────────────────────────────────────── DER reader ─────────────────────────────────────────────

export interface Node {
  tag: number;
  /** the whole TLV */
  raw: Buffer;
  content: Buffer;
  children: Node[];
}

export function parseDer(buf: Buffer, offset = 0, end = buf.length): Node[] {
  const out: Node[] = [];
  let i = offset;
  while (i < end) {
    const tag = buf[i]!;
    if ((tag & 0x1f) === 0x1f) throw new Error('multi-byte tags are not supported');
    let l = buf[i + 1];
    if (l === undefined) throw new Error('truncated DER');
    let hdr = 2;
    if (l & 0x80) {
      const nb = l & 0x7f;
      if (nb === 0 || nb > 4) throw new Error('unsupported DER length');
      l = 0;
      for (let k = 0; k < nb; k++) l = l * 256 + buf[i + 2 + k]!;
      hdr += nb;
    }
    const cs = i + hdr;
    const ce = cs + l;
    if (ce > end) throw new Error('truncated DER');
    const node: Node = { tag, raw: buf.subarray(i, ce), content: buf.subarray(cs, ce), children: [] };
    if (tag & 0x20) node.children = parseDer(buf, cs, ce);
    out.push(node);
    i = ce;
  }
  return out;
}

export function parseOne(buf: Buffer): Node {
  const n = parseDer(buf);
  if (n.length !== 1) throw new Error('expected one DER element');
  return n[0]!;
}

export function readOid(n: Node): string {
  const b = n.content;
  const arcs: bigint[] = [];
  let v = 0n;
  for (const byte of b) {
    v = (v << 7n) | BigInt(byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(v);
      v = 0n;
    }
  }
  const first = arcs.shift() ?? 0n;
  const a = first < 40n ? 0n : first < 80n ? 1n : 2n;
  return [a, first - a * 40n, ...arcs].join('.');
}

export function readInt(n: Node): bigint {
  let v = 0n;
  for (const byte of n.content) v = (v << 8n) | BigInt(byte);
  return v;
}

export function readString(n: Node): string {
  if (n.tag === 0x0c) return n.content.toString('utf8');
  if (n.tag === 0x1e) {
    // BMPString
    let s = '';
    for (let i = 0; i + 1 < n.content.length; i += 2) s += String.fromCharCode(n.content.readUInt16BE(i));
    return s;
  }
  return n.content.toString('latin1');
}

export function readTime(n: Node): Date {
  const s = n.content.toString('latin1');
  const m = n.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) throw new Error(`unsupported time ${s}`);
  let y = Number(m[1]);
  if (n.tag === 0x17) y += y < 50 ? 2000 : 1900;
  return new Date(Date.UTC(y, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

// ───────────────────────────────────────────── PEM ─────────────────────────────────────────────

export function pemDecode(text: string, label: string): Buffer {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`);
  const m = re.exec(text);
  if (!m) throw new Error(`no ${label} PEM block found`);
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

export function pemEncode(b: Uint8Array, label: string): string {
  const s = Buffer.from(b).toString('base64');
  const lines = s.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

// ───────────────────────────────────────────── names ─────────────────────────────────────────────

export const NAME_OIDS: Record<string, string> = {
  C: '2.5.4.6',
  countryName: '2.5.4.6',
  ST: '2.5.4.8',
  stateOrProvinceName: '2.5.4.8',
  L: '2.5.4.7',
  localityName: '2.5.4.7',
  O: '2.5.4.10',
  organizationName: '2.5.4.10',
  OU: '2.5.4.11',
  organizationalUnitName: '2.5.4.11',
  CN: '2.5.4.3',
  commonName: '2.5.4.3',
  emailAddress: '1.2.840.113549.1.9.1',
  E: '1.2.840.113549.1.9.1',
  serialNumber: '2.5.4.5',
  street: '2.5.4.9',
  streetAddress: '2.5.4.9',
  title: '2.5.4.12',
  GN: '2.5.4.42',
  givenName: '2.5.4.42',
  SN: '2.5.4.4',
  surname: '2.5.4.4',
  initials: '2.5.4.43',
  pseudonym: '2.5.4.65',
  DC: '0.9.2342.19200300.100.1.25',
  domainComponent: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
  userId: '0.9.2342.19200300.100.1.1',
  postalCode: '2.5.4.17',
  dnQualifier: '2.5.4.46',
  generationQualifier: '2.5.4.44',
};

export function nameOid(name: string): string {
  const o = NAME_OIDS[name];
  if (o) return o;
  if (/^\d+(\.\d+)+$/.test(name)) return name;
  throw new Error(`Cannot find OID for "${name}"`);
}

export type Rdn = [oid: string, value: string];

/** string type cryptography uses by default for an attribute */
function nameValue(oid: string, v: string): Buffer {
  if (oid === '2.5.4.6' || oid === '2.5.4.5' || oid === '2.5.4.46') return der.printable(v);
  if (oid === '1.2.840.113549.1.9.1' || oid === '0.9.2342.19200300.100.1.25') return der.ia5(v);
  return der.utf8(v);
}

export function encodeName(rdns: Rdn[]): Buffer {
  return der.seq(...rdns.map(([oid, v]) => der.set(der.seq(der.oid(oid), nameValue(oid, v)))));
}

export function decodeName(n: Node): Rdn[] {
  const out: Rdn[] = [];
  for (const set of n.children) for (const atv of set.children) out.push([readOid(atv.children[0]!), readString(atv.children[1]!)]);
  return out;
}

// ───────────────────────────────────────────── extensions ─────────────────────────────────────────────

export const OID = {
  san: '2.5.29.17',
  keyUsage: '2.5.29.15',
  eku: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  ski: '2.5.29.14',
  aki: '2.5.29.35',
  mustStaple: '1.3.6.1.5.5.7.1.24',
  nameConstraints: '2.5.29.30',
  crlDp: '2.5.29.31',
  extensionRequest: '1.2.840.113549.1.9.14',
};

export interface Ext {
  oid: string;
  critical: boolean;
  /** the extnValue contents (DER of the extension's value) */
  value: Buffer;
}

export function encodeExt(e: Ext): Buffer {
  return der.seq(der.oid(e.oid), ...(e.critical ? [der.bool(true)] : []), der.octet(e.value));
}

export function decodeExts(seq: Node): Ext[] {
  return seq.children.map((e) => {
    const c = e.children;
    const critical = c.length === 3 ? c[1]!.content[0] !== 0 : false;
    return { oid: readOid(c[0]!), critical, value: c[c.length - 1]!.content };
  });
}

function ipBytes(ip: string): Buffer {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) return Buffer.from(v4.slice(1).map(Number));
  if (ip.includes(':')) {
    const [head, tail] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
    if (tail === undefined && h.length !== 8) throw new Error(`bad IPv6 address ${ip}`);
    const words = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return Buffer.from(words.flatMap((w) => [parseInt(w, 16) >> 8, parseInt(w, 16) & 0xff]));
  }
  throw new Error(`bad IP address ${ip}`);
}

function ipText(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  const words: string[] = [];
  for (let i = 0; i + 1 < b.length; i += 2) words.push(b.readUInt16BE(i).toString(16));
  return words.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** `DNS:x`, `IP:1.2.3.4`, `email:a@b`, `URI:…`, `RID:1.2.3` → a GeneralName */
export function encodeGeneralName(s: string): Buffer {
  const i = s.indexOf(':');
  const kind = s.slice(0, i);
  const v = s.slice(i + 1);
  switch (kind) {
    case 'DNS':
      return tlv(0x82, Buffer.from(v, 'latin1'));
    case 'IP':
      return tlv(0x87, ipBytes(v));
    case 'email':
      return tlv(0x81, Buffer.from(v, 'latin1'));
    case 'URI':
      return tlv(0x86, Buffer.from(v, 'latin1'));
    case 'RID':
      return tlv(0x88, der.oid(v).subarray(2));
    default:
      throw new Error(`Cannot parse Subject Alternative Name "${s}" (only DNS:, IP:, email:, URI:, RID: are supported)`);
  }
}

/** GeneralName → the same `KIND:value` text (IPs normalised) */
export function decodeGeneralName(n: Node): string {
  switch (n.tag) {
    case 0x82:
      return `DNS:${n.content.toString('latin1')}`;
    case 0x87:
      return `IP:${ipText(n.content)}`;
    case 0x81:
      return `email:${n.content.toString('latin1')}`;
    case 0x86:
      return `URI:${n.content.toString('latin1')}`;
    case 0x88:
      return `RID:${readOid({ ...n, content: n.content })}`;
    default:
      return `other:${n.raw.toString('hex')}`;
  }
}

/** normalises the value the user wrote (IPv6 zero runs, case of the kind) for comparisons */
export function normalizeGeneralName(s: string): string {
  return decodeGeneralName(parseOne(encodeGeneralName(s)));
}

export const KEY_USAGE_BITS: Record<string, number> = {
  'Digital Signature': 0,
  digitalSignature: 0,
  'Non Repudiation': 1,
  nonRepudiation: 1,
  'Key Encipherment': 2,
  keyEncipherment: 2,
  'Data Encipherment': 3,
  dataEncipherment: 3,
  'Key Agreement': 4,
  keyAgreement: 4,
  'Certificate Sign': 5,
  keyCertSign: 5,
  'CRL Sign': 6,
  cRLSign: 6,
  'Encipher Only': 7,
  encipherOnly: 7,
  'Decipher Only': 8,
  decipherOnly: 8,
};

export function keyUsageBits(names: string[]): Set<number> {
  const s = new Set<number>();
  for (const n of names) {
    const b = KEY_USAGE_BITS[n];
    if (b === undefined) throw new Error(`Unknown key usage "${n}"`);
    s.add(b);
  }
  return s;
}

export function encodeKeyUsage(bits: Set<number>): Buffer {
  const max = Math.max(...bits);
  const nbytes = Math.floor(max / 8) + 1;
  const b = Buffer.alloc(nbytes);
  for (const i of bits) b[Math.floor(i / 8)]! |= 0x80 >> (i % 8);
  const unused = 7 - (max % 8);
  return der.bits(b, unused);
}

export function decodeKeyUsage(value: Buffer): Set<number> {
  const n = parseOne(value);
  const bytes = n.content.subarray(1);
  const s = new Set<number>();
  for (let i = 0; i < bytes.length * 8; i++) if (bytes[Math.floor(i / 8)]! & (0x80 >> (i % 8))) s.add(i);
  return s;
}

export const EKU_OIDS: Record<string, string> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  'TLS Web Server Authentication': '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  'TLS Web Client Authentication': '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  'Code Signing': '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  'E-mail Protection': '1.3.6.1.5.5.7.3.4',
  ipsecEndSystem: '1.3.6.1.5.5.7.3.5',
  ipsecTunnel: '1.3.6.1.5.5.7.3.6',
  ipsecUser: '1.3.6.1.5.5.7.3.7',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  'Time Stamping': '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
  'OCSP Signing': '1.3.6.1.5.5.7.3.9',
  anyExtendedKeyUsage: '2.5.29.37.0',
  'Any Extended Key Usage': '2.5.29.37.0',
};

export function ekuOid(name: string): string {
  const o = EKU_OIDS[name];
  if (o) return o;
  if (/^\d+(\.\d+)+$/.test(name)) return name;
  throw new Error(`Cannot find OID for "${name}"`);
}

export function encodeBasicConstraints(ca: boolean, pathLen: number | undefined): Buffer {
  return der.seq(...(ca ? [der.bool(true)] : []), ...(pathLen !== undefined ? [der.int(pathLen)] : []));
}

export function decodeBasicConstraints(value: Buffer): { ca: boolean; pathLen?: number } {
  const n = parseOne(value);
  let ca = false;
  let pathLen: number | undefined;
  for (const c of n.children) {
    if (c.tag === 0x01) ca = c.content[0] !== 0;
    else if (c.tag === 0x02) pathLen = Number(readInt(c));
  }
  return pathLen === undefined ? { ca } : { ca, pathLen };
}

/** SHA-1 of the subjectPublicKey BIT STRING contents (RFC 5280 method 1), as cryptography's from_public_key */
export function keyIdentifier(spki: Buffer): Buffer {
  const n = parseOne(spki);
  const bits = n.children[1]!.content.subarray(1);
  return createHash('sha1').update(bits).digest();
}

// ───────────────────────────────────────────── keys and signatures ─────────────────────────────────────────────

export function spkiOf(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' }) as Buffer;
}

const RSA_SIG: Record<string, string> = { sha1: '1.2.840.113549.1.1.5', sha256: '1.2.840.113549.1.1.11', sha384: '1.2.840.113549.1.1.12', sha512: '1.2.840.113549.1.1.13', sha224: '1.2.840.113549.1.1.14' };
const EC_SIG: Record<string, string> = { sha1: '1.2.840.10045.4.1', sha224: '1.2.840.10045.4.3.1', sha256: '1.2.840.10045.4.3.2', sha384: '1.2.840.10045.4.3.3', sha512: '1.2.840.10045.4.3.4' };
const SIG_DIGEST: Record<string, string | null> = {};
for (const [d, o] of Object.entries(RSA_SIG)) SIG_DIGEST[o] = d;
for (const [d, o] of Object.entries(EC_SIG)) SIG_DIGEST[o] = d;
SIG_DIGEST['1.3.101.112'] = null;
SIG_DIGEST['1.3.101.113'] = null;

/** AlgorithmIdentifier of the signature a key makes with `digest`, and the digest node's sign() wants */
export function sigAlg(key: KeyObject, digest: string): { alg: Buffer; hash: string | null } {
  const t = key.asymmetricKeyType;
  if (t === 'rsa') {
    const o = RSA_SIG[digest];
    if (!o) throw new Error(`unsupported digest ${digest} for RSA`);
    return { alg: der.seq(der.oid(o), der.null()), hash: digest };
  }
  if (t === 'ec') {
    const o = EC_SIG[digest];
    if (!o) throw new Error(`unsupported digest ${digest} for ECDSA`);
    return { alg: der.seq(der.oid(o)), hash: digest };
  }
  if (t === 'ed25519') return { alg: der.seq(der.oid('1.3.101.112')), hash: null };
  if (t === 'ed448') return { alg: der.seq(der.oid('1.3.101.113')), hash: null };
  throw new Error(`unsupported key type ${t ?? 'unknown'} for signing`);
}

export function signed(body: Buffer, key: KeyObject, digest: string): Buffer {
  const { alg, hash } = sigAlg(key, digest);
  const sig = sign(hash, body, key);
  return der.seq(body, alg, der.bits(sig));
}

/** verifies a signed structure (CSR or certificate): SEQ(body, alg, BIT STRING sig) */
export function verifySigned(top: Node, spki: Buffer): boolean {
  try {
    const [body, alg, sig] = top.children;
    if (!body || !alg || !sig) return false;
    const o = readOid(alg.children[0]!);
    if (!(o in SIG_DIGEST)) return false;
    const pub = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    return verify(SIG_DIGEST[o] ?? null, body.raw, pub, sig.content.subarray(1));
  } catch {
    return false;
  }
}

// ───────────────────────────────────────────── CSR and certificate ─────────────────────────────────────────────

export function buildCsr(subject: Rdn[], exts: Ext[], key: KeyObject, digest: string): Buffer {
  const attrs = exts.length ? der.seq(der.oid(OID.extensionRequest), der.set(der.seq(...exts.map(encodeExt)))) : Buffer.alloc(0);
  const info = der.seq(der.int(0), encodeName(subject), spkiOf(key), der.ctx(0, attrs));
  return signed(info, key, digest);
}

export interface ParsedCsr {
  top: Node;
  subject: Rdn[];
  spki: Buffer;
  exts: Ext[];
}

export function parseCsr(d: Buffer): ParsedCsr {
  const top = parseOne(d);
  const info = top.children[0]!;
  const [, subj, spki, attrs] = info.children;
  const exts: Ext[] = [];
  for (const a of attrs?.children ?? []) {
    if (readOid(a.children[0]!) === OID.extensionRequest) exts.push(...decodeExts(a.children[1]!.children[0]!));
  }
  return { top, subject: decodeName(subj!), spki: spki!.raw, exts };
}

export interface ParsedCert {
  top: Node;
  serial: bigint;
  issuer: Rdn[];
  issuerRaw: Buffer;
  subject: Rdn[];
  subjectRaw: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  exts: Ext[];
}

export function parseCert(d: Buffer): ParsedCert {
  const top = parseOne(d);
  const tbs = top.children[0]!.children;
  let i = 0;
  if (tbs[0]!.tag === 0xa0) i = 1;
  const serial = readInt(tbs[i]!);
  const issuer = tbs[i + 2]!;
  const validity = tbs[i + 3]!;
  const subject = tbs[i + 4]!;
  const spki = tbs[i + 5]!;
  let exts: Ext[] = [];
  for (const n of tbs.slice(i + 6)) if (n.tag === 0xa3) exts = decodeExts(n.children[0]!);
  return {
    top,
    serial,
    issuer: decodeName(issuer),
    issuerRaw: issuer.raw,
    subject: decodeName(subject),
    subjectRaw: subject.raw,
    notBefore: readTime(validity.children[0]!),
    notAfter: readTime(validity.children[1]!),
    spki: spki.raw,
    exts,
  };
}

export function buildCert(o: { serial: bigint; issuerRaw: Buffer; subjectRaw: Buffer; notBefore: Date; notAfter: Date; spki: Buffer; exts: Ext[]; key: KeyObject; digest: string; version?: number }): Buffer {
  const { alg } = sigAlg(o.key, o.digest);
  const v = o.version ?? 3;
  const tbs = der.seq(
    ...(v > 1 ? [der.ctx(0, der.int(v - 1))] : []),
    der.int(o.serial),
    alg,
    o.issuerRaw,
    der.seq(der.time(o.notBefore), der.time(o.notAfter)),
    o.subjectRaw,
    o.spki,
    ...(o.exts.length && v >= 3 ? [der.ctx(3, der.seq(...o.exts.map(encodeExt)))] : []),
  );
  return signed(tbs, o.key, o.digest);
}

/** community.crypto's relative/absolute time: `+32w1d2h`, `-1d`, `+0s`, `20240101000000Z`, `always`/`forever` */
export function parseRelTime(s: string, now: Date): Date {
  if (s === 'always') return new Date(Date.UTC(1970, 0, 1));
  if (s === 'forever') return new Date(Date.UTC(9999, 11, 31, 23, 59, 59));
  const abs = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (abs) return new Date(Date.UTC(+abs[1]!, +abs[2]! - 1, +abs[3]!, +abs[4]!, +abs[5]!, +abs[6]!));
  const m = /^([+-])((?:\d+[wdhms])+)$/.exec(s);
  if (!m) throw new Error(`invalid time "${s}": use +NNd, -NNh … or YYYYMMDDHHMMSSZ`);
  const unit: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };
  let secs = 0;
  for (const p of m[2]!.matchAll(/(\d+)([wdhms])/g)) secs += Number(p[1]) * unit[p[2]!]!;
  const t = new Date(now.getTime() + (m[1] === '-' ? -secs : secs) * 1000);
  t.setUTCMilliseconds(0);
  return t;
}
