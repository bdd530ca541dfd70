import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptEnvelope, encryptVault, isVaultText, looksLikeAlteredText, parseEnvelope, VaultFormatError } from '../../src/vault/codec.js';
import { flipCiphertextByte, hasAnsible, PYTHON } from './support.js';

describe('vault codec', () => {
  it('round-trips with format 1.1 (no label) and 1.2 (label)', () => {
    const e11 = encryptVault('hello: world\n', 'pw');
    expect(e11.split('\n')[0]).toBe('$ANSIBLE_VAULT;1.1;AES256');
    const e12 = encryptVault('hello: world\n', 'pw', { label: 'prod' });
    expect(e12.split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
    // 'default' is no label: format 1.1, as ansible writes it
    expect(encryptVault('x', 'pw', { label: 'default' }).split('\n')[0]).toBe('$ANSIBLE_VAULT;1.1;AES256');
    for (const e of [e11, e12]) {
      const r = decryptEnvelope(parseEnvelope(e), 'pw');
      expect(r.ok && r.plaintext.toString()).toBe('hello: world\n');
    }
    expect(parseEnvelope(e12).label).toBe('prod');
    expect(parseEnvelope(e11).label).toBeUndefined();
  });

  it('wraps the hex body at 80 columns and ends with a newline', () => {
    const e = encryptVault('a'.repeat(500), 'pw');
    const lines = e.split('\n');
    expect(lines.at(-1)).toBe('');
    const body = lines.slice(1, -1);
    expect(body.slice(0, -1).every((l) => l.length === 80)).toBe(true);
    expect(body.at(-1)!.length).toBeLessThanOrEqual(80);
    expect(body.every((l) => /^[0-9a-f]+$/.test(l))).toBe(true);
    expect(isVaultText(e)).toBe(true);
    expect(isVaultText('plain: text')).toBe(false);
  });

  it('uses a fresh 32-byte salt each time', () => {
    const a = parseEnvelope(encryptVault('same', 'pw'));
    const b = parseEnvelope(encryptVault('same', 'pw'));
    expect(a.salt.length).toBe(32);
    expect(a.salt.equals(b.salt)).toBe(false);
    expect(a.ciphertext.length % 16).toBe(0);
  });

  it('pads with PKCS#7 (a full block when the length is a multiple of 16)', () => {
    expect(parseEnvelope(encryptVault('x'.repeat(16), 'pw')).ciphertext.length).toBe(32);
    expect(parseEnvelope(encryptVault('x'.repeat(15), 'pw')).ciphertext.length).toBe(16);
    expect(parseEnvelope(encryptVault('', 'pw')).ciphertext.length).toBe(16);
  });

  it.skipIf(!hasAnsible)('produces byte-identical output to ansible’s own VaultAES256 for the same salt', () => {
    const salt = Buffer.from('0123456789abcdef0123456789abcdef');
    const plaintext = 'key: value\nüñíçødé: ✓\n';
    const py = [
      'import sys',
      'from ansible.parsing.vault import VaultAES256, VaultSecret, format_vaulttext_envelope',
      'ct = VaultAES256.encrypt(sys.argv[1].encode(), VaultSecret(b"s3cret pw"), salt=sys.argv[2])',
      'sys.stdout.write(format_vaulttext_envelope(ct, "AES256", vault_id=sys.argv[3]).decode())',
    ].join('\n');
    for (const label of ['default', 'site-a']) {
      const r = spawnSync(PYTHON, ['-c', py, plaintext, salt.toString('latin1'), label], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(encryptVault(plaintext, 's3cret pw', { label, salt })).toBe(r.stdout);
    }
  }, 60_000);

  it('rejects a wrong password without calling it damage', () => {
    const env = parseEnvelope(encryptVault('db_password: hunter2-and-more\n', 'right'));
    const r = decryptEnvelope(env, 'wrong');
    expect(r).toEqual({ ok: false, plausible: false });
  });

  it('tells a flipped ciphertext byte (right password) apart from a wrong password', () => {
    const text = 'vault_keystone_password: abcdefghijkl\nvault_glance_password: mnopqrstuvwx\n';
    const env = parseEnvelope(flipCiphertextByte(encryptVault(text, 'right'), 7));
    expect(decryptEnvelope(env, 'right')).toEqual({ ok: false, plausible: true });
    expect(decryptEnvelope(env, 'wrong')).toEqual({ ok: false, plausible: false });
    // damage inside the padding block is still recognised (the block before it is judged)
    const env2 = parseEnvelope(flipCiphertextByte(encryptVault(text, 'right'), -1 >>> 0));
    expect(decryptEnvelope(env2, 'right').ok).toBe(false);
  });

  it('recognises an altered HMAC field (right password, intact ciphertext)', () => {
    const env = parseEnvelope(encryptVault('some: yaml text here\n', 'right'));
    env.hmac[0]! ^= 1;
    expect(decryptEnvelope(env, 'right')).toEqual({ ok: false, plausible: true });
  });

  it('does not call random bytes plausible text (wrong-password false positives)', () => {
    // Real wrong-password attempts on short values (one or two AES blocks)...
    const env = parseEnvelope(encryptVault('abcdefghijkl', 'right'));
    for (let i = 0; i < 20; i++) expect(decryptEnvelope(env, `wrong-${i}`)).toEqual({ ok: false, plausible: false });
    // ...and the property behind them: a wrong key turns CTR ciphertext into uniformly random bytes.
    // (Expected false positives for 16-byte blocks: ~2e-7 each, so 4000 draws flake with p < 1e-3.)
    let plausible = 0;
    for (let i = 0; i < 2000; i++) {
      if (looksLikeAlteredText(randomBytes(16))) plausible++;
      if (looksLikeAlteredText(randomBytes(48))) plausible++;
    }
    expect(plausible).toBe(0);
    expect(looksLikeAlteredText(randomBytes(4096))).toBe(false);
    // and real text with one damaged byte is plausible
    const text = Buffer.from('vault_nova_password: TD761LP39FHQ\n\x04\x04\x04\x04', 'latin1');
    text[3]! ^= 0x77;
    expect(looksLikeAlteredText(text)).toBe(true);
  });

  describe('structural checks name what is wrong', () => {
    const good = encryptVault('hello\n'.repeat(30), 'pw', { label: 'prod' });
    const lines = good.split('\n');
    const fail = (text: string): VaultFormatError => {
      try {
        parseEnvelope(text);
      } catch (e) {
        if (e instanceof VaultFormatError) return e;
        throw e;
      }
      throw new Error('parseEnvelope accepted a broken envelope');
    };

    it('a non-hex character: line and column', () => {
      const l = [...lines];
      l[3] = l[3]!.slice(0, 10) + 'g' + l[3]!.slice(11);
      const e = fail(l.join('\n'));
      expect(e.message).toMatch(/'g' is not a hex digit/);
      expect([e.envLine, e.envCol]).toEqual([4, 11]);
    });

    it('a deleted digit: odd length, and the short line is named', () => {
      const l = [...lines];
      l[2] = l[2]!.slice(1);
      expect(fail(l.join('\n')).message).toMatch(/odd number of digits.*line 3 has 79 hex digits/);
    });

    it('a truncated file', () => {
      const e = fail(lines.slice(0, 3).join('\n'));
      expect(e.message).toMatch(/fields|multiple of 16|ciphertext/);
    });

    it('headers: version, cipher, missing label, 1.0', () => {
      expect(fail(good.replace(';1.2;', ';1.9;')).message).toMatch(/unknown vault format version '1.9'/);
      expect(fail(good.replace('AES256', 'AES128')).message).toMatch(/unknown cipher 'AES128'/);
      expect(fail(good.replace(';AES256;prod', ';AES256')).message).toMatch(/1.2 header without a vault id/);
      expect(fail(good.replace(';1.2;', ';1.0;')).message).toMatch(/1.0.*not supported/);
      expect(fail('$ANSIBLE_VAULT;1.1;AES256\n').message).toMatch(/no encrypted body/);
    });

    it('an altered outer digit that still is hex but breaks the inner layer', () => {
      // '3' (0x33, a digit) → 'b' turns the inner byte 0x3X into 0xbX: not a hex digit
      const l = [...lines];
      const i = l[1]!.indexOf('3');
      l[1] = l[1]!.slice(0, i) + 'b' + l[1]!.slice(i + 1);
      const e = fail(l.join('\n'));
      expect(e.message).toMatch(/outer hex layer decodes to a byte that is not a hex digit/);
      expect(e.envLine).toBe(2);
    });

    it('records irregular wrapping as an oddity but still decrypts', () => {
      const body = lines.slice(1).join('');
      const rewrapped = [lines[0], ...(body.match(/.{1,64}/g) ?? [])].join('\n');
      const env = parseEnvelope(rewrapped);
      expect(env.oddities.join(' ')).toMatch(/64 hex digits where ansible-vault writes 80/);
      const r = decryptEnvelope(env, 'pw');
      expect(r.ok).toBe(true);
    });
  });
});
