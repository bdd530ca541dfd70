/**
 * Interop with the real ansible-vault / ansible (Debian ansible-core 2.14): files, inline values and rekey,
 * in both directions, for format 1.1 and 1.2 (labelled vault ids).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ansible, ansibleVault, cli, hasAnsible, makeProject, runCli, type Project } from '../vault/support.js';

const PLAIN = "db_password: 'Interop-Secret-1'\nlist:\n  - üñí-çødé ✓\n  - 'quote''s'\n";

describe.skipIf(!hasAnsible)('vault interop with ansible-vault 2.14', () => {
  let p: Project;
  let pw: string;
  let pw2: string;
  beforeAll(() => {
    cli(); // build once before the timed tests
    p = makeProject('vault-interop-');
    pw = join(p.dir, 'pw.txt');
    pw2 = join(p.dir, 'pw2.txt');
    writeFileSync(pw, 'first-password\n');
    writeFileSync(pw2, 'second-password\n');
  });
  afterAll(() => p.cleanup());

  for (const label of [undefined, 'site-a']) {
    const ver = label ? '1.2' : '1.1';
    const id = (f: string): string[] => (label ? ['--vault-id', `${label}@${f}`] : ['--vault-password-file', f]);
    const header = label ? `$ANSIBLE_VAULT;1.2;AES256;${label}` : '$ANSIBLE_VAULT;1.1;AES256';

    it(`format ${ver}: a file we encrypt opens with ansible-vault`, async () => {
      const f = join(p.dir, `ours-${ver}.yml`);
      writeFileSync(f, PLAIN);
      const r = await runCli(['vault', 'encrypt', f, ...id(pw)], { cwd: p.dir });
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(f, 'utf8').split('\n')[0]).toBe(header);
      const v = ansibleVault(['view', ...id(pw), f], { cwd: p.dir });
      expect(v.code, v.stderr).toBe(0);
      expect(v.stdout).toBe(PLAIN);
    });

    it(`format ${ver}: a file ansible-vault encrypts opens with ours (view, decrypt --output -)`, async () => {
      const f = join(p.dir, `theirs-${ver}.yml`);
      writeFileSync(f, PLAIN);
      const e = ansibleVault(['encrypt', ...id(pw), f], { cwd: p.dir });
      expect(e.code, e.stderr).toBe(0);
      expect(readFileSync(f, 'utf8').split('\n')[0]).toBe(header);
      const v = await runCli(['vault', 'view', f, ...id(pw)], { cwd: p.dir });
      expect(v.code, v.stderr).toBe(0);
      expect(v.stdout).toBe(PLAIN);
      const d = await runCli(['vault', 'decrypt', '--output', '-', f, ...id(pw)], { cwd: p.dir });
      expect(d.stdout).toBe(PLAIN);
      expect(readFileSync(f, 'utf8').startsWith('$ANSIBLE_VAULT')).toBe(true); // --output - leaves the file alone
    });

    it(`format ${ver}: our encrypt-string block reads in ansible (debug var)`, async () => {
      const r = await runCli(['vault', 'encrypt-string', '--name', 'x', ...id(pw)], { cwd: p.dir, input: 'Inline-Ours-9 with spaces\n' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.startsWith(`x: !vault |\n${' '.repeat(10)}${header}\n`)).toBe(true);
      const vars = join(p.dir, `inline-ours-${ver}.yml`);
      writeFileSync(vars, r.stdout);
      const a = ansible(['localhost', '-m', 'debug', '-a', 'var=x', '-e', `@${vars}`, ...id(pw)], { cwd: p.dir });
      expect(a.code, a.stdout + a.stderr).toBe(0);
      expect(a.stdout).toContain('"x": "Inline-Ours-9 with spaces"');
    });

    it(`format ${ver}: ansible-vault encrypt_string output reads in ours (vault get)`, async () => {
      const e = ansibleVault(['encrypt_string', ...id(pw), '--stdin-name', 'secret_y'], { cwd: p.dir, input: 'Inline-Theirs-7' });
      expect(e.code, e.stderr).toBe(0);
      const vars = join(p.dir, `inline-theirs-${ver}.yml`);
      writeFileSync(vars, `other: plain\n${e.stdout}\n`);
      const g = await runCli(['vault', 'get', '/secret_y', '--file', vars, ...id(pw)], { cwd: p.dir });
      expect(g.code, g.stderr).toBe(0);
      expect(g.stdout).toBe('Inline-Theirs-7\n');
    });

    it(`format ${ver}: rekey output decrypts with the new password only`, async () => {
      const f = join(p.dir, `rekey-${ver}.yml`);
      writeFileSync(f, PLAIN);
      expect(ansibleVault(['encrypt', ...id(pw), f], { cwd: p.dir }).code).toBe(0);
      const newFlag = label ? ['--new-vault-id', `${label}@${pw2}`] : ['--new-vault-password-file', pw2];
      const r = await runCli(['vault', 'rekey', f, ...id(pw), ...newFlag], { cwd: p.dir });
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(f, 'utf8').split('\n')[0]).toBe(header); // the vault id is kept
      const withNew = ansibleVault(['view', ...id(pw2), f], { cwd: p.dir });
      expect(withNew.code, withNew.stderr).toBe(0);
      expect(withNew.stdout).toBe(PLAIN);
      const withOld = ansibleVault(['view', ...id(pw), f], { cwd: p.dir });
      expect(withOld.code).not.toBe(0);
      expect(withOld.stderr).toMatch(/Decryption failed/);
    });
  }

  it('ansible 2.14 itself tries secrets in list order, not label first (why docs/vault.md says so)', () => {
    const f = join(p.dir, 'order.yml');
    writeFileSync(f, 'a: 1\n');
    expect(ansibleVault(['encrypt', '--vault-id', `second@${pw2}`, f], { cwd: p.dir }).code).toBe(0);
    const v = ansibleVault(['view', '-vvvvv', '--vault-id', `first@${pw}`, '--vault-id', `second@${pw2}`, f], { cwd: p.dir });
    const tries = [...v.stdout.matchAll(/Trying to use vault secret=\(.*?\) id=(\w+)/g)].map((m) => m[1]);
    expect(tries).toEqual(['first', 'second']);
  });
});
