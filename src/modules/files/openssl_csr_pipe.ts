/**
 * `openssl_csr_pipe` (community.crypto): returns a PEM CSR (`csr`) for a private key (privatekey_path on the
 * target, or privatekey_content) with subject fields, subject_alt_name (`DNS:`/`IP:`/`email:`/`URI:`/`RID:`),
 * key_usage, extended_key_usage, basic_constraints, ocsp_must_staple and create_subject_key_identifier.
 * With `content` (the CSR used last time) it returns that CSR unchanged (`changed: false`) when it still
 * matches — the comparison community.crypto makes: subject (as a set unless subject_ordered), each requested
 * extension and its criticality, signature and public key. Built and signed with node:crypto (see x509.ts).
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { ModuleContext } from '../types.js';
import { boolArg, defineModule, Fail, ModuleArgError, type Remote, strArg } from './common.js';
import {
  decodeBasicConstraints,
  decodeGeneralName,
  decodeKeyUsage,
  der,
  ekuOid,
  encodeBasicConstraints,
  encodeGeneralName,
  encodeKeyUsage,
  type Ext,
  keyIdentifier,
  keyUsageBits,
  nameOid,
  normalizeGeneralName,
  OID,
  parseCsr,
  parseOne,
  pemDecode,
  pemEncode,
  readOid,
  type Rdn,
  spkiOf,
  buildCsr,
  verifySigned,
} from './x509.js';

const ALIASES: Record<string, string[]> = {
  common_name: ['common_name', 'commonName', 'CN'],
  country_name: ['country_name', 'countryName', 'C'],
  state_or_province_name: ['state_or_province_name', 'stateOrProvinceName', 'ST'],
  locality_name: ['locality_name', 'localityName', 'L'],
  organization_name: ['organization_name', 'organizationName', 'O'],
  organizational_unit_name: ['organizational_unit_name', 'organizationalUnitName', 'OU'],
  email_address: ['email_address', 'emailAddress', 'E'],
  subject_alt_name: ['subject_alt_name', 'subjectAltName'],
  subject_alt_name_critical: ['subject_alt_name_critical', 'subjectAltName_critical'],
  use_common_name_for_san: ['use_common_name_for_san', 'useCommonNameForSAN'],
  key_usage: ['key_usage', 'keyUsage'],
  key_usage_critical: ['key_usage_critical', 'keyUsage_critical'],
  extended_key_usage: ['extended_key_usage', 'extKeyUsage', 'extendedKeyUsage'],
  extended_key_usage_critical: ['extended_key_usage_critical', 'extKeyUsage_critical', 'extendedKeyUsage_critical'],
  basic_constraints: ['basic_constraints', 'basicConstraints'],
  basic_constraints_critical: ['basic_constraints_critical', 'basicConstraints_critical'],
  ocsp_must_staple: ['ocsp_must_staple', 'ocspMustStaple'],
  ocsp_must_staple_critical: ['ocsp_must_staple_critical', 'ocspMustStaple_critical'],
};

const UNSUPPORTED = ['subject_key_identifier', 'authority_key_identifier', 'authority_cert_issuer', 'authority_cert_serial_number', 'name_constraints_permitted', 'name_constraints_excluded', 'crl_distribution_points'];

const PARAMS = [
  'privatekey_path',
  'privatekey_content',
  'privatekey_passphrase',
  'content',
  'digest',
  'version',
  'subject',
  'subject_ordered',
  'create_subject_key_identifier',
  'select_crypto_backend',
  'name_constraints_critical',
  ...UNSUPPORTED,
  ...Object.values(ALIASES).flat(),
];

function pick(args: Record<string, unknown>, key: string): unknown {
  for (const a of ALIASES[key] ?? [key]) if (args[a] !== undefined && args[a] !== null) return args[a];
  return undefined;
}

function list(v: unknown, name: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string') return v === '' ? [] : v.split(',').map((s) => s.trim());
  throw new ModuleArgError(`${name} must be a list`);
}

function flag(args: Record<string, unknown>, key: string, dflt: boolean): boolean {
  return boolArg({ v: pick(args, key) }, 'v', dflt);
}

/** Loads the private key the CSR / certificate is made for (from the target, or given inline). */
export async function loadKey(r: Remote, path: string | undefined, content: string | undefined, passphrase: string | undefined, what: string): Promise<KeyObject> {
  let pem: string;
  if (content !== undefined) pem = content;
  else if (path !== undefined) pem = (await r.get(await r.expandUser(path))).toString('utf8');
  else throw new ModuleArgError(`one of ${what}_path or ${what}_content is required`);
  try {
    return createPrivateKey(passphrase !== undefined ? { key: pem, passphrase } : { key: pem });
  } catch (e) {
    throw new Fail(`Error while loading the private key${path ? ` ${path}` : ''}: ${(e as Error).message.replace(/^error:[^:]*:/, '')}${passphrase === undefined ? ' (encrypted? set the passphrase)' : ''}`);
  }
}

interface Want {
  subject: Rdn[];
  ordered: boolean;
  san: string[];
  sanCritical: boolean;
  ku?: Set<number>;
  kuCritical: boolean;
  eku: string[];
  ekuCritical: boolean;
  bc?: { ca: boolean; pathLen?: number };
  bcCritical: boolean;
  mustStaple: boolean;
  mustStapleCritical: boolean;
  ski: boolean;
}

function wanted(args: Record<string, unknown>): Want {
  const subject: Rdn[] = [];
  const fields: [string, string][] = [
    ['C', 'country_name'],
    ['ST', 'state_or_province_name'],
    ['L', 'locality_name'],
    ['O', 'organization_name'],
    ['OU', 'organizational_unit_name'],
    ['CN', 'common_name'],
    ['emailAddress', 'email_address'],
  ];
  for (const [short, key] of fields) {
    const v = pick(args, key);
    if (v !== undefined && v !== '') subject.push([nameOid(short), String(v)]);
  }
  const addDict = (v: unknown, name: string): Rdn[] => {
    const out: Rdn[] = [];
    const entries: [string, unknown][] = Array.isArray(v) ? v.flatMap((d) => Object.entries(d as Record<string, unknown>)) : Object.entries(v as Record<string, unknown>);
    for (const [k, val] of entries) {
      let oid: string;
      try {
        oid = nameOid(k);
      } catch (e) {
        throw new ModuleArgError(`${name}: ${(e as Error).message}`);
      }
      for (const x of Array.isArray(val) ? val : [val]) out.push([oid, String(x)]);
    }
    return out;
  };
  if (args.subject !== undefined && args.subject !== null) subject.push(...addDict(args.subject, 'subject'));
  let ordered = false;
  if (args.subject_ordered !== undefined && args.subject_ordered !== null) {
    if (subject.length) throw new ModuleArgError('subject_ordered cannot be combined with any other subject field');
    subject.push(...addDict(args.subject_ordered, 'subject_ordered'));
    ordered = true;
  }
  let san = list(pick(args, 'subject_alt_name'), 'subject_alt_name') ?? [];
  if (san.length === 0 && flag(args, 'use_common_name_for_san', true)) {
    const cn = subject.find(([o]) => o === '2.5.4.3');
    if (cn) san = [`DNS:${cn[1]}`];
  }
  let ku: Set<number> | undefined;
  const kuList = list(pick(args, 'key_usage'), 'key_usage');
  if (kuList && kuList.length) {
    try {
      ku = keyUsageBits(kuList);
    } catch (e) {
      throw new ModuleArgError((e as Error).message);
    }
  }
  let eku: string[] = [];
  try {
    eku = (list(pick(args, 'extended_key_usage'), 'extended_key_usage') ?? []).map(ekuOid);
  } catch (e) {
    throw new ModuleArgError((e as Error).message);
  }
  let bc: Want['bc'];
  const bcList = list(pick(args, 'basic_constraints'), 'basic_constraints');
  if (bcList && bcList.length) {
    let ca = false;
    let pathLen: number | undefined;
    for (const c of bcList) {
      if (c === 'CA:TRUE') ca = true;
      else if (c === 'CA:FALSE') ca = false;
      else if (c.startsWith('pathlen:') && /^\d+$/.test(c.slice(8))) pathLen = Number(c.slice(8));
      else throw new ModuleArgError(`Unknown basic constraint "${c}"`);
    }
    bc = pathLen === undefined ? { ca } : { ca, pathLen };
  }
  try {
    san = san.map(normalizeGeneralName);
  } catch (e) {
    throw new ModuleArgError((e as Error).message);
  }
  return {
    subject,
    ordered,
    san,
    sanCritical: flag(args, 'subject_alt_name_critical', false),
    ...(ku ? { ku } : {}),
    kuCritical: flag(args, 'key_usage_critical', false),
    eku,
    ekuCritical: flag(args, 'extended_key_usage_critical', false),
    ...(bc ? { bc } : {}),
    bcCritical: flag(args, 'basic_constraints_critical', false),
    mustStaple: flag(args, 'ocsp_must_staple', false),
    mustStapleCritical: flag(args, 'ocsp_must_staple_critical', false),
    ski: boolArg(args, 'create_subject_key_identifier'),
  };
}

function extensions(w: Want, spki: Buffer): Ext[] {
  const out: Ext[] = [];
  if (w.san.length) out.push({ oid: OID.san, critical: w.sanCritical, value: der.seq(...w.san.map(encodeGeneralName)) });
  if (w.ku) out.push({ oid: OID.keyUsage, critical: w.kuCritical, value: encodeKeyUsage(w.ku) });
  if (w.eku.length) out.push({ oid: OID.eku, critical: w.ekuCritical, value: der.seq(...w.eku.map((o) => der.oid(o))) });
  if (w.bc) out.push({ oid: OID.basicConstraints, critical: w.bcCritical, value: encodeBasicConstraints(w.bc.ca, w.bc.pathLen) });
  if (w.mustStaple) out.push({ oid: OID.mustStaple, critical: w.mustStapleCritical, value: der.seq(der.int(5)) });
  if (w.ski) out.push({ oid: OID.ski, critical: false, value: der.octet(keyIdentifier(spki)) });
  return out;
}

function setEq<T>(a: T[], b: T[]): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
}

/** community.crypto's _check_csr: does the existing CSR still say what the task asks for? */
function matches(existingPem: string, w: Want, spki: Buffer): boolean {
  let csr;
  try {
    csr = parseCsr(pemDecode(existingPem, 'CERTIFICATE REQUEST'));
  } catch {
    return false;
  }
  const subjKey = (r: Rdn): string => `${r[0]}=${r[1]}`;
  if (w.ordered ? csr.subject.map(subjKey).join('\n') !== w.subject.map(subjKey).join('\n') : !setEq(csr.subject.map(subjKey), w.subject.map(subjKey))) return false;
  const ext = (oid: string): Ext | undefined => csr.exts.find((e) => e.oid === oid);
  try {
    const san = ext(OID.san);
    const have = san ? parseOne(san.value).children.map(decodeGeneralName) : [];
    if (!setEq(have, w.san)) return false;
    if (w.san.length && san!.critical !== w.sanCritical) return false;
    const ku = ext(OID.keyUsage);
    if (!w.ku) {
      if (ku) return false;
    } else {
      if (!ku) return false;
      const bits = decodeKeyUsage(ku.value);
      if (!setEq([...bits], [...w.ku]) || ku.critical !== w.kuCritical) return false;
    }
    const eku = ext(OID.eku);
    const haveEku = eku ? parseOne(eku.value).children.map(readOid) : [];
    if (!setEq(haveEku, w.eku)) return false;
    if (w.eku.length && eku!.critical !== w.ekuCritical) return false;
    const bc = ext(OID.basicConstraints);
    const cur = bc ? decodeBasicConstraints(bc.value) : { ca: false };
    const want = w.bc ?? { ca: false };
    if (cur.ca !== want.ca || cur.pathLen !== want.pathLen) return false;
    if (w.bc ? !bc || bc.critical !== w.bcCritical : bc) return false;
    const ms = ext(OID.mustStaple);
    if (w.mustStaple ? !ms || ms.critical !== w.mustStapleCritical : ms) return false;
    const ski = ext(OID.ski);
    if (w.ski) {
      if (!ski || ski.critical || !parseOne(ski.value).content.equals(keyIdentifier(spki))) return false;
    } else if (ski) return false;
    if (ext(OID.aki) || ext(OID.nameConstraints) || ext(OID.crlDp)) return false;
  } catch {
    return false;
  }
  if (!verifySigned(csr.top, csr.spki)) return false;
  return csr.spki.equals(spki);
}

export async function runCsr(args: Record<string, unknown>, ctx: ModuleContext, r: Remote): Promise<Record<string, unknown>> {
  for (const u of UNSUPPORTED) if (args[u] !== undefined && args[u] !== null) throw new ModuleArgError(`${u} is not supported by this runner's openssl_csr_pipe`);
  const version = Number(args.version ?? 1);
  if (version !== 1) throw new ModuleArgError('version must be 1 (the only CSR version)');
  const digest = (strArg(args, 'digest') ?? 'sha256').toLowerCase();
  const w = wanted(args);
  const key = await loadKey(r, strArg(args, 'privatekey_path'), strArg(args, 'privatekey_content'), strArg(args, 'privatekey_passphrase'), 'privatekey');
  const spki = spkiOf(key);
  const content = strArg(args, 'content');
  const base = {
    privatekey: strArg(args, 'privatekey_path') ?? null,
    subject: w.subject,
    subjectAltName: w.san,
    keyUsage: w.ku ? [...w.ku] : null,
    extendedKeyUsage: w.eku,
    basicConstraints: w.bc ?? null,
  };
  if (content !== undefined && matches(content, w, spki)) return { changed: false, csr: content, ...base };
  if (ctx.check) return { changed: true, csr: null, ...base };
  let csr: Buffer;
  try {
    csr = buildCsr(w.subject, extensions(w, spki), key, digest);
  } catch (e) {
    throw new Fail(`Error while creating CSR: ${(e as Error).message}`);
  }
  return { changed: true, csr: pemEncode(csr, 'CERTIFICATE REQUEST'), ...base };
}

export const opensslCsrPipeModule = defineModule({
  name: 'openssl_csr_pipe',
  params: PARAMS,
  check(a) {
    if (a.args.privatekey_path === undefined && a.args.privatekey_content === undefined) return [{ message: 'one of privatekey_path or privatekey_content is required', hint: 'add privatekey_path: …' }];
    return [];
  },
  async run(args, ctx, r) {
    return { changed: false, ...(await runCsr(args, ctx, r)) };
  },
});
