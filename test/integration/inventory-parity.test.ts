/**
 * Inventory parity with the real ansible-inventory (Debian ansible-core 2.14): for every sample and
 * fixture inventory, `--list` (as parsed JSON, and byte for byte unless the inventory holds values JS
 * cannot type like Python), `--graph`, `--graph --vars`, and for a subset `--list --export`,
 * `--list --yaml` (both read back with PyYAML) and `--host`. Ansible's own model (group host order,
 * depth, priority, group_names, variable merge order) is compared through its Python API. Broken
 * inventories must fail in both, ours with file:line:col.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParseError } from '../../src/core/errors.js';
import { loadInventory } from '../../src/inventory/load.js';
import {
  inventoryGraph,
  inventoryHostJson,
  inventoryListJson,
  inventoryListYaml,
} from '../../src/inventory/output.js';
import { groupsOfHost, hostsOfGroup, type Inventory } from '../../src/inventory/types.js';
import { ansibleInventory, cleanupOracle, hasAnsibleInventory, pythonJson, type ProcResult } from '../support/inventory-oracle.js';
import { cli, runCli } from '../vault/support.js';

const REPO = resolve(import.meta.dirname, '..', '..');
const FIX = join(REPO, 'test', 'fixtures', 'inventory');

interface Case {
  name: string;
  sources: string[];
  /** holds integral floats or datetimes: JS cannot print them as Python does (compare parsed JSON only) */
  lossy?: boolean;
  /** also compare --list --export, --list --yaml and --host for these hosts */
  extra?: string[];
}

const sample = (n: string): Case => ({ name: `inventory/${n}`, sources: [join(REPO, 'inventory', n)] });
const fix = (n: string, more: Partial<Case> = {}): Case => ({ name: n, sources: [join(FIX, n)], ...more });

const CASES: Case[] = [
  { ...sample('local'), extra: ['localhost'] },
  { ...sample('ceph'), extra: ['control1', 'storage2'] },
  sample('powerflex'),
  { ...sample('powerflex-hci'), extra: ['pfx-2', 'pfmp'] },
  sample('hitachi'),
  fix('ranges', { extra: ['rack2-nodeb.example'] }),
  fix('quoting', { extra: ['h5', 'h7'] }),
  fix('groupvars', { extra: ['h1'] }),
  fix('children'),
  fix('conflicts', { extra: ['shared'] }),
  fix('floats', { lossy: true }),
  fix('hostports', { extra: ['web1'] }),
  fix('specialgroups', { extra: ['top2'] }),
  fix('yaml-inventory.yml', { extra: ['compute03', 'storageb'] }),
  fix('yaml-edge.yml', { extra: ['a1'] }),
  fix('lossy-types.yml', { lossy: true }),
  fix('json-inventory.json', { extra: ['j3'] }),
  fix('dir-inventory', { extra: ['d2'] }),
  { name: 'host list', sources: ['h1,198.18.7.1:2222,[2001:db8::2]:2200,h1,web[1:2]'] },
  { name: 'two sources', sources: [join(FIX, 'quoting'), join(FIX, 'conflicts')] },
];

interface Oracle {
  list: ProcResult;
  graph: ProcResult;
  graphVars: ProcResult;
  export?: ProcResult;
  yaml?: ProcResult;
  hosts: Record<string, ProcResult>;
}

interface Model {
  groups: Record<string, { hosts: string[]; depth: number; priority: number; parents: string[] }>;
  hosts: Record<string, { group_names: string[]; merge_order: string[] }>;
  all_order: string[];
  host_order: string[];
  group_order: string[];
}

const MODEL_PY = `
import json, sys
from ansible.parsing.dataloader import DataLoader
from ansible.inventory.manager import InventoryManager
from ansible.inventory.helpers import sort_groups
out = []
for sources in json.load(sys.stdin):
    inv = InventoryManager(loader=DataLoader(), sources=sources)
    m = {"groups": {}, "hosts": {}, "all_order": [h.name for h in inv.get_hosts('all')],
         "host_order": list(inv.hosts.keys()), "group_order": list(inv.groups.keys())}
    for name, g in inv.groups.items():
        m["groups"][name] = {"hosts": [h.name for h in g.get_hosts()], "depth": g.depth,
                             "priority": g.priority, "parents": [p.name for p in g.parent_groups]}
    for name, h in inv.hosts.items():
        m["hosts"][name] = {"group_names": h.get_magic_vars()["group_names"],
                            "merge_order": [g.name for g in sort_groups(h.get_groups())]}
    out.append(m)
print(json.dumps(out))
`;

// Load YAML texts with PyYAML; dates become ISO text (how this runner keeps them).
const YAML_LOAD_PY = `
import json, sys, yaml, datetime
def norm(v):
    if isinstance(v, dict): return {str(k): norm(x) for k, x in v.items()}
    if isinstance(v, list): return [norm(x) for x in v]
    if isinstance(v, (datetime.date, datetime.datetime)): return v.isoformat()
    return v
print(json.dumps([norm(yaml.safe_load(t)) for t in json.load(sys.stdin)]))
`;

function ourModel(inv: Inventory): Model {
  const groups: Model['groups'] = {};
  for (const g of inv.groups.values()) {
    groups[g.name] = { hosts: hostsOfGroup(inv, g.name), depth: g.depth, priority: g.priority, parents: g.parents };
  }
  const hosts: Model['hosts'] = {};
  for (const h of inv.hosts.keys()) {
    const mine = groupsOfHost(inv, h);
    hosts[h] = { group_names: mine.filter((g) => g !== 'all').sort(), merge_order: mine };
  }
  return { groups, hosts, all_order: hostsOfGroup(inv, 'all'), host_order: [...inv.hosts.keys()], group_order: [...inv.groups.keys()] };
}

const BROKEN: [string, string, number, number][] = [
  // file name, content, line, col of our error
  ['range-parts', 'web[1:2:3:4]\n', 1, 1],
  ['range-width', '[g]\nweb[01:100]\n', 2, 1],
  ['range-order', 'web[c:a]\n', 1, 1],
  ['range-int', 'web[1:x]\n', 1, 1],
  ['cycle', '[a:children]\nb\n[b:children]\na\n', 4, 1],
  ['self-child', '[a:children]\na\n', 2, 1],
  ['children-host', 'h1\n[g:children]\nh1\n', 3, 1],
  ['unterminated', 'h1 x="abc\n', 1, 6],
  ['bad-section', '[foo bar]\n', 1, 1],
  ['unknown-type', '[foo:bar]\n', 1, 6],
  ['no-eq', 'h1 novalue\n', 1, 4],
  ['vars-no-eq', '[g]\n[g:vars]\njustakey\n', 3, 1],
  ['vars-undefined', '[g:vars]\nx=1\n', 1, 2],
  ['children-not-a-name', '[g:children]\nfoo bar\n', 2, 1],
  ['trailing-colon', '[g]\n  h1:\n', 2, 3],
  ['yaml-marker', '[g]\n---\n', 2, 1],
  ['dangling-backslash', 'h1 x=\\\n', 1, 6],
  ['priority', '[g]\nh\n[g:vars]\nansible_group_priority=high\n', 4, 1],
  ['unhashable', '[g]\nh\n[g:vars]\nx={[1]: 2}\n', 4, 1],
  ['semicolon-after-section', '[g]\nh1\n[g:vars] ; note\n', 3, 1],
  ['hosts-list.yml', 'all:\n  hosts:\n    - a\n', 3, 5],
  ['float-host.yml', 'all:\n  hosts:\n    1.5:\n', 3, 5],
  ['hostvars-list.yml', 'all:\n  hosts:\n    a: [1]\n', 3, 8],
  ['syntax.yml', 'all: [\n', 2, 1],
  ['plugin.yml', 'plugin: aws_ec2\n', 1, 1],
  ['child-list.yml', 'all:\n  children:\n    x: []\n', 3, 5],
];

describe.skipIf(!hasAnsibleInventory)('inventory parity with ansible-inventory 2.14', () => {
  const oracle = new Map<string, Oracle>();
  let models: Model[] = [];

  beforeAll(async () => {
    const jobs: Promise<void>[] = [];
    for (const c of CASES) {
      const o: Oracle = { hosts: {} } as Oracle;
      oracle.set(c.name, o);
      jobs.push(ansibleInventory(c.sources, ['--list']).then((r) => void (o.list = r)));
      jobs.push(ansibleInventory(c.sources, ['--graph']).then((r) => void (o.graph = r)));
      jobs.push(ansibleInventory(c.sources, ['--graph', '--vars']).then((r) => void (o.graphVars = r)));
      if (c.extra) {
        jobs.push(ansibleInventory(c.sources, ['--list', '--export']).then((r) => void (o.export = r)));
        jobs.push(ansibleInventory(c.sources, ['--list', '--yaml']).then((r) => void (o.yaml = r)));
        for (const h of c.extra) jobs.push(ansibleInventory(c.sources, ['--host', h]).then((r) => void (o.hosts[h] = r)));
      }
    }
    jobs.push(
      pythonJson<Model[]>(
        MODEL_PY,
        CASES.map((c) => c.sources),
      ).then((m) => void (models = m)),
    );
    await Promise.all(jobs);
  }, 600_000);
  afterAll(() => cleanupOracle());

  it('covers at least 15 inventories', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(15);
  });

  CASES.forEach((c, i) => {
    describe(c.name, () => {
      let inv: Inventory;
      beforeAll(() => {
        inv = loadInventory(c.sources);
      });

      it('--list: same hosts, groups, children and typed hostvars', () => {
        const o = oracle.get(c.name)!;
        expect(o.list.code, o.list.stderr).toBe(0);
        const ours = inventoryListJson(inv);
        expect(JSON.parse(ours)).toEqual(JSON.parse(o.list.stdout));
        if (!c.lossy) expect(ours + '\n').toBe(o.list.stdout);
      });

      it('--graph and --graph --vars: same text', () => {
        const o = oracle.get(c.name)!;
        expect(o.graph.code, o.graph.stderr).toBe(0);
        expect(inventoryGraph(inv) + '\n').toBe(o.graph.stdout);
        if (!c.lossy) expect(inventoryGraph(inv, 'all', { vars: true }) + '\n').toBe(o.graphVars.stdout);
      });

      it("Ansible's model: group host order, depth, priority, parents, group_names, var merge order", () => {
        const m = models[i]!;
        expect(ourModel(inv)).toEqual(m);
      });

      if (c.extra) {
        it('--list --export, --list --yaml and --host', async () => {
          const o = oracle.get(c.name)!;
          expect(o.export!.code, o.export!.stderr).toBe(0);
          expect(JSON.parse(inventoryListJson(inv, { export: true }))).toEqual(JSON.parse(o.export!.stdout));
          const [mine, theirs] = await pythonJson<unknown[]>(YAML_LOAD_PY, [inventoryListYaml(inv), o.yaml!.stdout]);
          expect(mine).toEqual(theirs);
          for (const h of c.extra!) {
            expect(o.hosts[h]!.code, o.hosts[h]!.stderr).toBe(0);
            expect(inventoryHostJson(inv, h) + '\n').toBe(o.hosts[h]!.stdout);
          }
        });
      }
    });
  });

  it('--graph GROUP starts at that group', async () => {
    const src = [join(REPO, 'inventory', 'ceph')];
    const inv = loadInventory(src);
    for (const g of ['k8s_cluster', 'ceph', 'mons']) {
      const r = await ansibleInventory(src, ['--graph', g, '--vars']);
      expect(r.code, r.stderr).toBe(0);
      expect(inventoryGraph(inv, g, { vars: true }) + '\n').toBe(r.stdout);
    }
  });

  describe('broken inventories fail in both', () => {
    let dir: string;
    const theirs = new Map<string, ProcResult>();
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'inv-broken-'));
      await Promise.all(
        BROKEN.map(([name, content]) => {
          writeFileSync(join(dir, name), content);
          return ansibleInventory([join(dir, name)], ['--list']).then((r) => void theirs.set(name, r));
        }),
      );
    }, 600_000);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    for (const [name, , line, col] of BROKEN) {
      it(name, () => {
        const f = join(dir, name);
        expect(theirs.get(name)!.code, `ansible-inventory accepted ${name}`).not.toBe(0);
        let err: unknown;
        try {
          loadInventory(f);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(ParseError);
        const pe = err as ParseError;
        expect(pe.exitCode).toBe(4);
        expect(pe.pos).toEqual({ file: f, line, col });
        expect(pe.hint ?? '').not.toBe('');
      });
    }
  });

  describe('./run inventory (compiled CLI)', () => {
    let cwd: string;
    beforeAll(() => {
      cli();
      cwd = mkdtempSync(join(tmpdir(), 'inv-cli-'));
      mkdirSync(join(cwd, 'x'));
    });
    afterAll(() => rmSync(cwd, { recursive: true, force: true }));

    it('--list -i inventory/ceph prints what ansible-inventory prints', async () => {
      const src = join(REPO, 'inventory', 'ceph');
      const r = await runCli(['inventory', '--list', '-i', src], { cwd });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(oracle.get('inventory/ceph')!.list.stdout);
    });

    it('--graph --vars and --host', async () => {
      const src = join(REPO, 'inventory', 'powerflex-hci');
      const g = await runCli(['inventory', '--graph', '--vars', '-i', src], { cwd });
      expect(g.code, g.stderr).toBe(0);
      expect(g.stdout).toBe(oracle.get('inventory/powerflex-hci')!.graphVars.stdout);
      const h = await runCli(['inventory', '--host', 'pfmp', '-i', src], { cwd });
      expect(h.stdout).toBe(oracle.get('inventory/powerflex-hci')!.hosts.pfmp!.stdout);
    });

    it('a broken inventory exits 4 with file:line:col and a hint', async () => {
      const f = join(cwd, 'x', 'broken');
      writeFileSync(f, '[g]\nweb[01:100]\n');
      const r = await runCli(['inventory', '--list', '-i', f], { cwd });
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(`${f}:2:1: bad host range in 'web[01:100]'`);
      expect(r.stderr).toContain('hint:');
    });

    it('no action is a usage error (exit 5)', async () => {
      const r = await runCli(['inventory', '-i', join(REPO, 'inventory', 'local')], { cwd });
      expect(r.code).toBe(5);
      expect(r.stderr).toContain('--list');
    });
  });
});
