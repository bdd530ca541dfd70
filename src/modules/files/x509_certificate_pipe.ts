/**
 * `x509_certificate_pipe` (community.crypto), providers `ownca` and `selfsigned`: returns a PEM certificate
 * (`certificate`) for a CSR, re-issuing only when the existing one (`content`) no longer fits — the checks
 * community.crypto makes: CSR signature and public key, subject, the CSR's extensions (SKI/AKI aside),
 * Subject Key Identifier, signature by the CA, issuer = CA subject, Authority Key Identifier = the CA's key id.
 * Timestamps are ignored unless ignore_timestamps=false (the module's default), so re-runs do not re-issue.
 * CA key/cert and CSR paths are read from the task's host (usually the deployer via delegate_to).
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import { boolArg, choiceArg, defineModule, Fail, ModuleArgError, type Remote, strArg } from './common.js';
import { loadKey } from './openssl_csr_pipe.js';
import { buildCert, decodeGeneralName, der, type Ext, keyIdentifier, OID, parseCert, parseCsr, parseOne, parseRelTime, pemDecode, pemEncode, spkiOf, verifySigned } from './x509.js';

const PARAMS = [
  'provider',
  'content',
  'csr_path',
  'csr_content',
  'privatekey_path',
  'privatekey_content',
  'privatekey_passphrase',
  'ownca_path',
  'ownca_content',
  'ownca_privatekey_path',
  'ownca_privatekey_content',
  'ownca_privatekey_passphrase',
  'ownca_digest',
  'ownca_version',
  'ownca_not_before',
  'ownca_not_after',
  'ownca_create_subject_key_identifier',
  'ownca_create_authority_key_identifier',
  'selfsigned_digest',
  'selfsigned_version',
  'selfsigned_not_before',
  'selfsigned_notBefore',
  'selfsigned_not_after',
  'selfsigned_notAfter',
  'selfsigned_create_subject_key_identifier',
  'ignore_timestamps',
  'force',
  'select_crypto_backend',
  'return_content',
];

async function text(r: Remote, path: string | undefined, content: string | undefined, what: string): Promise<string | undefined> {
  if (content !== undefined) return content;
  if (path === undefined) return undefined;
  try {
    return (await r.get(await r.expandUser(path))).toString('utf8');
  } catch (e) {
    if (e instanceof Fail) throw new Fail(`cannot read the ${what} ${path}: ${e.message.replace(/^could not read \S+: /, '')}`);
    throw e;
  }
}

function extEq(a: Ext, b: Ext): boolean {
  if (a.oid !== b.oid || a.critical !== b.critical) return false;
  if (a.oid === OID.san) {
    // compare SAN entries as cryptography does (parsed values, order kept)
    try {
      return parseOne(a.value).children.map(decodeGeneralName).join('\n') === parseOne(b.value).children.map(decodeGeneralName).join('\n');
    } catch {
      return false;
    }
  }
  return a.value.equals(b.value);
}

export const x509CertificatePipeModule = defineModule({
  name: 'x509_certificate_pipe',
  params: PARAMS,
  check(a) {
    return a.args.provider === undefined ? [{ message: 'missing required argument: provider', hint: 'add provider: ownca' }] : [];
  },
  async run(args, ctx, r) {
    const provider = choiceArg(args, 'provider', ['ownca', 'selfsigned'] as const);
    if (!provider) throw new ModuleArgError('missing required argument: provider (ownca or selfsigned)');
    const own = provider === 'ownca';
    const p = (k: string): string => `${provider}_${k}`;
    const digest = (strArg(args, p('digest')) ?? 'sha256').toLowerCase();
    const version = Number(args[p('version')] ?? 3);
    if (version !== 3 && version !== 1) throw new ModuleArgError(`${p('version')} must be 1 or 3`);
    const skiMode = choiceArg(args, p('create_subject_key_identifier'), ['create_if_not_provided', 'always_create', 'never_create'] as const, 'create_if_not_provided')!;
    const akiWanted = own ? boolArg(args, 'ownca_create_authority_key_identifier', true) : false;
    const ignoreTs = boolArg(args, 'ignore_timestamps', true);
    const force = boolArg(args, 'force');
    const now = new Date();
    now.setUTCMilliseconds(0);
    let notBefore: Date;
    let notAfter: Date;
    try {
      notBefore = parseRelTime(strArg(args, [p('not_before'), 'selfsigned_notBefore']) ?? '+0s', now);
      notAfter = parseRelTime(strArg(args, [p('not_after'), 'selfsigned_notAfter']) ?? '+3650d', now);
    } catch (e) {
      throw new ModuleArgError((e as Error).message);
    }

    const csrPem = await text(r, strArg(args, 'csr_path'), strArg(args, 'csr_content'), 'CSR');
    if (csrPem === undefined) throw new ModuleArgError('csr_path or csr_content is required');
    let csr;
    try {
      csr = parseCsr(pemDecode(csrPem, 'CERTIFICATE REQUEST'));
    } catch (e) {
      throw new Fail(`Error while loading the CSR: ${(e as Error).message}`);
    }
    if (!verifySigned(csr.top, csr.spki)) throw new Fail('The CSR signature is invalid: regenerate the CSR');

    // the signer: the CA (ownca) or the subject's own key (selfsigned)
    let caSubjectRaw: Buffer;
    let caSubject: [string, string][];
    let caSpki: Buffer;
    let caExts: Ext[] = [];
    let caKeyPath: string | undefined;
    let caKeyContent: string | undefined;
    let caPass: string | undefined;
    if (own) {
      const caPem = await text(r, strArg(args, 'ownca_path'), strArg(args, 'ownca_content'), 'CA certificate');
      if (caPem === undefined) throw new ModuleArgError('ownca_path or ownca_content is required for provider ownca');
      let ca;
      try {
        ca = parseCert(pemDecode(caPem, 'CERTIFICATE'));
      } catch (e) {
        throw new Fail(`Error while loading the CA certificate: ${(e as Error).message}`);
      }
      caSubjectRaw = ca.subjectRaw;
      caSubject = ca.subject;
      caSpki = ca.spki;
      caExts = ca.exts;
      caKeyPath = strArg(args, 'ownca_privatekey_path');
      caKeyContent = strArg(args, 'ownca_privatekey_content');
      caPass = strArg(args, 'ownca_privatekey_passphrase');
      if (caKeyPath === undefined && caKeyContent === undefined) throw new ModuleArgError('ownca_privatekey_path or ownca_privatekey_content is required for provider ownca');
    } else {
      caKeyPath = strArg(args, 'privatekey_path');
      caKeyContent = strArg(args, 'privatekey_content');
      caPass = strArg(args, 'privatekey_passphrase');
      if (caKeyPath === undefined && caKeyContent === undefined) throw new ModuleArgError('privatekey_path or privatekey_content is required for provider selfsigned');
      caSubjectRaw = parseOne(pemDecode(csrPem, 'CERTIFICATE REQUEST')).children[0]!.children[1]!.raw;
      caSubject = csr.subject;
      caSpki = csr.spki;
    }
    const caSki = caExts.find((e) => e.oid === OID.ski);
    const akiKeyId = caSki ? parseOne(caSki.value).content : keyIdentifier(caSpki);
    const expectedAki = der.seq(der.ctx(0, akiKeyId, false));
    const csrSki = csr.exts.find((e) => e.oid === OID.ski);

    // ── needs_regeneration
    const content = strArg(args, 'content');
    const reasons: string[] = [];
    if (force) reasons.push('force');
    if (content === undefined || content.trim() === '') reasons.push('no existing certificate');
    if (!reasons.length) {
      try {
        const cert = parseCert(pemDecode(content!, 'CERTIFICATE'));
        if (own || args.privatekey_path !== undefined || args.privatekey_content !== undefined) {
          if (!own) {
            const k = await loadKey(r, caKeyPath, caKeyContent, caPass, 'privatekey');
            if (!spkiOf(k).equals(cert.spki)) reasons.push('private key does not match');
          }
        }
        if (!csr.spki.equals(cert.spki)) reasons.push('CSR public key differs');
        const sk = (x: [string, string]): string => `${x[0]}=${x[1]}`;
        if (csr.subject.map(sk).join('\n') !== cert.subject.map(sk).join('\n')) reasons.push('subject differs');
        const filt = (l: Ext[]): Ext[] => l.filter((e) => !(skiMode !== 'never_create' && e.oid === OID.ski) && !(akiWanted && e.oid === OID.aki));
        const ce = filt(cert.exts);
        const re = filt(csr.exts);
        if (ce.length !== re.length || !ce.every((e) => re.some((x) => extEq(e, x)))) reasons.push('extensions differ from the CSR');
        if (skiMode !== 'never_create') {
          const ski = cert.exts.find((e) => e.oid === OID.ski);
          const want = skiMode === 'create_if_not_provided' && csrSki ? parseOne(csrSki.value).content : keyIdentifier(cert.spki);
          if (!ski || !parseOne(ski.value).content.equals(want)) reasons.push('subject key identifier differs');
        }
        if (!ignoreTs) {
          if (Math.abs(cert.notBefore.getTime() - notBefore.getTime()) > 0) reasons.push('not_before differs');
          if (Math.abs(cert.notAfter.getTime() - notAfter.getTime()) > 0) reasons.push('not_after differs');
        }
        if (own) {
          if (!verifySigned(cert.top, caSpki)) reasons.push('not signed by the CA');
          if (!cert.issuerRaw.equals(caSubjectRaw) && JSON.stringify(cert.issuer) !== JSON.stringify(caSubject)) reasons.push('issuer differs from the CA subject');
          if (akiWanted) {
            const aki = cert.exts.find((e) => e.oid === OID.aki);
            if (!aki || !aki.value.equals(expectedAki)) reasons.push('authority key identifier differs');
          }
        } else if (!verifySigned(cert.top, cert.spki)) reasons.push('self-signature invalid');
      } catch (e) {
        reasons.push(`existing certificate unreadable (${(e as Error).message})`);
      }
    }
    if (!reasons.length) {
      const cert = parseCert(pemDecode(content!, 'CERTIFICATE'));
      return { changed: false, certificate: content, serial_number: cert.serial.toString(), notBefore: stamp(cert.notBefore), notAfter: stamp(cert.notAfter) };
    }
    const serial = BigInt(`0x${randomBytes(20).toString('hex')}`) >> 1n;
    if (ctx.check) return { changed: true, certificate: null, serial_number: serial.toString(), notBefore: stamp(notBefore), notAfter: stamp(notAfter), reasons };

    const signer = await loadKey(r, caKeyPath, caKeyContent, caPass, own ? 'ownca_privatekey' : 'privatekey');
    if (!spkiOf(signer).equals(caSpki)) throw new Fail(own ? 'The CA private key does not belong to the CA certificate (ownca_privatekey_path vs ownca_path)' : 'privatekey does not match the CSR');
    const exts: Ext[] = [];
    let hasSki = false;
    for (const e of csr.exts) {
      if (e.oid === OID.ski) {
        if (skiMode === 'always_create') continue;
        hasSki = true;
      }
      if (akiWanted && e.oid === OID.aki) continue;
      exts.push(e);
    }
    if (!hasSki && skiMode !== 'never_create') exts.push({ oid: OID.ski, critical: false, value: der.octet(keyIdentifier(csr.spki)) });
    if (akiWanted) exts.push({ oid: OID.aki, critical: false, value: expectedAki });
    const subjectRaw = parseOne(pemDecode(csrPem, 'CERTIFICATE REQUEST')).children[0]!.children[1]!.raw;
    let der1: Buffer;
    try {
      der1 = buildCert({ serial, issuerRaw: caSubjectRaw, subjectRaw, notBefore, notAfter, spki: csr.spki, exts, key: signer, digest, version });
    } catch (e) {
      throw new Fail(`Error while creating the certificate: ${(e as Error).message}`);
    }
    // self-check: the signature verifies with the signer's public key
    if (!verifySigned(parseOne(der1), spkiOf(createPublicKey(signer)))) throw new Fail('internal error: the new certificate does not verify');
    return { changed: true, certificate: pemEncode(der1, 'CERTIFICATE'), serial_number: serial.toString(), notBefore: stamp(notBefore), notAfter: stamp(notAfter), reasons };
  },
});

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}
