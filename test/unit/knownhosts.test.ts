/** known_hosts parsing and matching, checked against OpenSSH's own ssh-keygen (-F, -H, -l). */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnownHosts, blobType, fingerprint, hostsFieldMatches } from '../../src/transport/knownhosts.js';

let dir: string;
const keys: Record<string, { line: string; blob: Buffer }> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kh-'));
  for (const t of ['ed25519', 'ecdsa', 'rsa']) {
    execFileSync('ssh-keygen', ['-q', '-t', t, '-N', '', '-f', join(dir, t)]);
    const pub = readFileSync(join(dir, `${t}.pub`), 'utf8').trim().split(' ');
    keys[t] = { line: `${pub[0]} ${pub[1]}`, blob: Buffer.from(pub[1]!, 'base64') };
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sshKeygenFinds(file: string, name: string): boolean {
  return spawnSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8' }).status === 0;
}

describe('known_hosts', () => {
  it('fingerprints match ssh-keygen -l', () => {
    for (const t of Object.keys(keys)) {
      const out = execFileSync('ssh-keygen', ['-l', '-f', join(dir, `${t}.pub`)], { encoding: 'utf8' });
      expect(out).toContain(fingerprint(keys[t]!.blob));
    }
    expect(blobType(keys.ecdsa!.blob)).toBe('ecdsa-sha2-nistp256');
  });

  it('plain, [host]:port, patterns and negation agree with ssh-keygen -F', () => {
    const file = join(dir, 'plain');
    writeFileSync(
      file,
      [
        `# comment`,
        `node1,10.1.1.1 ${keys.ed25519!.line}`,
        `[node2]:2222 ${keys.ecdsa!.line}`,
        `*.example.org,!bad.example.org ${keys.rsa!.line}`,
        '',
      ].join('\n'),
    );
    const cases: [string, number][] = [
      ['node1', 22], ['10.1.1.1', 22], ['node1', 2222], ['node2', 2222], ['node2', 22], ['a.example.org', 22], ['bad.example.org', 22], ['other', 22],
    ];
    const field = (h: string, p: number) => (p === 22 ? h : `[${h}]:${p}`);
    const kh = new KnownHosts(file);
    for (const [h, p] of cases) {
      expect(kh.lookup(h, p).length > 0, `${h}:${p}`).toBe(sshKeygenFinds(file, field(h, p)));
    }
  });

  it('hashed entries (ssh-keygen -H) match the same names', () => {
    const file = join(dir, 'hashed');
    writeFileSync(file, `node1 ${keys.ed25519!.line}\n[node2]:2222 ${keys.ecdsa!.line}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('node1');
    const kh = new KnownHosts(file);
    expect(kh.check('node1', 22, keys.ed25519!.blob).status).toBe('ok');
    expect(kh.check('node2', 2222, keys.ecdsa!.blob).status).toBe('ok');
    expect(kh.check('node2', 22, keys.ecdsa!.blob).status).toBe('new');
    expect(hostsFieldMatches(text.split(' ')[0]!, 'node1', 22)).toBe(true);
  });

  it('mismatch, new key type, revoked', () => {
    const file = join(dir, 'verdicts');
    writeFileSync(file, `node1 ${keys.ed25519!.line}\n@revoked * ${keys.rsa!.line}\n`);
    const kh = new KnownHosts(file);
    const other = Buffer.from(keys.ed25519!.blob);
    other.writeUInt8(other.readUInt8(other.length - 1) ^ 1, other.length - 1);
    const v = kh.check('node1', 22, other);
    expect(v.status).toBe('mismatch');
    expect(kh.check('node1', 22, keys.ecdsa!.blob).status).toBe('new');
    expect(kh.check('node1', 22, keys.rsa!.blob).status).toBe('revoked');
    expect(kh.knownTypes('node1', 22)).toEqual(['ssh-ed25519']);
  });

  it('append writes an OpenSSH-readable line atomically, once, keeping the mode', async () => {
    const file = join(dir, 'sub', 'known_hosts');
    const kh = new KnownHosts(file);
    await Promise.all([kh.append('node9', 2200, keys.ed25519!.blob), kh.append('node9', 2200, keys.ed25519!.blob), kh.append('node8', 22, keys.rsa!.blob)]);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(sshKeygenFinds(file, '[node9]:2200')).toBe(true);
    expect(sshKeygenFinds(file, 'node8')).toBe(true);
    expect(kh.check('node9', 2200, keys.ed25519!.blob).status).toBe('ok');
  });
});
