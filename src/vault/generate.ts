/**
 * Secret generation for `./run vault` (the reference installer's table, §1.3), all in memory:
 * random alphanumerics (unbiased: crypto.randomInt), a random UUID, and an RSA key pair in OpenSSH formats.
 *
 * node:crypto generates RSA keys but exports no OpenSSH formats, and no installed library writes them, so
 * the two small encoders are here: the public line (`ssh-rsa <base64> comment`, RFC 4253 §6.6) and the
 * unencrypted `openssh-key-v1` private key (OpenSSH PROTOCOL.key) — the format `ssh-keygen` writes, with
 * the comment inside, so `ssh-keygen -y -f` and sshd accept it and the key never passes through a temp file.
 */
import { generateKeyPairSync, randomBytes, randomInt, randomUUID } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `n` random characters of [A-Za-z0-9]. With `allClasses`, retry until upper, lower and digit all occur. */
export function randomAlnum(n: number, allClasses = false): string {
  for (let attempt = 0; attempt < 1000; attempt++) {
    let s = '';
    for (let i = 0; i < n; i++) s += ALNUM[randomInt(ALNUM.length)];
    if (!allClasses || (/[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s))) return s;
  }
  throw new Error('could not generate a password with every character class');
}

export const randomUuid = (): string => randomUUID();

// --- SSH wire encoding (RFC 4251 §5) ---
function sshString(b: Buffer | string): Buffer {
  const data = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

/** mpint: big-endian two's complement, minimal length, a 0x00 prefix when the high bit is set. */
function sshMpint(unsignedBigEndian: Buffer): Buffer {
  let i = 0;
  while (i < unsignedBigEndian.length && unsignedBigEndian[i] === 0) i++;
  let v = unsignedBigEndian.subarray(i);
  if (v.length && v[0]! & 0x80) v = Buffer.concat([Buffer.alloc(1), v]);
  return sshString(v);
}

const b64u = (s: string | undefined): Buffer => {
  if (!s) throw new Error('incomplete RSA key');
  return Buffer.from(s, 'base64url');
};

export interface SshKeyPair {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` … (unencrypted, comment inside) */
  privateKey: string;
  /** `ssh-rsa AAAA… comment` */
  publicKey: string;
}

/** A fresh RSA key pair without passphrase, as `ssh-keygen -t rsa -N '' -C comment` would make. */
export function generateSshRsaKeyPair(comment: string, bits = 3072): SshKeyPair {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 65537 });
  const jwk = privateKey.export({ format: 'jwk' });
  const [n, e, d, p, q, qi] = [jwk.n, jwk.e, jwk.d, jwk.p, jwk.q, jwk.qi].map(b64u) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
  const pubBlob = Buffer.concat([sshString('ssh-rsa'), sshMpint(e), sshMpint(n)]);
  const publicKey = `ssh-rsa ${pubBlob.toString('base64')} ${comment}`;

  const check = randomBytes(4);
  let priv = Buffer.concat([
    check,
    check,
    sshString('ssh-rsa'),
    sshMpint(n),
    sshMpint(e),
    sshMpint(d),
    sshMpint(qi), // iqmp = q^-1 mod p, which is JWK's "qi"
    sshMpint(p),
    sshMpint(q),
    sshString(comment),
  ]);
  const padLen = (8 - (priv.length % 8)) % 8;
  priv = Buffer.concat([priv, Buffer.from(Array.from({ length: padLen }, (_, i) => i + 1))]);
  const nkeys = Buffer.alloc(4);
  nkeys.writeUInt32BE(1);
  const blob = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    nkeys,
    sshString(pubBlob),
    sshString(priv),
  ]);
  const b64 = blob.toString('base64').replace(/.{70}/g, '$&\n').replace(/\n$/, '');
  const privateKeyText = `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`;
  priv.fill(0);
  return { privateKey: privateKeyText, publicKey };
}

