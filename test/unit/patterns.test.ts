/**
 * Host patterns, checked against ansible-core itself: the same inventory is given to Ansible's
 * InventoryManager (Debian's python3-ansible) and to selectHosts, for every pattern below.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatternError, closeMatches, limitHosts, selectHosts, splitPattern, type PatternInventory } from '../../src/inventory/patterns.js';

const INI = `web1
[web]
web1
web2
web3.example.com
[db]
db1
db2
[app:children]
web
db
[edge]
10.0.0.1
lb-a
[dbreplica]
db2
`;

/** The same inventory as Ansible models it after reconcile (all → ungrouped, app, edge, dbreplica). */
function model(): PatternInventory {
  const g = (name: string, hosts: string[], children: string[] = []) => [name, { name, hosts, children }] as const;
  return {
    hosts: new Map(['web1', 'web2', 'web3.example.com', 'db1', 'db2', '10.0.0.1', 'lb-a'].map((h) => [h, {}])),
    groups: new Map([
      g('all', [], ['ungrouped', 'app', 'edge', 'dbreplica']),
      g('ungrouped', []),
      g('web', ['web1', 'web2', 'web3.example.com']),
      g('db', ['db1', 'db2']),
      g('app', [], ['web', 'db']),
      g('edge', ['10.0.0.1', 'lb-a']),
      g('dbreplica', ['db2']),
    ]),
  };
}

const PATTERNS = [
  'all', '*', 'web', 'app', 'web[0]', 'web[-1]', 'web[0:1]', 'web[1:]', 'app[1-3]', 'app:&db', 'app:!db', 'web*', '~web\\d',
  '~web', 'all:!web[0]', '!db', '&web', 'web,db', 'db:web', '*.example.com', 'web:db:&app:!db1', 'lb*:10.*',
  'db:&dbreplica', '!dbreplica:web', 'app:!web:&db', 'db?', 'web1,web1,web2', '~(web|db)1', 'edge:web[2]', 'web[-2]',
];

let dir: string;
let ansible: Record<string, string[] | string>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'patterns-'));
  writeFileSync(join(dir, 'inv.ini'), INI);
  const py = `
import json, sys
from ansible.parsing.dataloader import DataLoader
from ansible.inventory.manager import InventoryManager
inv = InventoryManager(loader=DataLoader(), sources=[sys.argv[1]])
out = {}
for p in json.loads(sys.argv[2]):
    try:
        out[p] = [h.name for h in inv.get_hosts(pattern=p)]
    except Exception as e:
        out[p] = 'ERROR: ' + str(e)
print(json.dumps(out))
`;
  const out = execFileSync('/usr/bin/python3', ['-c', py, join(dir, 'inv.ini'), JSON.stringify(PATTERNS)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, ANSIBLE_LOCALHOST_WARNING: 'false' },
  });
  ansible = JSON.parse(out) as Record<string, string[]>;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('selectHosts matches ansible-core', () => {
  for (const p of PATTERNS) {
    it(p, () => {
      expect(ansible[p]).toBeInstanceOf(Array);
      expect(selectHosts(model(), p)).toEqual(ansible[p]);
    });
  }
});

describe('pattern errors and helpers', () => {
  it('names close matches for an unknown name', () => {
    expect(() => selectHosts(model(), 'wbe')).toThrow(PatternError);
    try {
      selectHosts(model(), 'app:!dbreplcia', { source: '--limit' });
    } catch (e) {
      expect((e as PatternError).message).toContain('--limit: no group or host matches "dbreplcia"');
      expect((e as PatternError).hint).toContain('dbreplica');
      expect((e as PatternError).exitCode).toBe(5);
    }
    expect(closeMatches(model(), 'web4')).toEqual(expect.arrayContaining(['web1', 'web2', 'web']));
  });

  it('out-of-range subscripts are errors', () => {
    expect(() => selectHosts(model(), 'db[5]')).toThrow(/out of range/);
  });

  it('ignores unmatched terms when asked (plays)', () => {
    expect(selectHosts(model(), 'nosuch:web[0]', { onNoMatch: 'ignore' })).toEqual(['web1']);
  });

  it('reads @file host lists', () => {
    writeFileSync(join(dir, 'retry'), 'db2\n# comment\nweb1\n');
    expect(selectHosts(model(), `@${join(dir, 'retry')}`)).toEqual(['db2', 'web1']);
  });

  it('limits keep the play order', () => {
    expect(limitHosts(model(), ['db2', 'web2', 'lb-a'], 'web:lb-a')).toEqual(['web2', 'lb-a']);
    expect(limitHosts(model(), ['db2'], undefined)).toEqual(['db2']);
  });

  it('splits on colons outside brackets, commas win, IPv6 stays whole', () => {
    expect(splitPattern('a:b[0:2]:&c')).toEqual(['a', 'b[0:2]', '&c']);
    expect(splitPattern('a:b,c')).toEqual(['a:b', 'c']);
    expect(splitPattern('fe80::1')).toEqual(['fe80::1']);
  });

  it('rejects a broken regex clearly', () => {
    expect(() => selectHosts(model(), '~web(')).toThrow(/invalid regular expression/);
  });
});
