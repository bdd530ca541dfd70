import { inspect } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';
import { encryptVault } from '../../src/vault/codec.js';
import { VaultExit } from '../../src/vault/errors.js';
import { vaultVarsOptions } from '../../src/vault/index.js';
import { formatInlineVault, isVaultedValue, makeVaultTag, parseYamlWithVault, VaultedValue } from '../../src/vault/inline.js';
import { clearSecrets, containsSecret, redact, REDACTED, registerSecret } from '../../src/vault/redact.js';
import { VaultSecrets } from '../../src/vault/secrets.js';
import { caught } from './support.js';

const right = VaultSecrets.fromPasswords([{ label: 'prod', password: 'right-pw' }]);
const wrong = VaultSecrets.fromPasswords([{ label: 'prod', password: 'wrong-pw' }]);

function varsFile(): string {
  return [
    'plain: hello',
    'db:',
    '  user: admin',
    `  ${formatInlineVault(encryptVault('Db-Secret-42', 'right-pw', { label: 'prod' }), 'password').replace(/\n/g, '\n  ')}`,
    formatInlineVault(encryptVault('Api-Token-77', 'right-pw', { label: 'prod' }), 'api_token'),
    '',
  ].join('\n');
}

beforeEach(() => clearSecrets());

describe('!vault inline values', () => {
  it('parses to lazy VaultedValues with file:line:col and the variable name', () => {
    const { doc, vaulted } = parseYamlWithVault(varsFile(), 'group_vars/all/vars.yml');
    expect(doc.errors).toEqual([]);
    expect(vaulted.map((v) => [v.name, v.pos.line, v.label])).toEqual([
      ['db.password', 4, 'prod'],
      ['api_token', 11, 'prod'],
    ]);
    const js = doc.toJS() as { db: { password: unknown }; api_token: unknown; plain: string };
    expect(isVaultedValue(js.db.password)).toBe(true);
    expect((js.db.password as VaultedValue).reveal(right)).toBe('Db-Secret-42');
    expect((js.api_token as VaultedValue).reveal(right)).toBe('Api-Token-77');
  });

  it('fails only when read, naming file:line, the variable and the vault id', () => {
    const { doc } = parseYamlWithVault(varsFile(), 'group_vars/all/vars.yml');
    const js = doc.toJS() as { api_token: VaultedValue; plain: string };
    expect(js.plain).toBe('hello'); // the rest of the file is usable with a wrong password
    const e = caught(() => js.api_token.reveal(wrong));
    expect(e.exitCode).toBe(VaultExit.wrongPassword);
    expect(e.pos).toMatchObject({ file: 'group_vars/all/vars.yml', line: 11 });
    expect(e.message).toMatch(/^variable 'api_token': wrong vault password for vault id 'prod'/);
    const none = caught(() => js.api_token.reveal(VaultSecrets.none()));
    expect(none.exitCode).toBe(VaultExit.passwordSource);
    expect(none.message).toMatch(/^variable 'api_token': no vault password given/);
  });

  it('points at the damaged line of an inline envelope', () => {
    const env = encryptVault('x'.repeat(100), 'right-pw').split('\n');
    env[2] = 'q' + env[2]!.slice(1);
    const text = `a: 1\nbroken: !vault |\n  ${env.join('\n  ')}\n`;
    const { doc } = parseYamlWithVault(text, 'v.yml');
    const e = caught(() => (doc.toJS() as { broken: VaultedValue }).broken.reveal(right));
    expect(e.exitCode).toBe(VaultExit.corrupted);
    expect(e.pos).toMatchObject({ file: 'v.yml', line: 5 }); // envelope line 3 (header = 1) sits on file line 2 + 3
  });

  it('never reveals itself when printed, serialised or inspected', () => {
    const { doc } = parseYamlWithVault(varsFile(), 'f.yml');
    const js = doc.toJS() as { db: { password: VaultedValue } };
    const v = js.db.password;
    v.reveal(right); // even after it was revealed (the plaintext is cached inside)
    for (const shown of [String(v), `${v}`, v.toString(), JSON.stringify(v), JSON.stringify(js), inspect(v), inspect(js, { depth: 9 }), inspect(v, { showHidden: true })]) {
      expect(shown).not.toContain('Db-Secret-42');
    }
    expect(String(v)).toBe('<vaulted>');
    expect(JSON.stringify(js)).toContain('"password":"<vaulted>"');
  });

  it('registers revealed values for redaction', () => {
    const { doc } = parseYamlWithVault(varsFile(), 'f.yml');
    const js = doc.toJS() as { db: { password: VaultedValue } };
    expect(redact('connecting with Db-Secret-42')).toBe('connecting with Db-Secret-42');
    js.db.password.reveal(right);
    expect(redact('connecting with Db-Secret-42')).toBe(`connecting with ${REDACTED}`);
  });

  it('binds values to a VaultSecrets with makeVaultTag (reveal() without arguments)', async () => {
    const { parseDocument } = await import('yaml');
    const doc = parseDocument(varsFile(), { version: '1.1', customTags: [makeVaultTag(right)] });
    expect((doc.toJS() as { api_token: VaultedValue }).api_token.reveal()).toBe('Api-Token-77');
  });

  it('stringifies back to a !vault literal block that parses again', () => {
    const { doc } = parseYamlWithVault(varsFile(), 'f.yml');
    const out = doc.toString();
    expect(out).toMatch(/api_token: !vault \|\n\s+\$ANSIBLE_VAULT;1\.2;AES256;prod\n/);
    const again = parseYamlWithVault(out, 'f2.yml');
    expect((again.doc.toJS() as { api_token: VaultedValue }).api_token.reveal(right)).toBe('Api-Token-77');
  });

  it('vaultVarsOptions: decrypts whole-file vaults and registers every value', () => {
    const opts = vaultVarsOptions(right);
    const env = encryptVault("vault_keystone_password: 'Ks-Pw-123456'\nlist: [Item-Secret-1]\n", 'right-pw', { label: 'prod' });
    expect(opts.decryptFile(env, 'group_vars/all/vault.yml')).toContain('Ks-Pw-123456');
    expect(containsSecret('x Ks-Pw-123456 y Item-Secret-1')).toBe(true);
    expect(redact('Ks-Pw-123456/Item-Secret-1')).toBe(`${REDACTED}/${REDACTED}`);
  });
});

describe('redact', () => {
  it('replaces longest secrets first and JSON-escaped forms', () => {
    registerSecret('abcd');
    registerSecret('abcdefgh');
    registerSecret('quote"and\\back');
    expect(redact('x abcdefgh y abcd')).toBe(`x ${REDACTED} y ${REDACTED}`);
    expect(redact(JSON.stringify({ v: 'quote"and\\back' }))).toBe(`{"v":"${REDACTED}"}`);
  });

  it('ignores very short strings and registers lines of multi-line secrets', () => {
    registerSecret('ab');
    expect(redact('ab cd')).toBe('ab cd');
    registerSecret('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nQyNTUxOQAAACBe\n-----END OPENSSH PRIVATE KEY-----\n');
    expect(redact('line: b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ')).toBe(`line: ${REDACTED}`);
    expect(redact('-----END OPENSSH PRIVATE KEY-----')).toBe('-----END OPENSSH PRIVATE KEY-----');
    expect(redact('no secret here')).toBe('no secret here');
  });
});
