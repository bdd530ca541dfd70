/**
 * The ansible-vault file format, versions 1.1 and 1.2 (cipher AES256), written from the format's description
 * because no maintained JavaScript library implements it (node:crypto has every primitive):
 *
 *   $ANSIBLE_VAULT;1.1;AES256            (1.2 adds ";<label>", the vault id)
 *   <hex(inner)> wrapped at 80 columns
 *
 *   inner = hex(salt) "\n" hex(hmac) "\n" hex(ciphertext)      (the hex is applied twice: a format quirk)
 *   key material = PBKDF2-HMAC-SHA256(password, salt, 10000 iterations, 80 bytes)
 *                = AES-256 key (32) | HMAC-SHA256 key (32) | CTR initial counter block (16)
 *   ciphertext = AES-256-CTR(PKCS#7-pad(plaintext, 16)),  hmac = HMAC-SHA256(ciphertext)
 *
 * The HMAC only says "this key did not produce this ciphertext"; it cannot say whether the key or the
 * ciphertext is wrong. `parseEnvelope` therefore checks everything that *can* be checked without a key (header,
 * hex digits, line wrapping, the three inner fields, sizes) and records oddities, and `decryptEnvelope`
 * reports, when the HMAC fails, whether the key still turns the ciphertext into readable text — which happens
 * when the password is right and the file was altered after encryption (CTR mode keeps damage local).
 */
import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export const VAULT_HEADER = '$ANSIBLE_VAULT';
export const DEFAULT_VAULT_ID = 'default';
const ITERATIONS = 10000;
const KEY_LEN = 32;
const IV_LEN = 16;
const SALT_LEN = 32;
const BLOCK = 16;
const WRAP = 80;

/** Raised by `parseEnvelope` when the text cannot be a valid vault: the file is damaged or not a vault at all. */
export class VaultFormatError extends Error {
  constructor(
    message: string,
    /** 1-based line inside the envelope (1 = header), when the problem has a place */
    readonly envLine?: number,
    readonly envCol?: number,
  ) {
    super(message);
    this.name = 'VaultFormatError';
  }
}

export interface VaultEnvelope {
  version: '1.1' | '1.2';
  cipher: 'AES256';
  /** vault id from the header (1.2), undefined for 1.1 */
  label?: string;
  salt: Buffer;
  hmac: Buffer;
  ciphertext: Buffer;
  /** irregularities that do not prevent decryption but are evidence of damage if no password fits */
  oddities: string[];
}

export type DecryptAttempt = { ok: true; plaintext: Buffer } | { ok: false; plausible: boolean };

/** Does this text (or buffer) start with the vault header? Same test as ansible's `is_encrypted`. */
export function isVaultText(data: string | Buffer): boolean {
  const head = typeof data === 'string' ? data.slice(0, VAULT_HEADER.length) : data.subarray(0, VAULT_HEADER.length).toString('latin1');
  return head === VAULT_HEADER;
}

/** A vault id label must fit in the header and in `label@source`: no whitespace, ';' or '@'. */
export function checkLabel(label: string): string | undefined {
  if (label === '') return 'a vault id must not be empty';
  if (/[\s;@]/.test(label)) return `vault id '${label}' must not contain whitespace, ';' or '@'`;
  return undefined;
}

function deriveKeys(password: Buffer, salt: Buffer): { aesKey: Buffer; hmacKey: Buffer; iv: Buffer } {
  const km = pbkdf2Sync(password, salt, ITERATIONS, 2 * KEY_LEN + IV_LEN, 'sha256');
  return { aesKey: km.subarray(0, KEY_LEN), hmacKey: km.subarray(KEY_LEN, 2 * KEY_LEN), iv: km.subarray(2 * KEY_LEN) };
}

function ctr(key: Buffer, iv: Buffer, data: Buffer, decrypt: boolean): Buffer {
  const c = decrypt ? createDecipheriv('aes-256-ctr', key, iv) : createCipheriv('aes-256-ctr', key, iv);
  return Buffer.concat([c.update(data), c.final()]);
}

function pad(data: Buffer): Buffer {
  const n = BLOCK - (data.length % BLOCK);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

/** Strip PKCS#7 padding; undefined when the padding is invalid. */
function unpad(data: Buffer): Buffer | undefined {
  if (data.length === 0 || data.length % BLOCK !== 0) return undefined;
  const n = data[data.length - 1]!;
  if (n < 1 || n > BLOCK) return undefined;
  for (let i = data.length - n; i < data.length; i++) if (data[i] !== n) return undefined;
  return data.subarray(0, data.length - n);
}

const toBuf = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v);

/** Encrypt to a complete vault envelope (with trailing newline). A label other than `default` selects format 1.2. */
export function encryptVault(plaintext: string | Buffer, password: string | Buffer, opts: { label?: string; salt?: Buffer } = {}): string {
  const pw = toBuf(password);
  if (pw.length === 0) throw new Error('empty vault password');
  const label = opts.label && opts.label !== DEFAULT_VAULT_ID ? opts.label : undefined;
  if (label !== undefined) {
    const bad = checkLabel(label);
    if (bad) throw new Error(bad);
  }
  const salt = opts.salt ?? randomBytes(SALT_LEN);
  const { aesKey, hmacKey, iv } = deriveKeys(pw, salt);
  const ciphertext = ctr(aesKey, iv, pad(toBuf(plaintext)), false);
  const hmac = createHmac('sha256', hmacKey).update(ciphertext).digest();
  const inner = `${salt.toString('hex')}\n${hmac.toString('hex')}\n${ciphertext.toString('hex')}`;
  const outer = Buffer.from(inner, 'latin1').toString('hex');
  const lines = [label ? `${VAULT_HEADER};1.2;AES256;${label}` : `${VAULT_HEADER};1.1;AES256`];
  for (let i = 0; i < outer.length; i += WRAP) lines.push(outer.slice(i, i + WRAP));
  return lines.join('\n') + '\n';
}

const HEX = /^[0-9a-fA-F]*$/;

/** Parse and check a vault envelope. Throws VaultFormatError for anything that cannot be a valid vault. */
export function parseEnvelope(text: string): VaultEnvelope {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').trim();
  const fields = header.split(';').map((f) => f.trim());
  if (fields[0] !== VAULT_HEADER) throw new VaultFormatError(`not vault-encrypted: the first line does not start with ${VAULT_HEADER}`, 1);
  const version = fields[1] ?? '';
  if (version === '1.0') throw new VaultFormatError('vault format 1.0 (AES-CBC, Ansible < 2.0) is not supported', 1);
  if (version !== '1.1' && version !== '1.2') {
    throw new VaultFormatError(`unknown vault format version '${version}' in the header (expected 1.1 or 1.2)`, 1);
  }
  if (fields[2] !== 'AES256') throw new VaultFormatError(`unknown cipher '${fields[2] ?? ''}' in the header (expected AES256)`, 1);
  const label = fields[3] !== undefined && fields[3] !== '' ? fields[3] : undefined;
  if (version === '1.2' && label === undefined) throw new VaultFormatError('format 1.2 header without a vault id (";<label>" is missing)', 1);
  if (fields.length > 4) throw new VaultFormatError(`the header has ${fields.length} fields (at most 4: header;version;cipher;vault id)`, 1);

  const oddities: string[] = [];
  // Body lines (trailing blank lines and indentation-stripping leftovers tolerated).
  const body: { text: string; line: number }[] = [];
  for (let i = 1; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t === '') continue;
    if (body.length && body[body.length - 1]!.line !== i) oddities.push(`a blank line sits inside the hex body (before line ${i + 1})`);
    body.push({ text: t, line: i + 1 });
  }
  if (body.length === 0) throw new VaultFormatError('the vault has a header but no encrypted body (truncated?)', 1);
  for (const [k, b] of body.entries()) {
    if (!HEX.test(b.text)) {
      const col = [...b.text].findIndex((c) => !/[0-9a-fA-F]/.test(c));
      throw new VaultFormatError(`character '${b.text[col]}' is not a hex digit`, b.line, col + 1);
    }
    const last = k === body.length - 1;
    if ((!last && b.text.length !== WRAP) || b.text.length > WRAP) {
      oddities.push(`line ${b.line} has ${b.text.length} hex digits where ansible-vault writes ${last ? 'at most ' : ''}${WRAP}`);
    }
  }
  const outer = body.map((b) => b.text).join('');
  if (outer.length % 2 !== 0) {
    throw new VaultFormatError(
      `the hex body has an odd number of digits (${outer.length}): a digit was added or removed` +
        (oddities.length ? ` (${oddities.join('; ')})` : ''),
    );
  }
  const inner = Buffer.from(outer, 'hex');
  const badAt = inner.findIndex((c) => !(c === 0x0a || (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)));
  if (badAt >= 0) {
    // Each inner byte is two outer digits: name the envelope line that holds the damaged pair.
    const digit = badAt * 2;
    let acc = 0;
    let where = body[0]!;
    for (const b of body) {
      if (digit < acc + b.text.length) {
        where = b;
        break;
      }
      acc += b.text.length;
    }
    throw new VaultFormatError(`the outer hex layer decodes to a byte that is not a hex digit or newline: the body was altered`, where.line, digit - acc + 1);
  }
  const parts = inner.toString('latin1').split('\n');
  if (parts.length !== 3) throw new VaultFormatError(`the decoded body has ${parts.length} fields where salt, HMAC and ciphertext (3) are expected`);
  const [saltHex, hmacHex, ctHex] = parts as [string, string, string];
  if (saltHex.length === 0 || saltHex.length % 2 !== 0) throw new VaultFormatError(`the salt field has ${saltHex.length} hex digits (expected ${SALT_LEN * 2})`);
  if (saltHex.length !== SALT_LEN * 2) {
    oddities.push(`the salt is ${saltHex.length / 2} bytes where ansible-vault writes ${SALT_LEN} (unless vault_encrypt_salt is set)`);
  }
  if (hmacHex.length !== 64) throw new VaultFormatError(`the HMAC field has ${hmacHex.length} hex digits (expected 64)`);
  if (ctHex.length === 0 || ctHex.length % 2 !== 0) throw new VaultFormatError(`the ciphertext field has ${ctHex.length} hex digits (expected an even, non-zero number)`);
  const ciphertext = Buffer.from(ctHex, 'hex');
  if (ciphertext.length % BLOCK !== 0) {
    throw new VaultFormatError(`the ciphertext is ${ciphertext.length} bytes, not a multiple of ${BLOCK} (padded data always is): it was truncated or extended`);
  }
  return {
    version,
    cipher: 'AES256',
    label,
    salt: Buffer.from(saltHex, 'hex'),
    hmac: Buffer.from(hmacHex, 'hex'),
    ciphertext,
    oddities,
  };
}

/**
 * Would these bytes, decrypted with a key that failed the HMAC, be the user's text with a few damaged bytes?
 * With a wrong key CTR yields uniformly random bytes: valid padding has probability ~1/256 and a run of
 * printable UTF-8 is far rarer, so "plausible" means "the key is right, the ciphertext or HMAC was altered".
 * Needs at least 8 bytes of content to say anything; binary plaintext is never called plausible.
 */
export function looksLikeAlteredText(decrypted: Buffer): boolean {
  let content = unpad(decrypted);
  if (!content) {
    // The damage may sit in the padding itself: judge everything before the last block.
    if (decrypted.length < 2 * BLOCK) return false;
    content = decrypted.subarray(0, decrypted.length - BLOCK);
  }
  if (content.length < 8) return false;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(content);
  let n = 0;
  let bad = 0;
  for (const ch of text) {
    n++;
    const c = ch.codePointAt(0)!;
    if (c === 0xfffd || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || (c >= 0x7f && c < 0xa0)) bad++;
  }
  return bad <= Math.max(1, Math.floor(n / 50));
}

/** Try one password. The HMAC is compared in constant time before anything is decrypted for the caller. */
export function decryptEnvelope(env: VaultEnvelope, password: string | Buffer): DecryptAttempt {
  const { aesKey, hmacKey, iv } = deriveKeys(toBuf(password), env.salt);
  const mac = createHmac('sha256', hmacKey).update(env.ciphertext).digest();
  const macOk = timingSafeEqual(mac, env.hmac);
  const decrypted = ctr(aesKey, iv, env.ciphertext, true);
  if (!macOk) {
    // Only a yes/no leaves this function; the bytes are wiped.
    const plausible = looksLikeAlteredText(decrypted);
    decrypted.fill(0);
    return { ok: false, plausible };
  }
  const plaintext = unpad(decrypted);
  if (!plaintext) throw new VaultFormatError('the HMAC matches but the PKCS#7 padding is invalid: the file was written by a broken encoder');
  return { ok: true, plaintext: Buffer.from(plaintext) };
}
