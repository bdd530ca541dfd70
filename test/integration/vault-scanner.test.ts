/**
 * Secret scanner: every vault command, with debug output on (RUN_DEBUG=1 and --debug), including failing
 * ones. No secret may appear in any stderr, in any stdout except the one a command exists to print (view,
 * get, decrypt --output -: exactly the requested plaintext and nothing else), or in any file under the log
 * directory.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { encryptVault } from '../../src/vault/codec.js';
import { ansibleDecrypt, cli, flipCiphertextByte, hasAnsible, listFiles, makeProject, runCli, type Project, type RunResult } from '../vault/support.js';

const USER_PW = 'Scan-User-Pw-31';
const ADMIN_PW = 'Scan-Admin-Pw-32';
const NEW_VAULT_PW = 'Scan-New-Vault-Pw-33';
const STRING_VALUE = 'Scan-Encrypt-String-34';
const EDITED_VALUE = 'Scan-Edited-Value-35';
const PLAIN_FILE_SECRET = 'Scan-Plain-File-36';
const BROKEN_YAML_SECRET = 'Scan-Broken-Yaml-37';

let p: Project;
let tools: string;
const runs: { name: string; r: RunResult; intendedStdout?: string }[] = [];
let secrets: string[] = [];

/** Every secret string, plus each long line of multi-line ones (a private key printed line by line). */
function probes(values: string[]): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (!v.includes('\n')) out.add(v);
    else for (const l of v.split('\n')) if (l.length >= 20 && !l.startsWith('-----')) out.add(l);
  }
  return [...out];
}

const debugEnv = { RUN_DEBUG: '1' };
async function run(name: string, args: string[], opts: { input?: string; env?: Record<string, string>; intendedStdout?: string } = {}): Promise<RunResult> {
  const r = await runCli([...args, '--debug'], { cwd: p.dir, input: opts.input, env: { ...debugEnv, ...opts.env } });
  runs.push({ name, r, intendedStdout: opts.intendedStdout });
  return r;
}

describe.skipIf(!hasAnsible)('secret scanner over every vault command (debug on)', () => {
  beforeAll(async () => {
    cli();
    p = makeProject('vault-scan-');
    tools = mkdtempSync(join(tmpdir(), 'vault-scan-tools-'));

    const created = await run('vault (create)', ['vault'], { env: { RUN_VAULT_USER_PASSWORD: USER_PW, RUN_VAULT_ADMIN_PASSWORD: ADMIN_PW } });
    expect(created.code, created.stderr).toBe(0);
    const vaultPw = readFileSync(p.passFile, 'utf8').trim();
    const plain = ansibleDecrypt(p.vaultFile, p.passFile, p.dir).stdout;
    const generated = parseYaml(plain) as Record<string, string>;
    secrets = probes([vaultPw, USER_PW, ADMIN_PW, NEW_VAULT_PW, STRING_VALUE, EDITED_VALUE, PLAIN_FILE_SECRET, BROKEN_YAML_SECRET, ...Object.values(generated)]);
    expect(secrets.length).toBeGreaterThan(25);

    await run('view', ['vault', 'view', p.vaultFile], { intendedStdout: plain });
    await run('get', ['vault', 'get', '/vault_keystone_password'], { intendedStdout: `${generated.vault_keystone_password}\n` });
    await run('get private key', ['vault', 'get', '/vault_nova_ssh_private_key'], { intendedStdout: `${generated.vault_nova_ssh_private_key}\n` });
    await run('get missing', ['vault', 'get', '/not_there']);
    await run('get optional', ['vault', 'get', '/not_there?']);
    await run('decrypt --output -', ['vault', 'decrypt', '--output', '-', p.vaultFile], { intendedStdout: plain });

    const editor = join(tools, 'editor.sh');
    writeFileSync(editor, `#!/bin/sh\nsed -i "s/^vault_horizon_password: .*/vault_horizon_password: '${EDITED_VALUE}'/" "$1"\n`);
    chmodSync(editor, 0o755);
    const edited = await run('edit', ['vault', 'edit', p.vaultFile], { env: { EDITOR: editor } });
    expect(edited.code, edited.stderr).toBe(0);

    const plainFile = join(p.dir, 'extra.yml');
    writeFileSync(plainFile, `extra_secret: '${PLAIN_FILE_SECRET}'\n`);
    expect((await run('encrypt', ['vault', 'encrypt', plainFile])).code).toBe(0);

    const s = await run('encrypt-string', ['vault', 'encrypt-string', '--name', 'x'], { input: STRING_VALUE });
    expect(s.code).toBe(0);

    const broken = join(p.dir, 'broken.yml');
    writeFileSync(broken, encryptVault(`key: '${BROKEN_YAML_SECRET}'\n  bad: [\n`, vaultPw));
    await run('get on broken yaml', ['vault', 'get', '/key', '--file', broken]);

    const wrong = join(p.dir, 'wrong.yml');
    writeFileSync(wrong, encryptVault(`k: '${PLAIN_FILE_SECRET}'\n`, 'not the password'));
    await run('view wrong password', ['vault', 'view', wrong]);

    const flipped = join(p.dir, 'flipped.yml');
    writeFileSync(flipped, flipCiphertextByte(readFileSync(p.vaultFile, 'utf8'), 3, 1));
    await run('view flipped byte', ['vault', 'view', flipped]);

    const newPass = join(tools, 'new.pass');
    writeFileSync(newPass, `${NEW_VAULT_PW}\n`);
    expect((await run('rekey', ['vault', 'rekey', p.vaultFile, '--new-vault-password-file', newPass])).code).toBe(0);
    await run('view after rekey with old password', ['vault', 'view', p.vaultFile]);
    await run('refused create', ['vault'], { env: { RUN_VAULT_USER_PASSWORD: USER_PW, RUN_VAULT_ADMIN_PASSWORD: ADMIN_PW } });
  }, 300_000);
  afterAll(() => {
    p.cleanup();
    rmSync(tools, { recursive: true, force: true });
  });

  it('ran every command, with debug lines on', () => {
    const names = runs.map((x) => x.name);
    for (const cmd of ['vault (create)', 'view', 'get', 'edit', 'encrypt', 'decrypt --output -', 'rekey', 'encrypt-string']) expect(names).toContain(cmd);
    expect(runs.filter((x) => x.r.stderr.includes('[vault debug]')).length).toBeGreaterThan(10);
    // the failing ones failed (so their error paths were scanned too)
    for (const n of ['get missing', 'get on broken yaml', 'view wrong password', 'view flipped byte', 'view after rekey with old password', 'refused create']) {
      expect(runs.find((x) => x.name === n)!.r.code, n).not.toBe(0);
    }
  });

  it('no secret in any stderr', () => {
    for (const { name, r } of runs) for (const s of secrets) expect(r.stderr.includes(s), `${name}: stderr shows ${s.slice(0, 8)}…`).toBe(false);
  });

  it('no secret in any stdout, except exactly the plaintext a command exists to print', () => {
    for (const { name, r, intendedStdout } of runs) {
      if (intendedStdout !== undefined) {
        expect(r.stdout, name).toBe(intendedStdout);
        continue;
      }
      for (const s of secrets) expect(r.stdout.includes(s), `${name}: stdout shows ${s.slice(0, 8)}…`).toBe(false);
    }
  });

  it('no secret in any file under the log directory (the audit trail is there and complete)', () => {
    const files = listFiles(p.logDir);
    expect(files.length).toBeGreaterThan(0);
    const text = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const op of ['"create"', '"view"', '"get"', '"edit"', '"encrypt"', '"decrypt"', '"rekey"', '"encrypt-string"']) expect(text).toContain(`"op":${op}`);
    for (const s of secrets) expect(text.includes(s), `log shows ${s.slice(0, 8)}…`).toBe(false);
  });
});
