/**
 * The inventory layer without Ansible: every user-facing error (message, file:line:col, hint), the
 * positions carried by hosts, groups and variables, the ordering helpers the vars layer builds on, and
 * loader details. (Parity with ansible-inventory itself: test/integration/inventory-parity.test.ts.)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRunError, ParseError, RunError, UsageError } from '../../src/core/errors.js';
import { isIgnoredInventoryEntry, loadInventory, loadInventoryText } from '../../src/inventory/load.js';
import { inventoryGraph, inventoryHostJson, inventoryListObject } from '../../src/inventory/output.js';
import { pyFloatRepr, pyRepr } from '../../src/inventory/pyrepr.js';
import {
  depth,
  groupsOfHost,
  hostsOfGroup,
  inventoryHostVars,
  inventoryVarLayers,
  isTuple,
  sortGroups,
  UnsafeText,
  VaultText,
} from '../../src/inventory/types.js';

function parseError(text: string, file = 'inv'): ParseError {
  try {
    loadInventoryText(text, file);
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

describe('INI errors carry file:line:col and a hint', () => {
  const cases: [string, string, string, number, number, RegExp][] = [
    // name, text, message, line, col, hint
    ['range with 4 parts', 'web[1:2:3:4]\n', "bad host range in 'web[1:2:3:4]': host range must be begin:end or begin:end:step", 1, 1, /begin:end/],
    ['zero-padded widths differ', '[g]\n  web[01:100] x=1\n', "bad host range in 'web[01:100]': host range must specify equal-length begin and end formats", 2, 3, /equal widths/],
    ['range without end', 'web[1:]\n', "bad host range in 'web[1:]': host range must specify end value", 1, 1, /ranges are/],
    ['letters backwards', 'web[c:a]\n', "bad host range in 'web[c:a]': host range must have begin <= end", 1, 1, /db\[a:c\]/],
    ['not a number', 'web[1:x]\n', "bad host range in 'web[1:x]': invalid literal for int() with base 10: 'x'", 1, 1, /ranges are/],
    ['zero step', 'web[1:5:0]\n', "bad host range in 'web[1:5:0]': range() arg 3 must not be zero", 1, 1, /step/],
    ['group cycle', '[a:children]\nb\n[b:children]\na\n', "Adding group 'a' as child to 'b' creates a recursive dependency loop.", 4, 1, /cycle/],
    ['cycle resolved later', '[a:children]\nb\n[c:children]\na\n[b:children]\nc\n', "Adding group 'c' as child to 'b' creates a recursive dependency loop.", 6, 1, /ancestor/],
    ['group is its own child', '[a:children]\na\n', "group 'a' cannot be a child of itself", 2, 1, /remove 'a'/],
    ['[x:children] naming a host', 'h1\n[g:children]\nh1\n', 'Section [g:children] includes undefined group: h1', 3, 1, /'h1' is a host, not a group: list hosts under \[g\]/],
    ['[x:children] naming nothing', '[g:children]\nnope\n', 'Section [g:children] includes undefined group: nope', 2, 1, /declare it with a \[nope\] section/],
    ['unterminated quote', 'h1 a=1 x="abc\n', `Error parsing host definition 'h1 a=1 x="abc': No closing quotation`, 1, 10, /close the quote/],
    ['dangling backslash', 'h1 x=\\\n', "Error parsing host definition 'h1 x=\\': No escaped character", 1, 6, /backslash/],
    ['section with a space', '[foo bar]\n', "Invalid section entry: '[foo bar]'", 1, 1, /no spaces/],
    ['unknown section type', '[foo:bar]\n', 'Section [foo:bar] has unknown type: bar', 1, 6, /\[group:children\]/],
    ['text after a section', '[g]\nh\n[g:vars] ; note\n', "bad host range in '[g:vars]': invalid literal for int() with base 10: 'g'", 3, 1, /only a # comment may follow \[g:vars\]/],
    ['host var without =', 'h1 a=1 novalue\n', 'Expected key=value host variable assignment, got: novalue', 1, 8, /key=value/],
    [':vars line without =', '[g]\n[g:vars]\n  justakey\n', 'Expected key=value, got: justakey', 3, 3, /name=value/],
    [':vars of an undefined group', '[g:vars]\nx=1\n', 'Section [g:vars] not valid for undefined group: g', 1, 2, /\[g\] or \[g:children\]/],
    [':children line that is not a name', '[g:children]\nfoo bar\n', 'Expected group name, got: foo bar', 2, 1, /group names, one per line/],
    ['host ending in a colon', '[g]\nh1:\n', "Invalid host pattern 'h1:' supplied, ending in ':' is not allowed, this character is reserved to provide a port.", 2, 1, /host:PORT/],
    ['YAML document marker', '[g]\n---\n', "Invalid host pattern '---' supplied, '---' is normally a sign this is a YAML file.", 2, 1, /YAML/],
    ['bad ansible_group_priority', '[g]\nh\n[g:vars]\nansible_group_priority=high\n', "ansible_group_priority of group 'g': invalid literal for int() with base 10: 'high'", 4, 1, /integer/],
    ['unhashable dict key', '[g]\nh\n[g:vars]\nx={[1]: 2}\n', "variable 'x' of group 'g': unhashable type: 'list' used as a dict key", 4, 1, /quote the value/],
    ['complex number', 'h1 x=1+2j\n', "variable 'x' of host 'h1': a Python complex number cannot be written as JSON (ansible-inventory fails on it too)", 1, 4, /quote/],
    ['set literal', '[g]\nh\n[g:vars]\ns={1, 2}\n', "variable 's' of group 'g': a Python set literal cannot be written as JSON (ansible-inventory fails on it too)", 4, 1, /quote/],
    ['\\N escape', "[g]\nh\n[g:vars]\nb='\\N{BULLET}'\n", "variable 'b' of group 'g': \\N{…} escapes are not supported here: write the character itself", 4, 1, /quote/],
    ['empty host name', '"" x=1\n', 'invalid empty host name', 1, 1, /host name/],
    ['byte order mark', '\ufeff[g]\nh1\n', 'the file starts with a UTF-8 byte order mark (BOM)', 1, 1, /without a BOM/],
  ];
  for (const [name, text, message, line, col, hint] of cases) {
    it(name, () => {
      const e = parseError(text);
      expect(e.message).toBe(message);
      expect(e.pos).toEqual({ file: 'inv', line, col });
      expect(e.hint).toMatch(hint);
      expect(e.exitCode).toBe(4);
      expect(formatRunError(e)).toBe(`ERROR: inv:${line}:${col}: ${message}\n  hint: ${e.hint}`);
    });
  }
});

describe('YAML errors carry file:line:col and a hint', () => {
  const cases: [string, string, string, number, number][] = [
    ['hosts as a list', 'all:\n  hosts:\n    - a\n', `Invalid "hosts" entry for "all" group, requires a dictionary, found "<class 'list'>" instead.`, 3, 5],
    ['numeric host key', 'all:\n  hosts:\n    1.5:\n', 'Host pattern 1.5 must be a string. Enclose integers/floats in quotation marks.', 3, 5],
    ['host vars as a list', 'all:\n  hosts:\n    a: [1]\n', 'Invalid data from file, expected dictionary and got:\n\n[1]', 3, 8],
    ['YAML syntax', 'all: [\n', 'invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]', 2, 1],
    ['plugin configuration', 'plugin: aws_ec2\n', 'inventory plugin configurations are not supported (plugin: aws_ec2)', 1, 1],
    ['child that is neither group nor host', 'all:\n  children:\n    x: []\n', 'x is not a known host nor group', 3, 5],
    ['bad range in a key', 'all:\n  hosts:\n    "web[01:100]":\n', "bad host range in 'web[01:100]': host range must specify equal-length begin and end formats", 3, 5],
    ['unknown tag', 'all:\n  vars:\n    x: !custom y\n', 'unsupported YAML tag !custom', 3, 16],
    ['bad !!int', 'all:\n  vars:\n    x: !!int "4x"\n', "invalid literal for int(): '4x'", 3, 14],
    ['bad date', 'all:\n  vars:\n    d: 2024-02-30\n', 'day is out of range for month: 2024-02-30', 3, 8],
    ['group name that is a number', 'all:\n  children:\n    12:\n', "Unable to add group 12: Invalid group name supplied, expected a string but got <class 'int'> for 12", 3, 5],
  ];
  for (const [name, text, message, line, col] of cases) {
    it(name, () => {
      const e = parseError(text, 'inv.yml');
      expect(e.message).toBe(message);
      expect(e.pos).toEqual({ file: 'inv.yml', line, col });
      expect(e.hint ?? '').not.toBe('');
    });
  }
});

describe('loading from disk', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'inv-unit-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing path is a usage error (exit 5) with a hint', () => {
    let err: unknown;
    try {
      loadInventory(join(dir, 'nope'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as RunError).exitCode).toBe(5);
    expect((err as RunError).hint).toMatch(/-i PATH/);
  });

  it('a directory with only ignored files is an error naming the ignored extensions', () => {
    const d = join(dir, 'ignored');
    mkdirSync(d);
    for (const n of ['hosts.ini', 'x.bak', 'y~', 'README.md', '.hidden', 'z.cfg']) writeFileSync(join(d, n), 'h1\n');
    mkdirSync(join(d, 'group_vars'));
    writeFileSync(join(d, 'group_vars', 'all'), 'x: 1\n');
    const e = (() => {
      try {
        loadInventory(d);
      } catch (x) {
        return x as ParseError;
      }
      throw new Error('no error');
    })();
    expect(e.message).toBe('no inventory file in this directory');
    expect(e.hint).toContain('.ini');
  });

  it("Ansible's ignore list", () => {
    for (const n of ['a.ini', 'a.cfg', 'a.retry', 'a.orig', 'a.bak', 'a~', 'a.pyc', 'a.pyo', 'a.swp', 'a.rpm', 'a.md', 'a.txt', 'a.rst', '.a', 'group_vars', 'host_vars', 'vars_plugins']) {
      expect(isIgnoredInventoryEntry(n), n).toBe(true);
    }
    for (const n of ['hosts', 'a.yml', 'a.yaml', 'a.json', 'ini', 'group_vars2', 'a.toml']) expect(isIgnoredInventoryEntry(n), n).toBe(false);
  });

  it('a vault-encrypted file needs a decryptor; with one it is read', () => {
    const f = join(dir, 'vaulted');
    writeFileSync(f, '$ANSIBLE_VAULT;1.1;AES256\n6162\n');
    expect(() => loadInventory(f)).toThrow(/vault-encrypted/);
    const inv = loadInventory(f, { decryptFile: () => 'h1 x=1\n' });
    expect([...inv.hosts.keys()]).toEqual(['h1']);
  });

  it('undecodable bytes are tolerated in comment lines only', () => {
    const ok = join(dir, 'latin1-comment');
    writeFileSync(ok, Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from('\nh1\n')]));
    expect([...loadInventory(ok).hosts.keys()]).toEqual(['h1']);
    const bad = join(dir, 'latin1-host');
    writeFileSync(bad, Buffer.concat([Buffer.from('h1\ncaf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    expect(() => loadInventory(bad)).toThrow(expect.objectContaining({ pos: { file: bad, line: 2 } }));
  });

  it('a comma-separated host list (no ranges, ports split off)', () => {
    const inv = loadInventory('web1, 198.18.0.9:2222 ,web[1:2],');
    expect([...inv.hosts.keys()]).toEqual(['web1', '198.18.0.9', 'web[1:2]']);
    expect(inv.hosts.get('198.18.0.9')!.vars.get('ansible_port')!.value).toBe(2222);
    expect(inv.groups.get('ungrouped')!.hosts).toEqual(['web1', '198.18.0.9', 'web[1:2]']);
  });
});

describe('positions', () => {
  const INI = ['h1 a=1  b="x y"', '[g]', 'h1', '  h2   c=3', '[g:vars]', '  gv = [1, 2]', '[p:children]', 'g'].join('\n');
  const inv = loadInventoryText(INI, 'hosts');

  it('hosts: where first declared; inline vars: the key=value token', () => {
    expect(inv.hosts.get('h1')!.pos).toEqual({ file: 'hosts', line: 1, col: 1 });
    expect(inv.hosts.get('h2')!.pos).toEqual({ file: 'hosts', line: 4, col: 3 });
    expect(inv.hosts.get('h1')!.vars.get('b')).toEqual({ value: 'x y', pos: { file: 'hosts', line: 1, col: 9 } });
    expect(inv.hosts.get('h2')!.vars.get('c')!.pos).toEqual({ file: 'hosts', line: 4, col: 8 });
  });

  it('groups: the section name; :vars: the line; tuples stay recognisable', () => {
    expect(inv.groups.get('g')!.pos).toEqual({ file: 'hosts', line: 2, col: 2 });
    expect(inv.groups.get('all')!.pos).toBeUndefined();
    const gv = inv.groups.get('g')!.vars.get('gv')!;
    expect(gv).toEqual({ value: [1, 2], pos: { file: 'hosts', line: 6, col: 3 } });
    expect(isTuple(gv.value)).toBe(false);
    expect(isTuple(loadInventoryText('h t=1,2', 'x').hosts.get('h')!.vars.get('t')!.value)).toBe(true);
  });

  it('YAML: every variable at its key, hosts at their pattern', () => {
    const y = loadInventoryText('all:\n  hosts:\n    web[1:2]:\n      ip: 198.18.0.1\n  vars:\n    n: 0644\n', 'inv.yml');
    expect(y.hosts.get('web2')!.pos).toEqual({ file: 'inv.yml', line: 3, col: 5 });
    expect(y.hosts.get('web2')!.vars.get('ip')).toEqual({ value: '198.18.0.1', pos: { file: 'inv.yml', line: 4, col: 7 } });
    expect(y.groups.get('all')!.vars.get('n')).toEqual({ value: 420, pos: { file: 'inv.yml', line: 6, col: 5 } });
  });
});

describe('ordering helpers (what the vars layer merges by)', () => {
  const inv = loadInventoryText(
    [
      'shared who=host',
      '[zzz]',
      'shared',
      '[aaa]',
      'shared',
      '[deep:children]',
      'aaa',
      '[prio]',
      'shared',
      '[all:vars]',
      'who=all',
      'color=grey',
      '[aaa:vars]',
      'color=red',
      '[zzz:vars]',
      'color=green',
      '[deep:vars]',
      'color=deep',
      '[prio:vars]',
      'ansible_group_priority=10',
      'color=prio',
    ].join('\n'),
    'hosts',
  );

  it('depth is the longest path from all; priority is not a variable', () => {
    expect(depth(inv.groups.get('all')!)).toBe(0);
    expect(depth(inv.groups.get('deep')!)).toBe(1);
    expect(depth(inv.groups.get('aaa')!)).toBe(2);
    expect(inv.groups.get('prio')!.priority).toBe(10);
    expect(inv.groups.get('prio')!.vars.has('ansible_group_priority')).toBe(false);
  });

  it('sortGroups: depth, then priority, then name; groupsOfHost is in that order', () => {
    expect(sortGroups(inv, ['zzz', 'aaa', 'prio', 'deep', 'all'])).toEqual(['all', 'deep', 'zzz', 'prio', 'aaa']);
    expect(groupsOfHost(inv, 'shared')).toEqual(['all', 'deep', 'zzz', 'prio', 'aaa']);
  });

  it('inventoryHostVars: group vars in that order, host vars last, each with its position', () => {
    const v = inventoryHostVars(inv, 'shared');
    expect(v.get('color')).toEqual({ value: 'red', pos: { file: 'hosts', line: 14, col: 1 } });
    expect(v.get('who')!.value).toBe('host');
    expect(inventoryVarLayers(inv, 'shared').map((l) => `${l.kind}:${l.name}`)).toEqual([
      'group:all',
      'group:deep',
      'group:zzz',
      'group:prio',
      'group:aaa',
      'host:shared',
    ]);
  });

  it('hostsOfGroup: own hosts, then children level by level, no duplicates', () => {
    const t = loadInventoryText('[top:children]\na\nb\n[top]\nt1\n[a:children]\nc\n[a]\na1\n[b]\nb1\na1\n[c]\nc1\n', 'x');
    expect(hostsOfGroup(t, 'top')).toEqual(['t1', 'a1', 'b1', 'c1']);
    expect(hostsOfGroup(t, 'all')).toEqual(['t1', 'a1', 'b1', 'c1']);
    expect(() => hostsOfGroup(t, 'nope')).toThrow(/no such group/);
  });
});

describe('typed values from YAML tags', () => {
  it('!unsafe and !vault keep their Ansible JSON forms', () => {
    const inv = loadInventoryText('all:\n  vars:\n    u: !unsafe "{{ x }}"\n    v: !vault |\n      $ANSIBLE_VAULT;1.1;AES256\n      6162\n', 'i.yml');
    const u = inv.groups.get('all')!.vars.get('u')!.value;
    const v = inv.groups.get('all')!.vars.get('v')!.value;
    expect(u).toBeInstanceOf(UnsafeText);
    expect(v).toBeInstanceOf(VaultText);
    expect(JSON.parse(JSON.stringify(inventoryListObject(inv)._meta))).toEqual({ hostvars: {} });
    expect(JSON.stringify(u)).toBe('{"__ansible_unsafe":"{{ x }}"}');
    expect((v as VaultText).ciphertext).toBe('$ANSIBLE_VAULT;1.1;AES256\n6162\n');
  });

  it('a tag constructor can be supplied (as a map or as yaml-package scalar tags)', () => {
    const text = 'all:\n  hosts:\n    h:\n      secret: !vault "ct"\n';
    const a = loadInventoryText(text, 'i.yml', { scalarTags: { '!vault': (t) => `opened:${t}` } });
    expect(a.hosts.get('h')!.vars.get('secret')!.value).toBe('opened:ct');
    const tag = { tag: '!vault', resolve: (s: string) => ({ revealed: s.toUpperCase() }) };
    const b = loadInventoryText(text, 'i.yml', { scalarTags: [tag] });
    expect(b.hosts.get('h')!.vars.get('secret')!.value).toEqual({ revealed: 'CT' });
  });
});

describe('outputs', () => {
  const inv = loadInventoryText('h1 x=1\n[g]\nh1\n[p:children]\ng\n[solo]\nh2 t=1,2 d="{\'k\': None}"\n', 'x');

  it('--graph GROUP, and a bad group is a usage error', () => {
    expect(inventoryGraph(inv, 'p')).toBe('@p:\n  |--@g:\n  |  |--h1');
    expect(() => inventoryGraph(inv, 'nope')).toThrow(UsageError);
  });

  it('--graph --vars prints values as Python str() does', () => {
    expect(inventoryGraph(inv, 'solo', { vars: true })).toBe("@solo:\n  |--h2\n  |  |--{d = {'k': None}}\n  |  |--{t = (1, 2)}");
  });

  it('--host accepts a host or a one-host group', () => {
    expect(inventoryHostJson(inv, 'h1')).toBe('{\n    "x": 1\n}');
    expect(inventoryHostJson(inv, 'solo')).toContain('"t": [\n        1,\n        2\n    ]');
    expect(() => inventoryHostJson(inv, 'all')).toThrow(/single valid host/);
  });

  it('Python float and str reprs', () => {
    expect([0.1, 1e16, 1e-5, 1.5e-7, 123.456, -0.5, 1e22].map(pyFloatRepr)).toEqual(['0.1', '1e+16', '1e-05', '1.5e-07', '123.456', '-0.5', '1e+22']);
    expect(pyRepr(["it's", 'a"b', 'both\'"', '\t\x01é\u200b'])).toBe(`["it's", 'a"b', 'both\\'"', '\\t\\x01é\\u200b']`);
  });
});
