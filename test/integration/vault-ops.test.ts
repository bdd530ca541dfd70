/**
 * Vault operations through the CLI: distinct errors and exit codes, `vault get` paths, `vault edit` hygiene
 * (private 0600 file under /dev/shm, wiped after success, failure and SIGTERM; nothing else written),
 * rekey without plaintext on disk, encrypt-string inputs.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptVault } from '../../src/vault/codec.js';
import { VaultExit } from '../../src/vault/errors.js';
import { formatInlineVault } from '../../src/vault/inline.js';
import {
  ansibleDecrypt,
  cleanEnv,
  cli,
  flipCiphertextByte,
  hasAnsible,
  hasPython,
  hasStrace,
  makeProject,
  PlaintextWatcher,
  runCli,
  runCliPty,
  runCliTraced,
  type Project,
} from '../vault/support.js';

const PW = 'Ops-Vault-Pass-1';
const SECRET = 'Ops-Secret-Value-77';
const DOC = `top_secret: '${SECRET}'\nlist:\n  - name: a\n    pw: 'List-Pw-A1'\n  - name: b\n    pw: 'List-Pw-B2'\nnested:\n  k: v\n`;

let p: Project;
let tools: string; // editor scripts live outside the project (they contain the markers the watchers look for)
beforeAll(() => {
  cli();
  tools = mkdtempSync(join(tmpdir(), 'vault-ops-tools-'));
  p = makeProject('vault-ops-');
  writeFileSync(p.passFile, `${PW}\n`, { mode: 0o400 });
  writeFileSync(p.vaultFile, encryptVault(DOC, PW), { mode: 0o600 });
});
afterAll(() => {
  p.cleanup();
  rmSync(tools, { recursive: true, force: true });
});

function fileIn(name: string, content: string): string {
  const f = join(p.dir, name);
  writeFileSync(f, content, { mode: 0o600 });
  return f;
}

describe('vault errors: distinct messages and exit codes, naming the file and vault id', () => {
  it('wrong password (20)', async () => {
    const f = fileIn('wrong.yml', encryptVault(DOC, 'another password'));
    const r = await runCli(['vault', 'view', f], { cwd: p.dir });
    expect(r.code).toBe(VaultExit.wrongPassword);
    expect(r.stderr).toContain(`ERROR: ${f}: wrong vault password for vault id 'default'`);
    expect(r.stderr).toContain(join(p.dir, '.vaultpass'));
    expect(r.stdout).toBe('');
  });

  it('a flipped ciphertext byte (21): the password fits, the file was altered', async () => {
    const f = fileIn('flipped.yml', flipCiphertextByte(encryptVault(DOC, PW), 10, 0x21));
    const r = await runCli(['vault', 'view', f], { cwd: p.dir });
    expect(r.code).toBe(VaultExit.corrupted);
    expect(r.stderr).toContain(`ERROR: ${f}: damaged vault data (vault id 'default'`);
    expect(r.stderr).toMatch(/the password is right and the file was altered after it was encrypted/);
    expect(r.stderr).not.toContain(SECRET);
  });

  it('a damaged character (21) with line and column', async () => {
    const lines = encryptVault(DOC, PW).split('\n');
    lines[4] = lines[4]!.slice(0, 20) + '!' + lines[4]!.slice(21);
    const f = fileIn('damaged.yml', lines.join('\n'));
    const r = await runCli(['vault', 'view', f], { cwd: p.dir });
    expect(r.code).toBe(VaultExit.corrupted);
    expect(r.stderr).toContain(`ERROR: ${f}:5:21: damaged vault data: character '!' is not a hex digit`);
  });

  it('unknown vault id (22)', async () => {
    const f = fileIn('unknown.yml', encryptVault(DOC, 'prod password', { label: 'prod' }));
    const r = await runCli(['vault', 'view', f], { cwd: p.dir });
    expect(r.code).toBe(VaultExit.unknownVaultId);
    expect(r.stderr).toContain(`ERROR: ${f}: encrypted for vault id 'prod', but no password for 'prod' was given`);
    expect(r.stderr).toMatch(/hint: pass --vault-id prod@FILE/);
  });

  it('missing password file (23)', async () => {
    const q = makeProject('vault-ops-nopass-');
    try {
      writeFileSync(q.vaultFile, encryptVault(DOC, PW));
      const r = await runCli(['vault', 'view', q.vaultFile], { cwd: q.dir });
      expect(r.code).toBe(VaultExit.passwordSource);
      expect(r.stderr).toContain(`the vault password file ${q.passFile}`);
      expect(r.stderr).toMatch(/was not found/);
      const r2 = await runCli(['vault', 'view', q.vaultFile, '--vault-password-file', join(q.dir, 'nope')], { cwd: q.dir });
      expect(r2.code).toBe(VaultExit.passwordSource);
      expect(r2.stderr).toMatch(/nope \(from --vault-password-file\) was not found/);
    } finally {
      q.cleanup();
    }
  });

  it('not encrypted (24)', async () => {
    const f = fileIn('plain.yml', 'a: 1\n');
    const r = await runCli(['vault', 'view', f], { cwd: p.dir });
    expect(r.code).toBe(VaultExit.notVault);
    expect(r.stderr).toContain(`ERROR: ${f}: not vault-encrypted`);
  });
});

describe('password sources on the command line', () => {
  it.skipIf(!hasPython)('--ask-vault-pass and --vault-id LABEL@prompt ask on the terminal without echo', async () => {
    const f = fileIn('ask.yml', encryptVault(DOC, 'Typed-Vault-Pw-8', { label: 'dev' }));
    const r = await runCliPty(['vault', 'view', f, '--ask-vault-pass'], [{ expect: 'Vault password: ', send: 'Typed-Vault-Pw-8\r' }], { cwd: p.dir });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain(SECRET);
    expect(r.stdout).not.toContain('Typed-Vault-Pw-8');
    const r2 = await runCliPty(['vault', 'get', '/top_secret', '--file', f, '--vault-id', 'dev@prompt'], [{ expect: 'Vault password \\(dev\\): ', send: 'Typed-Vault-Pw-8\r' }], {
      cwd: p.dir,
    });
    expect(r2.code, r2.stdout).toBe(0);
    expect(r2.stdout).toMatch(new RegExp(`${SECRET}\\r?\\n$`));
  });

  it('an executable password file is run and its stdout used', async () => {
    const f = fileIn('script.yml', encryptVault(DOC, 'From-Script-Pw-9'));
    const script = join(tools, 'pass.sh');
    writeFileSync(script, '#!/bin/sh\nprintf "From-Script-Pw-9\\n"\n');
    chmodSync(script, 0o700);
    const r = await runCli(['vault', 'get', '/top_secret', '--file', f, '--vault-password-file', script], { cwd: p.dir });
    expect(r).toMatchObject({ code: 0, stdout: `${SECRET}\n` });
  });
});

describe('vault get', () => {
  const get = (path: string, extra: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    runCli(['vault', 'get', path, ...extra], { cwd: p.dir });

  it('reads one value from the default vault file without writing anything', async () => {
    const before = statSync(p.vaultFile).mtimeMs;
    expect(await get('/top_secret')).toMatchObject({ code: 0, stdout: `${SECRET}\n` });
    expect((await get('/list/1/pw')).stdout).toBe('List-Pw-B2\n');
    expect((await get('/list/name=a/pw')).stdout).toBe('List-Pw-A1\n');
    expect((await get('/list/-1/name')).stdout).toBe('b\n');
    expect((await get('/nested')).stdout).toBe('k: v\n');
    expect(statSync(p.vaultFile).mtimeMs).toBe(before);
  });

  it('optional paths: missing → empty output, exit 0; required → exit 25 naming what exists', async () => {
    expect(await get('/nothing?')).toMatchObject({ code: 0, stdout: '' });
    expect(await get('/nested/k2?/deeper')).toMatchObject({ code: 0, stdout: '' });
    const r = await get('/nothing');
    expect(r.code).toBe(VaultExit.pathNotFound);
    expect(r.stderr).toContain("expected to find a map key 'nothing' (found map keys: 'top_secret', 'list', 'nested') for path '/nothing'");
    expect(r.stderr).not.toContain(SECRET);
    expect((await get('/list/7')).code).toBe(VaultExit.pathNotFound);
    expect((await get('no-slash')).code).toBe(5);
  });

  it('decrypts an inline !vault value in a plaintext vars file', async () => {
    const f = fileIn('vars.yml', `plain: 1\n${formatInlineVault(encryptVault('Inline-Get-5', PW), 'inline_pw')}\n`);
    expect((await get('/inline_pw', ['--file', f])).stdout).toBe('Inline-Get-5\n');
    expect((await get('/plain', ['--file', f])).stdout).toBe('1\n');
  });
});

/** An editor script: records its file's path and modes into `log`, then runs `action` on the file. */
function editorScript(name: string, action: string): { script: string; log: string } {
  const script = join(tools, `${name}.sh`);
  const log = join(tools, `${name}.log`);
  writeFileSync(
    script,
    `#!/bin/sh\nf="$1"\nd=$(dirname "$f")\necho "$f $(stat -c %a "$f") $(stat -c %a "$d")" > '${log}'\n${action}\n`,
  );
  chmodSync(script, 0o755);
  return { script, log };
}

describe('vault edit', () => {
  it('edits through a private 0600 file under /dev/shm, keeps the vault id, wipes it, writes no other plaintext', async () => {
    const f = fileIn('edit-me.yml', encryptVault(DOC, PW, { label: 'site-a' }));
    const idFlag = ['--vault-id', `site-a@${p.passFile}`];
    const { script, log } = editorScript('ed-change', `sed -i "s/${SECRET}/Changed-Value-88/" "$f"`);
    const watcher = new PlaintextWatcher([SECRET, 'Changed-Value-88', 'List-Pw-A1'], (path) => path.startsWith('/dev/shm/run-vault-edit-'));
    watcher.watch(p.dir).watch('/dev/shm');
    const r = hasStrace
      ? await runCliTraced(['vault', 'edit', f, ...idFlag], { cwd: p.dir, env: { EDITOR: script } })
      : { ...(await runCli(['vault', 'edit', f, ...idFlag], { cwd: p.dir, env: { EDITOR: script } })), writes: [] };
    watcher.close([p.dir]);
    expect(r.code, r.stderr).toBe(0);
    const [tmpPath, fileMode, dirMode] = readFileSync(log, 'utf8').trim().split(' ');
    expect(tmpPath).toMatch(/^\/dev\/shm\/run-vault-edit-[^/]+\/edit-me\.yml$/);
    expect([fileMode, dirMode]).toEqual(['600', '700']);
    expect(existsSync(tmpPath!)).toBe(false);
    expect(existsSync(join(tmpPath!, '..'))).toBe(false);
    expect(watcher.hits).toEqual([]);
    const privateDir = join(tmpPath!, '..');
    for (const w of r.writes) {
      if (w.path.startsWith(`${privateDir}/`)) continue; // the editor's own file (and sed's temp) in the private dir
      for (const m of [SECRET, 'Changed-Value-88', 'List-Pw-A1']) expect(w.data.includes(m), `${m} written to ${w.path}`).toBe(false);
    }
    if (hasStrace) expect(r.writes.some((w) => w.path.startsWith(`${privateDir}/`))).toBe(true);
    // re-encrypted with the same vault id and password; real ansible-vault reads the change
    expect(readFileSync(f, 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;site-a');
    expect(statSync(f).mode & 0o777).toBe(0o600);
    if (hasAnsible) expect(ansibleDecrypt(f, p.passFile, p.dir, 'site-a').stdout).toBe(DOC.replace(SECRET, 'Changed-Value-88'));
  });

  it('does not rewrite the file when nothing changed', async () => {
    const f = fileIn('untouched.yml', encryptVault(DOC, PW));
    const before = readFileSync(f, 'utf8');
    const ino = statSync(f).ino;
    const { script } = editorScript('ed-noop', 'true');
    const r = await runCli(['vault', 'edit', f], { cwd: p.dir, env: { EDITOR: script } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no changes/);
    expect(readFileSync(f, 'utf8')).toBe(before);
    expect(statSync(f).ino).toBe(ino);
  });

  it('wipes the copy and keeps the file when the editor fails', async () => {
    const f = fileIn('fail.yml', encryptVault(DOC, PW));
    const before = readFileSync(f, 'utf8');
    const { script, log } = editorScript('ed-fail', `sed -i "s/${SECRET}/X/" "$f"; exit 3`);
    const r = await runCli(['vault', 'edit', f], { cwd: p.dir, env: { EDITOR: script } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/exited with 3: the vault file is unchanged/);
    expect(readFileSync(f, 'utf8')).toBe(before);
    const tmpPath = readFileSync(log, 'utf8').split(' ')[0]!;
    expect(existsSync(join(tmpPath, '..'))).toBe(false);
  });

  it('wipes the copy on SIGTERM while the editor runs (exit 99)', async () => {
    const f = fileIn('killed.yml', encryptVault(DOC, PW));
    const before = readFileSync(f, 'utf8');
    const { script, log } = editorScript('ed-hang', 'sleep 30');
    const [cmd, ...pre] = cli();
    const child = spawn(cmd!, [...pre, 'vault', 'edit', f], { cwd: p.dir, env: cleanEnv({ EDITOR: script }), stdio: 'ignore' });
    const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    const deadline = Date.now() + 20_000;
    while (!existsSync(log) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    const tmpPath = readFileSync(log, 'utf8').split(' ')[0]!;
    expect(existsSync(tmpPath)).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(99);
    expect(existsSync(join(tmpPath, '..'))).toBe(false);
    expect(readFileSync(f, 'utf8')).toBe(before);
  });
});

describe('vault rekey / encrypt / decrypt / encrypt-string', () => {
  it('rekey writes no plaintext and replaces the file atomically (new inode, mode 0600)', async () => {
    const f = fileIn('rekey.yml', encryptVault(DOC, PW));
    const newPw = fileIn('new.pass', 'Brand-New-Pass-3\n');
    const ino = statSync(f).ino;
    const r = hasStrace
      ? await runCliTraced(['vault', 'rekey', f, '--new-vault-password-file', newPw], { cwd: p.dir })
      : { ...(await runCli(['vault', 'rekey', f, '--new-vault-password-file', newPw], { cwd: p.dir })), writes: [] };
    expect(r.code, r.stderr).toBe(0);
    for (const w of r.writes) for (const m of [SECRET, 'List-Pw-A1']) expect(w.data.includes(m), `${m} written to ${w.path}`).toBe(false);
    expect(statSync(f).ino).not.toBe(ino);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    const viewNew = await runCli(['vault', 'view', f, '--vault-password-file', newPw], { cwd: p.dir });
    expect(viewNew.stdout).toBe(DOC);
  });

  it.skipIf(!hasPython)('rekey asks for the new password twice on the terminal when no file is given', async () => {
    const f = fileIn('rekey-prompt.yml', encryptVault(DOC, PW));
    const r = await runCliPty(
      ['vault', 'rekey', f],
      [
        { expect: 'New Vault password: ', send: 'Typed-New-Pw-4\r' },
        { expect: 'Confirm New Vault password: ', send: 'Typed-New-Pw-4\r' },
      ],
      { cwd: p.dir },
    );
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).not.toContain('Typed-New-Pw-4');
    const pf = fileIn('typed.pass', 'Typed-New-Pw-4');
    expect((await runCli(['vault', 'view', f, '--vault-password-file', pf], { cwd: p.dir })).stdout).toBe(DOC);
  });

  it('encrypt refuses an encrypted file (24); decrypt in place writes 0600 plaintext', async () => {
    const f = fileIn('twice.yml', encryptVault(DOC, PW));
    const r = await runCli(['vault', 'encrypt', f], { cwd: p.dir });
    expect(r.code).toBe(VaultExit.notVault);
    expect(r.stderr).toMatch(/already vault-encrypted/);
    const d = await runCli(['vault', 'decrypt', f], { cwd: p.dir });
    expect(d.code, d.stderr).toBe(0);
    expect(readFileSync(f, 'utf8')).toBe(DOC);
    expect(statSync(f).mode & 0o777).toBe(0o600);
  });

  it.skipIf(!hasPython)('encrypt-string: hidden prompt (asked twice), never from argv unless --unsafe-value (which warns)', async () => {
    const r = await runCliPty(
      ['vault', 'encrypt-string', '--name', 'api_key'],
      [
        { expect: 'String to encrypt \\(hidden\\): ', send: 'Prompted-Value-6\r' },
        { expect: 'String to encrypt \\(again\\): ', send: 'Prompted-Value-6\r' },
      ],
      { cwd: p.dir },
    );
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).not.toContain('Prompted-Value-6');
    const block = r.stdout.slice(r.stdout.indexOf('api_key: !vault |')).split(/\r?\n/).filter((l) => /^(api_key|\s{10}\S)/.test(l)).join('\n');
    const f = fileIn('prompted.yml', `${block}\n`);
    expect((await runCli(['vault', 'get', '/api_key', '--file', f], { cwd: p.dir })).stdout).toBe('Prompted-Value-6\n');

    const pos = await runCli(['vault', 'encrypt-string', 'Argv-Secret-5'], { cwd: p.dir });
    expect(pos.code).toBe(5);
    expect(pos.stderr).not.toContain('Argv-Secret-5');
    const unsafe = await runCli(['vault', 'encrypt-string', '--unsafe-value', 'Argv-Secret-5'], { cwd: p.dir });
    expect(unsafe.code).toBe(0);
    expect(unsafe.stderr).toMatch(/WARNING: --unsafe-value puts the secret on the command line/);
    expect(unsafe.stdout + unsafe.stderr).not.toContain('Argv-Secret-5');
  });
});
