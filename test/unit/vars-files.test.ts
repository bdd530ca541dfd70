import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError, UsageError } from '../../src/core/errors.js';
import { entityVarsFiles, loadVarsFile, parseExtraVarsArg, parseKeyValues } from '../../src/vars/files.js';

describe('vars files', () => {
  it('types values as PyYAML (YAML 1.1) does and records key lines', () => {
    const d = mkdtempSync(join(tmpdir(), 'vf-'));
    const f = join(d, 'v.yml');
    writeFileSync(f, '---\na: yes\nb: 0644\nc: "0644"\nd: 1.5\n\ne: ~\nf: [1, two]\ng: y\nh: 08\n');
    const m = loadVarsFile(f);
    expect(m.get('a')?.value).toBe(true);
    expect(m.get('b')?.value).toBe(420);
    expect(m.get('c')?.value).toBe('0644');
    expect(m.get('d')?.value).toBe(1.5);
    expect(m.get('e')?.value).toBe(null);
    expect(m.get('f')?.value).toEqual([1, 'two']);
    expect(m.get('g')?.value).toBe('y'); // PyYAML has no y/n booleans
    expect(m.get('h')?.value).toBe('08'); // not valid octal: a string in PyYAML
    expect(m.get('e')?.pos).toEqual({ file: f, line: 7, col: 1 });
  });

  it('reports bad YAML, duplicate keys and non-mappings with file:line:col', () => {
    const d = mkdtempSync(join(tmpdir(), 'vf-'));
    const bad = join(d, 'bad.yml');
    writeFileSync(bad, 'a: 1\nb: [1, 2\nc: 3\n');
    expect(() => loadVarsFile(bad)).toThrow(ParseError);
    const dup = join(d, 'dup.yml');
    writeFileSync(dup, 'a: 1\nb: 2\na: 3\n');
    try {
      loadVarsFile(dup);
      expect.unreachable();
    } catch (e) {
      expect((e as ParseError).message).toMatch(/duplicate key/);
      expect((e as ParseError).pos).toMatchObject({ file: dup, line: 3 });
    }
    const list = join(d, 'list.yml');
    writeFileSync(list, '- a\n- b\n');
    expect(() => loadVarsFile(list)).toThrow(/must be a mapping/);
    const enc = join(d, 'enc.yml');
    writeFileSync(enc, '$ANSIBLE_VAULT;1.1;AES256\n6162\n');
    expect(() => loadVarsFile(enc)).toThrow(/vault-encrypted/);
  });

  it('finds group_vars files as Ansible does: the first of name/, name.yml, name.yaml, name.json; a directory sorted', () => {
    const d = mkdtempSync(join(tmpdir(), 'gv-'));
    mkdirSync(join(d, 'group_vars', 'web', 'sub'), { recursive: true });
    writeFileSync(join(d, 'group_vars', 'web.yml'), 'a: 1\n');
    writeFileSync(join(d, 'group_vars', 'web', 'b.yml'), 'a: 2\n');
    writeFileSync(join(d, 'group_vars', 'web', 'a.yml'), 'a: 3\n');
    writeFileSync(join(d, 'group_vars', 'web', 'sub', 'z.json'), '{"a": 4}\n');
    writeFileSync(join(d, 'group_vars', 'web', '.hidden.yml'), 'a: 5\n');
    writeFileSync(join(d, 'group_vars', 'web', 'notes.txt'), 'a: 6\n');
    writeFileSync(join(d, 'group_vars', 'web', 'c.yml~'), 'a: 7\n');
    const files = entityVarsFiles(d, 'group_vars', 'web').map((f) => f.slice(d.length + 1));
    // web/ exists, so web.yml is ignored (Ansible stops at the first match).
    expect(files).toEqual(['group_vars/web/a.yml', 'group_vars/web/b.yml', 'group_vars/web/sub/z.json']);
    mkdirSync(join(d, 'group_vars', 'db.d'));
    writeFileSync(join(d, 'group_vars', 'db.yaml'), 'a: 1\n');
    writeFileSync(join(d, 'group_vars', 'db.json'), '{}\n');
    expect(entityVarsFiles(d, 'group_vars', 'db').map((f) => f.slice(d.length + 1))).toEqual(['group_vars/db.yaml']);
  });

  it('parses -e forms: key=value (strings), JSON, @file', () => {
    const m = parseKeyValues(`a=1 b='two words' c="x=y" d=`, { file: '-e #1' });
    expect([...m].map(([k, v]) => [k, v.value])).toEqual([
      ['a', '1'],
      ['b', 'two words'],
      ['c', 'x=y'],
      ['d', ''],
    ]);
    expect(() => parseKeyValues('novalue', { file: '-e #1' })).toThrow(UsageError);
    const j = parseExtraVarsArg('{"n": 2, "l": [1]}', 0, '/');
    expect(j.vars.get('n')?.value).toBe(2);
    const d = mkdtempSync(join(tmpdir(), 'ev-'));
    writeFileSync(join(d, 'x.yml'), 'k: v\n');
    expect(parseExtraVarsArg('@x.yml', 1, d).vars.get('k')?.value).toBe('v');
    expect(() => parseExtraVarsArg('@missing.yml', 1, d)).toThrow(/not found/);
  });
});
