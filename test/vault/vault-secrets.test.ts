import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { loadRunConfig } from '../../src/config/config.js';
import { RunError } from '../../src/core/errors.js';
import { encryptVault } from '../../src/vault/codec.js';
import { VaultExit } from '../../src/vault/errors.js';
import { setVaultDebug } from '../../src/vault/log.js';
import { parseVaultId, VaultSecrets } from '../../src/vault/secrets.js';
import { caught } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'vault-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => setVaultDebug(false));

function file(name: string, content: string, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, content, { mode });
  chmodSync(p, mode);
  return p;
}

async function caughtAsync(p: Promise<unknown>): Promise<RunError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RunError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('vault password sources', () => {
  it('parses label@source like ansible', () => {
    expect(parseVaultId('prod@/x/p.txt')).toEqual({ label: 'prod', source: '/x/p.txt' });
    expect(parseVaultId('/x/p.txt')).toEqual({ label: 'default', source: '/x/p.txt' });
    expect(parseVaultId('dev@prompt')).toEqual({ label: 'dev', source: 'prompt' });
    expect(parseVaultId('a@b@c')).toEqual({ label: 'a', source: 'b@c' });
  });

  it('reads a password file (trimmed) and an executable’s stdout', async () => {
    const pf = file('pw.txt', '  filepw \n\n');
    const sc = file('pw.sh', '#!/bin/sh\necho scriptpw\n', 0o700);
    const s = await VaultSecrets.load({ vaultIds: [`a@${pf}`, `b@${sc}`], cwd: dir });
    expect(s.labels).toEqual(['a', 'b']);
    const e1 = encryptVault('one', 'filepw', { label: 'a' });
    const e2 = encryptVault('two', 'scriptpw', { label: 'b' });
    expect(s.decrypt(e1, { file: 'f1' }).plaintext.toString()).toBe('one');
    expect(s.decrypt(e2, { file: 'f2' }).plaintext.toString()).toBe('two');
  });

  it('passes --vault-id LABEL to a *-client script, and reports its exit 2', async () => {
    const sc = file('pw-client.sh', '#!/bin/sh\n[ "$1" = --vault-id ] && [ "$2" = prod ] && { echo clientpw; exit 0; }\necho "no $2" >&2; exit 2\n', 0o700);
    const s = await VaultSecrets.load({ vaultIds: [`prod@${sc}`] });
    expect(s.decrypt(encryptVault('c', 'clientpw', { label: 'prod' }), { file: 'x' }).plaintext.toString()).toBe('c');
    const e = await caughtAsync(VaultSecrets.load({ vaultIds: [`other@${sc}`] }));
    expect(e.exitCode).toBe(VaultExit.passwordSource);
    expect(e.message).toMatch(/client script .*pw-client.sh.* has no secret for vault id 'other'/);
  });

  it('fails at once for a missing or empty source named on the command line (exit 23)', async () => {
    const missing = await caughtAsync(VaultSecrets.load({ passwordFiles: [join(dir, 'nope.txt')] }));
    expect(missing.exitCode).toBe(VaultExit.passwordSource);
    expect(missing.message).toMatch(/nope\.txt \(from --vault-password-file\) was not found/);
    const empty = await caughtAsync(VaultSecrets.load({ passwordFiles: [file('empty.txt', '\n \n')] }));
    expect(empty.message).toMatch(/empty\.txt.*is empty/);
    const bad = await caughtAsync(VaultSecrets.load({ passwordFiles: [file('fail.sh', '#!/bin/sh\nexit 3\n', 0o700)] }));
    expect(bad.message).toMatch(/fail\.sh.*exited with 3/);
  });

  it('a missing run.cfg password file only fails when a vault must be opened, naming the file', async () => {
    const proj = mkdtempSync(join(dir, 'proj-'));
    writeFileSync(join(proj, 'run.cfg'), '[defaults]\nvault_password_file = .vaultpass\n');
    const config = loadRunConfig({ configPath: join(proj, 'run.cfg'), env: {} });
    const s = await VaultSecrets.load({ config });
    expect(s.size).toBe(0);
    const e = caught(() => s.decrypt(encryptVault('x', 'pw'), { file: 'group_vars/all/vault.yml' }));
    expect(e.exitCode).toBe(VaultExit.passwordSource);
    expect(e.pos?.file).toBe('group_vars/all/vault.yml');
    expect(e.message).toContain(join(proj, '.vaultpass'));
    expect(e.message).toMatch(/run\.cfg:2 \(vault_password_file\)/);
  });

  it('names the missing source of the file’s vault id (23) even when other passwords are loaded', async () => {
    const proj = mkdtempSync(join(dir, 'proj2-'));
    writeFileSync(join(proj, 'run.cfg'), '[defaults]\nvault_password_file = .vaultpass\n');
    const config = loadRunConfig({ configPath: join(proj, 'run.cfg'), env: {} });
    const s = await VaultSecrets.load({ config, vaultIds: [`dev@${file('dev.txt', 'devpw')}`] });
    const e = caught(() => s.decrypt(encryptVault('x', 'the-default-pw'), { file: 'vault.yml' }));
    expect(e.exitCode).toBe(VaultExit.passwordSource);
    expect(e.message).toMatch(/the password for vault id 'default' .* is unavailable: the vault password file .*\.vaultpass .* was not found; none of the other passwords fits \(tried 'dev'/);
  });

  it('tries the secret whose label matches first, then the others (and still opens a mislabelled file)', async () => {
    const s = VaultSecrets.fromPasswords([
      { label: 'a', password: 'pa' },
      { label: 'b', password: 'pb' },
      { label: 'c', password: 'pc' },
    ]);
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    setVaultDebug(true);
    try {
      expect(s.decrypt(encryptVault('x', 'pc', { label: 'c' }), { file: 'f' }).secret.label).toBe('c');
      const tries = lines.filter((l) => l.includes('trying vault secret')).map((l) => /secret '(\w)'/.exec(l)![1]);
      expect(tries).toEqual(['c']);
      lines.length = 0;
      // the header says 'a' but 'b' encrypted it: a is tried first, then b opens it (labels are not authenticated)
      const r = s.decrypt(encryptVault('y', 'pb', { label: 'a' }), { file: 'g' });
      expect(r.secret.label).toBe('b');
      expect(r.fileLabel).toBe('a');
      expect(lines.filter((l) => l.includes('trying vault secret')).map((l) => /secret '(\w)'/.exec(l)![1])).toEqual(['a', 'b']);
    } finally {
      spy.mockRestore();
    }
  });

  it('distinguishes wrong password, unknown vault id, damaged file (distinct exit codes, file named)', () => {
    const s = VaultSecrets.fromPasswords([{ label: 'prod', password: 'right' }]);
    const wrong = caught(() => s.decrypt(encryptVault('v: 1\n', 'other', { label: 'prod' }), { file: 'vault.yml' }));
    expect(wrong.exitCode).toBe(VaultExit.wrongPassword);
    expect(wrong.message).toMatch(/wrong vault password for vault id 'prod'/);
    expect(wrong.pos?.file).toBe('vault.yml');

    const unknown = caught(() => s.decrypt(encryptVault('v: 1\n', 'other', { label: 'staging' }), { file: 'vault.yml' }));
    expect(unknown.exitCode).toBe(VaultExit.unknownVaultId);
    expect(unknown.message).toMatch(/encrypted for vault id 'staging', but no password for 'staging'/);
    expect(unknown.hint).toMatch(/--vault-id staging@/);

    const env = encryptVault('some_key: some longer secret text\n', 'right', { label: 'prod' });
    const lines = env.split('\n');
    lines[2] = lines[2]!.slice(0, 5) + 'z' + lines[2]!.slice(6);
    const damaged = caught(() => s.decrypt(lines.join('\n'), { file: 'vault.yml' }));
    expect(damaged.exitCode).toBe(VaultExit.corrupted);
    expect(damaged.message).toMatch(/damaged vault data: character 'z' is not a hex digit/);
    expect(damaged.pos).toEqual({ file: 'vault.yml', line: 3, col: 6 });

    expect(new Set([wrong.exitCode, unknown.exitCode, damaged.exitCode]).size).toBe(3);
  });

  it('names file:line and the variable for inline values', () => {
    const s = VaultSecrets.fromPasswords([{ password: 'right' }]);
    const e = caught(() => s.decrypt(encryptVault('x', 'nope'), { file: 'group_vars/all/vars.yml', line: 7, col: 14, name: 'db_password' }));
    expect(e.pos).toEqual({ file: 'group_vars/all/vars.yml', line: 7, col: 14 });
    expect(e.message).toMatch(/^variable 'db_password': wrong vault password for vault id 'default'/);
  });

  it('asks prompts through the injected prompt (twice for a new password)', async () => {
    const asked: string[] = [];
    const prompt = async (p: string): Promise<string> => {
      asked.push(p);
      return ' typed ';
    };
    const s = await VaultSecrets.load({ vaultIds: ['dev@prompt'], askVaultPass: true, prompt });
    expect(asked).toEqual(['Vault password (dev): ', 'Vault password: ']);
    expect(s.decrypt(encryptVault('p', 'typed'), { file: 'f' }).plaintext.toString()).toBe('p');
    asked.length = 0;
    await VaultSecrets.load({ vaultIds: ['dev@prompt'], newPassword: true, prompt });
    expect(asked).toEqual(['New vault password (dev): ', 'Confirm new vault password (dev): ']);
  });

  it('picks the encryption secret like ansible-vault, preferring command-line sources', async () => {
    const proj = mkdtempSync(join(dir, 'enc-'));
    writeFileSync(join(proj, 'run.cfg'), '[defaults]\nvault_password_file = .vaultpass\n');
    writeFileSync(join(proj, '.vaultpass'), 'cfgpw\n');
    const config = loadRunConfig({ configPath: join(proj, 'run.cfg'), env: {} });
    const a = file('a.txt', 'apw');
    const b = file('b.txt', 'bpw');
    expect((await VaultSecrets.load({ config })).encryptionSecret().path).toBe(join(proj, '.vaultpass'));
    expect((await VaultSecrets.load({ config, vaultIds: [`a@${a}`] })).encryptionSecret().label).toBe('a');
    const two = await VaultSecrets.load({ config, vaultIds: [`a@${a}`, `b@${b}`] });
    expect(caught(() => two.encryptionSecret()).message).toMatch(/vault ids a, b are available/);
    expect(two.encryptionSecret('b').label).toBe('b');
    expect(caught(() => two.encryptionSecret('zz')).exitCode).toBe(VaultExit.unknownVaultId);
  });

  it('reads a password file that is itself vaulted with an earlier secret', async () => {
    const outer = file('outer.txt', 'outerpw');
    const inner = file('inner.txt', encryptVault('innerpw\n', 'outerpw'));
    const s = await VaultSecrets.load({ vaultIds: [`o@${outer}`, `i@${inner}`] });
    expect(s.decrypt(encryptVault('z', 'innerpw', { label: 'i' }), { file: 'f' }).plaintext.toString()).toBe('z');
  });

  it('never shows a password when printed or serialised', async () => {
    const s = await VaultSecrets.load({ passwordFiles: [file('p.txt', 'SuperSecretPw1')] });
    const secret = s.encryptionSecret();
    const { inspect } = await import('node:util');
    for (const shown of [String(secret), JSON.stringify(secret), inspect(secret), inspect(s, { depth: 5 }), JSON.stringify(s), s.describe().join()]) {
      expect(shown).not.toContain('SuperSecretPw1');
    }
  });
});
