/**
 * `openssl_privatekey` (community.crypto): a private key file on the target, generated on the controller with
 * node:crypto (RSA in the traditional PKCS#1 PEM, as the module's default `format: auto_ignore` writes; ECC
 * and Ed25519 in PKCS#8) and written atomically with mode 0600 (or `mode`). Kept when the existing key has
 * the wanted type and size (regenerate: partial_idempotence), so a second run is `ok`. The key is never
 * printed; `privatekey` is returned only with return_content.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { ModuleResult } from '../types.js';
import { applyAttrs, attrPlanEmpty, backupFile, boolArg, choiceArg, defineModule, Fail, FILE_COMMON, intArg, pathArg, planAttrs, planWrite, shq, strArg, wantAttrs, writeFile } from './common.js';

const PARAMS = [
  'path',
  'size',
  'type',
  'curve',
  'force',
  'state',
  'passphrase',
  'cipher',
  'format',
  'format_mismatch',
  'backup',
  'return_content',
  'regenerate',
  'select_crypto_backend',
  ...FILE_COMMON,
];

const CURVES: Record<string, string> = { secp256r1: 'prime256v1', secp384r1: 'secp384r1', secp521r1: 'secp521r1', secp256k1: 'secp256k1' };

export function fingerprints(key: KeyObject): Record<string, string> {
  const spki = (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
  const out: Record<string, string> = {};
  for (const h of ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512']) {
    out[h] = createHash(h).update(spki).digest('hex').match(/../g)!.join(':');
  }
  return out;
}

function keyInfo(key: KeyObject): { type: string; size: number; curve?: string } {
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { type: 'RSA', size: d.modulusLength ?? 0 };
    case 'dsa':
      return { type: 'DSA', size: d.modulusLength ?? 0 };
    case 'ec': {
      const curve = Object.entries(CURVES).find(([, v]) => v === d.namedCurve)?.[0] ?? d.namedCurve ?? '';
      return { type: 'ECC', size: ({ secp256r1: 256, secp384r1: 384, secp521r1: 521, secp256k1: 256 } as Record<string, number>)[curve] ?? 0, curve };
    }
    case 'ed25519':
      return { type: 'Ed25519', size: 256 };
    case 'ed448':
      return { type: 'Ed448', size: 456 };
    case 'x25519':
      return { type: 'X25519', size: 256 };
    case 'x448':
      return { type: 'X448', size: 448 };
    default:
      return { type: key.asymmetricKeyType ?? 'unknown', size: 0 };
  }
}

function generate(type: string, size: number, curve: string | undefined, passphrase: string | undefined): string {
  const enc = passphrase !== undefined ? { cipher: 'aes-256-cbc', passphrase } : {};
  if (type === 'RSA') {
    return generateKeyPairSync('rsa', { modulusLength: size, publicExponent: 65537, privateKeyEncoding: passphrase !== undefined ? { type: 'pkcs8', format: 'pem', ...enc } : { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
      .privateKey;
  }
  if (type === 'ECC') {
    const c = CURVES[curve ?? ''];
    if (!c) throw new Fail(`curve ${curve ?? '(none)'} is not supported: use one of ${Object.keys(CURVES).join(', ')}`);
    return generateKeyPairSync('ec', { namedCurve: c, privateKeyEncoding: { type: 'pkcs8', format: 'pem', ...enc }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
  }
  if (type === 'Ed25519' || type === 'Ed448' || type === 'X25519' || type === 'X448') {
    const t = type.toLowerCase() as 'ed25519' | 'ed448' | 'x25519' | 'x448';
    return (generateKeyPairSync as (t: string, o: object) => { privateKey: string })(t, { privateKeyEncoding: { type: 'pkcs8', format: 'pem', ...enc }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
  }
  throw new Fail(`key type ${type} is not supported: use RSA, ECC, Ed25519, Ed448, X25519 or X448`);
}

export const opensslPrivatekeyModule = defineModule({
  name: 'openssl_privatekey',
  params: PARAMS,
  async run(args, ctx, r) {
    const path = await r.expandUser(pathArg(args, ['path']));
    const state = choiceArg(args, 'state', ['present', 'absent'] as const, 'present')!;
    const type = choiceArg(args, 'type', ['RSA', 'DSA', 'ECC', 'Ed25519', 'Ed448', 'X25519', 'X448'] as const, 'RSA')!;
    const size = intArg(args, 'size', 4096)!;
    const curve = strArg(args, 'curve');
    const force = boolArg(args, 'force');
    const passphrase = strArg(args, 'passphrase');
    const regenerate = choiceArg(args, 'regenerate', ['never', 'fail', 'partial_idempotence', 'full_idempotence', 'always'] as const, 'full_idempotence')!;
    const returnContent = boolArg(args, 'return_content');
    const backup = boolArg(args, 'backup');
    const want = wantAttrs(args, ctx, r);
    if (want.mode === undefined) want.mode = 0o600;

    const info = await r.stat(path, { follow: true });
    const cur = info.kind === 'link' && info.target ? info.target : info;
    const real = info.kind === 'link' && info.target ? (info.realpath ?? path) : path;
    const res: ModuleResult = { changed: false, filename: path, type, size };

    if (state === 'absent') {
      if (!info.exists) return res;
      if (!ctx.check) {
        if (backup) res.backup_file = await backupFile(r, real);
        await r.shOk(`rm -f -- ${shq(path)}`, `could not remove ${path}`);
      }
      return { ...res, changed: true };
    }

    let existing: KeyObject | undefined;
    let existingPem: string | undefined;
    if (cur.exists && cur.kind === 'file') {
      existingPem = (await r.get(real)).toString('utf8');
      try {
        existing = createPrivateKey(passphrase !== undefined ? { key: existingPem, passphrase } : { key: existingPem });
      } catch {
        existing = undefined;
      }
    }
    let need = force || regenerate === 'always' || !existing;
    if (!need && existing) {
      const ki = keyInfo(existing);
      if (ki.type !== type || (type === 'RSA' || type === 'DSA' ? ki.size !== size : type === 'ECC' ? ki.curve !== curve : false)) need = true;
      if (need && regenerate === 'never') need = false;
      if (need && regenerate === 'fail') throw new Fail(`${path} holds a key that does not match type/size/curve: fix the file or set regenerate`);
      // full_idempotence would also compare format and passphrase protection; an unreadable key was handled above
    }
    if (cur.exists && cur.kind === 'file' && !existing && regenerate === 'never') {
      throw new Fail(`${path} is not a readable private key (wrong passphrase?) and regenerate=never`);
    }
    if (!need) {
      const plan = await planAttrs(r, cur, want);
      if (!attrPlanEmpty(plan)) {
        res.changed = true;
        if (!ctx.check) await applyAttrs(r, real, plan);
      }
      const k = existing!;
      Object.assign(res, keyInfo(k), { fingerprint: fingerprints(k), filename: path });
      if (returnContent) res.privatekey = existingPem;
      return res;
    }
    res.changed = true;
    if (ctx.check) return res;
    const pem = generate(type, size, curve, passphrase);
    const key = createPrivateKey(passphrase !== undefined ? { key: pem, passphrase } : { key: pem });
    const plan = await planWrite(r, cur, want);
    const bk = await writeFile(r, { dest: real, content: Buffer.from(pem, 'utf8'), before: cur, want, backup }, plan);
    if (bk) res.backup_file = bk;
    Object.assign(res, keyInfo(key), { fingerprint: fingerprints(key), filename: path });
    if (returnContent) res.privatekey = pem;
    return res;
  },
});
