import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRunConfig } from '../../src/config/config.js';
import { ParseError } from '../../src/core/errors.js';

function project(cfg: string): string {
  const d = mkdtempSync(join(tmpdir(), 'cfg-'));
  writeFileSync(join(d, 'run.cfg'), cfg);
  return d;
}

describe('run.cfg', () => {
  it('reads values with their file:line and resolves paths against the file', () => {
    const d = project('[defaults]\n# comment\ninventory = hosts\nforks = 7\nhost_key_checking = False\n');
    const c = loadRunConfig({ cwd: d, env: {} });
    expect(c.get('inventory')).toBe(join(d, 'hosts'));
    expect(c.source('inventory')).toBe(`${join(d, 'run.cfg')}:3`);
    expect(c.get('forks')).toBe(7);
    expect(c.get('host_key_checking')).toBe('off');
    expect(c.get('timeout')).toBe(10);
    expect(c.source('timeout')).toBe('default');
    expect(c.get('vault_password_file')).toBe(join(d, '.vaultpass'));
  });

  it('lets RUN_* environment variables override the file', () => {
    const d = project('[defaults]\nforks = 7\n');
    const c = loadRunConfig({ cwd: d, env: { RUN_FORKS: '3', RUN_HOST_KEY_CHECKING: 'strict' } });
    expect(c.get('forks')).toBe(3);
    expect(c.source('forks')).toBe('env RUN_FORKS');
    expect(c.get('host_key_checking')).toBe('strict');
  });

  it('rejects unknown keys and bad numbers with file:line and a hint', () => {
    const d = project('[defaults]\ninventory = x\nforkz = 3\n');
    try {
      loadRunConfig({ cwd: d, env: {} });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ParseError);
      const pe = e as ParseError;
      expect(pe.message).toContain("unknown setting 'forkz'");
      expect(pe.pos?.line).toBe(3);
      expect(pe.hint).toContain('forks');
      expect(pe.exitCode).toBe(4);
    }
    const d2 = project('[defaults]\nforks = many\n');
    expect(() => loadRunConfig({ cwd: d2, env: {} })).toThrow(/forks must be a whole number/);
    const d3 = project('[default]\nforks = 2\n');
    expect(() => loadRunConfig({ cwd: d3, env: {} })).toThrow(/unknown section \[default\]/);
  });
});
