/**
 * `./run vault`: the create flow. Checks the generated secrets with the real ansible-vault and PyYAML,
 * the refusal, the non-interactive inputs, the terminal prompts (no echo), that no plaintext reaches any file
 * (fs.watch + strace of every write), and that a failed write leaves no half state.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GENERATED_KEYS } from '../../src/vault/create.js';
import {
  ansibleDecrypt,
  cli,
  hasAnsible,
  hasStrace,
  listFiles,
  makeProject,
  PlaintextWatcher,
  PYTHON,
  runCli,
  runCliPty,
  runCliTraced,
  type Project,
} from '../vault/support.js';

const USER_PW = 'User-Pw-Create-1';
const ADMIN_PW = 'Admin-Pw-Create-2';
const env = { RUN_VAULT_USER_PASSWORD: USER_PW, RUN_VAULT_ADMIN_PASSWORD: ADMIN_PW };

let projects: Project[] = [];
function project(): Project {
  const p = makeProject('vault-create-');
  projects.push(p);
  return p;
}
afterEach(() => {
  for (const p of projects) p.cleanup();
  projects = [];
});
beforeAll(() => {
  cli();
});

/** Decrypt with real ansible-vault and load with PyYAML (what Ansible itself will read). */
function readWithAnsible(p: Project): Record<string, string> {
  const v = ansibleDecrypt(p.vaultFile, p.passFile, p.dir);
  expect(v.code, v.stderr).toBe(0);
  const json = execFileSync(PYTHON, ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: v.stdout, encoding: 'utf8' });
  return JSON.parse(json) as Record<string, string>;
}

describe.skipIf(!hasAnsible)('./run vault (create)', () => {
  it('generates every named secret with the right shape (checked with ansible-vault + PyYAML)', async () => {
    const p = project();
    const r = await runCli(['vault'], { cwd: p.dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(p.vaultFile).mode & 0o777).toBe(0o600);
    expect(statSync(p.passFile).mode & 0o777).toBe(0o400);
    expect(readFileSync(p.passFile, 'utf8')).toMatch(/^[A-Za-z0-9]{32}\n$/);
    expect(readFileSync(p.vaultFile, 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.1;AES256');

    const s = readWithAnsible(p);
    const all = Object.values(GENERATED_KEYS).flat();
    expect(Object.keys(s).sort()).toEqual([...all].sort());
    expect([s.vault_ssh_password, s.vault_sudo_password]).toEqual([USER_PW, USER_PW]);
    expect(s.vault_openstack_admin_password).toBe(ADMIN_PW);
    for (const k of GENERATED_KEYS.random12) expect(s[k], k).toMatch(/^[A-Za-z0-9]{12}$/);
    expect(new Set(GENERATED_KEYS.random12.map((k) => s[k])).size).toBe(GENERATED_KEYS.random12.length);
    expect(s.vault_barbican_kek).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(s.vault_ceph_secret_uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // PowerFlex: separate random secrets (not the admin password), every character class present
    for (const k of GENERATED_KEYS.powerflex) {
      expect(s[k], k).toMatch(/^(?=.*[A-Z])(?=.*[a-z])(?=.*[0-9])[A-Za-z0-9]{12}$/);
      expect(s[k]).not.toBe(ADMIN_PW);
    }
    expect(s.vault_pfx_admin_password).not.toBe(s.vault_pfx_lia_token);
    // the SSH key pair: OpenSSH formats; ssh-keygen derives the same public key from the private one
    expect(s.vault_nova_ssh_public_key).toMatch(/^ssh-rsa AAAAB3NzaC1yc2E[A-Za-z0-9+/=]+ nova-ssh-public-key$/);
    expect(s.vault_nova_ssh_private_key).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END OPENSSH PRIVATE KEY-----\n$/);
    const keyFile = join(p.dir, 'check_key');
    writeFileSync(keyFile, s.vault_nova_ssh_private_key!, { mode: 0o600 });
    const derived = execFileSync('ssh-keygen', ['-y', '-f', keyFile], { encoding: 'utf8' }).trim();
    expect(`${derived.split(' ').slice(0, 2).join(' ')} nova-ssh-public-key`).toBe(s.vault_nova_ssh_public_key);
    expect(execFileSync('ssh-keygen', ['-l', '-f', keyFile], { encoding: 'utf8' })).toMatch(/^3072 SHA256:\S+ nova-ssh-public-key \(RSA\)/);

    // nothing secret on stdout: key names only
    const shown = r.stdout + r.stderr;
    for (const [k, v] of Object.entries(s)) expect(shown.includes(v.includes('\n') ? v.split('\n')[1]! : v), k).toBe(false);
  });

  it('refuses when .vaultpass exists, naming it, and changes nothing', async () => {
    const p = project();
    writeFileSync(p.passFile, 'old\n', { mode: 0o400 });
    writeFileSync(p.vaultFile, 'old vault\n');
    const r = await runCli(['vault'], { cwd: p.dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ERROR: ${p.passFile}: the vault password file already exists: remove it first`);
    expect(readFileSync(p.vaultFile, 'utf8')).toBe('old vault\n');
    expect(readFileSync(p.passFile, 'utf8')).toBe('old\n');
  });

  it('reads the two passwords from stdin lines (automation) and rejects too few lines', async () => {
    const p = project();
    const r = await runCli(['vault'], { cwd: p.dir, input: `${USER_PW}\n${ADMIN_PW}\n` });
    expect(r.code, r.stderr).toBe(0);
    const s = readWithAnsible(p);
    expect([s.vault_ssh_password, s.vault_openstack_admin_password]).toEqual([USER_PW, ADMIN_PW]);

    const q = project();
    const bad = await runCli(['vault'], { cwd: q.dir, input: `${USER_PW}\n` });
    expect(bad.code).toBe(5);
    expect(bad.stderr).toMatch(/not enough lines on stdin/);
    expect(readdirSync(q.dir).sort()).toEqual(['group_vars', 'run.cfg']);
    expect(readdirSync(join(q.dir, 'group_vars', 'all'))).toEqual([]);
  });

  it('asks on the terminal without echo, twice each, and retries on a mismatch', async () => {
    const p = project();
    const r = await runCliPty(
      ['vault', '--user', 'clex'],
      [
        { expect: 'clex password: ', send: `${USER_PW}\r` },
        { expect: 'clex password \\(again\\): ', send: `${USER_PW}\r` },
        { expect: 'openstack admin password: ', send: `${ADMIN_PW}\r` },
        { expect: 'openstack admin password \\(again\\): ', send: 'typo\r' },
        { expect: 'do not match, try again', send: '' },
        { expect: 'openstack admin password: ', send: `${ADMIN_PW}\r` },
        { expect: 'openstack admin password \\(again\\): ', send: `${ADMIN_PW}\r` },
      ],
      { cwd: p.dir },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toContain(USER_PW);
    expect(r.stdout).not.toContain(ADMIN_PW);
    expect(r.stdout).not.toContain('typo');
    const s = readWithAnsible(p);
    expect([s.vault_ssh_password, s.vault_openstack_admin_password]).toEqual([USER_PW, ADMIN_PW]);
  });

  it('never writes plaintext to any file (fs.watch on the project, strace of every write)', async () => {
    const p = project();
    const markers = [USER_PW, ADMIN_PW, 'vault_mariadb_root_password', 'OPENSSH PRIVATE KEY', 'ssh-rsa '];
    const watcher = new PlaintextWatcher(markers).watch(p.dir);
    const r = hasStrace ? await runCliTraced(['vault'], { cwd: p.dir, env }) : { ...(await runCli(['vault'], { cwd: p.dir, env })), writes: [] };
    watcher.close([p.dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(watcher.hits).toEqual([]);
    expect(watcher.seen.size).toBeGreaterThan(0); // the watcher did see the files being created
    if (hasStrace) {
      const toFiles = r.writes.filter((w) => w.path.startsWith(p.dir));
      expect(toFiles.length).toBeGreaterThanOrEqual(2); // vault.yml temp + .vaultpass temp (+ audit log)
      for (const w of r.writes) for (const m of markers) expect(w.data.includes(m), `${m.slice(0, 6)}… written to ${w.path}`).toBe(false);
    }
    // what is on disk afterwards: ciphertext, the password file, the audit log; no temp files
    expect(listFiles(p.dir).map((f) => f.slice(p.dir.length)).sort()).toEqual(['/.vaultpass', '/group_vars/all/vault.yml', '/logs/vault.log', '/run.cfg']);
  });

  it('leaves no half state when vault.yml cannot be written', async () => {
    const p = project();
    mkdirSync(join(p.vaultFile, 'blocker'), { recursive: true }); // vault.yml is a non-empty directory: rename fails
    const r = await runCli(['vault'], { cwd: p.dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot write the vault/);
    expect(r.stderr).toMatch(/nothing was changed/);
    expect(listFiles(p.dir).map((f) => f.slice(p.dir.length)).sort()).toEqual(['/run.cfg']);
    expect(spawnSync('ls', ['-A', join(p.dir, 'group_vars', 'all')], { encoding: 'utf8' }).stdout.trim()).toBe('vault.yml');
    // and a second attempt after fixing it works (no stale .vaultpass blocks it)
    spawnSync('rm', ['-rf', p.vaultFile]);
    const again = await runCli(['vault'], { cwd: p.dir, env });
    expect(again.code, again.stderr).toBe(0);
  });
});
