/**
 * Variable precedence parity with real Ansible. The same project is read by ansible-playbook (a debug
 * play that prints every variable) and by our Project: inventory group vars by depth/priority/name,
 * group_vars/ beside the inventory and beside the playbook (our project dir), host_vars, inline host vars,
 * vars.yml as -e @file and -e key=value. Every variable must come out the same, with the same type.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRunConfig } from '../../src/config/config.js';
import { loadProject } from '../../src/vars/project.js';

function write(root: string, rel: string, text: string): void {
  const p = join(root, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
}

const NAMES = ['v_all', 'v_depth', 'v_prio', 'v_name', 'v_gvall', 'v_gv', 'v_gvdir', 'v_host', 'v_hv', 'v_extra', 'v_cli', 'v_tpl', 'v_types', 'v_proj'];

function buildProject(): string {
  const d = mkdtempSync(join(tmpdir(), 'prec-'));
  write(d, 'run.cfg', '[defaults]\ninventory = inventory/hosts\n');
  write(
    d,
    'inventory/hosts',
    `[top]
h1 v_host=inline v_types=0644
h2

[top:children]
mid

[mid]
h1

[mid:children]
leaf

[leaf]
h1

[zeta]
h1

[alpha]
h1

[alpha:vars]
v_name=alpha
v_prio=alpha

[zeta:vars]
v_name=zeta
v_prio=zeta
ansible_group_priority=0

[all:vars]
v_all=all
v_depth=all
v_name=all

[top:vars]
v_depth=top
[mid:vars]
v_depth=mid
[leaf:vars]
v_depth=leaf
`,
  );
  write(d, 'inventory/group_vars/all.yml', 'v_gvall: inv-all\nv_gv: inv-all\nv_proj: inv-all\n');
  write(d, 'inventory/group_vars/mid.yml', 'v_gv: inv-mid\nv_all: inv-mid-file\n');
  write(d, 'inventory/group_vars/leaf/a.yml', 'v_gvdir: a\n');
  write(d, 'inventory/group_vars/leaf/b.yml', 'v_gvdir: b\nv_host: from-group-file\n');
  write(d, 'group_vars/all/x.yml', 'v_proj: proj-all\nv_gvall: proj-all\n');
  write(d, 'group_vars/top.yml', 'v_gv: proj-top\n');
  write(d, 'inventory/host_vars/h1.yml', 'v_hv: inv-host\nv_extra: host\n');
  write(d, 'host_vars/h1.yml', 'v_hv: proj-host\n');
  write(d, 'vars.yml', 'v_extra: varsyml\nv_cli: varsyml\nv_tpl: "{{ v_depth }}-{{ v_gv }}"\n');
  write(
    d,
    'site.yml',
    `- hosts: all
  gather_facts: false
  tasks:
    - debug:
        msg: "{{ {${NAMES.map((n) => `'${n}': ${n} | default('UNDEF')`).join(', ')}} | to_json }}"
`,
  );
  return d;
}

describe('variable precedence matches ansible-playbook', () => {
  it('merges every source in Ansible order, per host', () => {
    const d = buildProject();
    const out = execFileSync('ansible-playbook', ['-i', 'inventory/hosts', 'site.yml', '-e', '@vars.yml', '-e', 'v_cli=cli'], {
      cwd: d,
      env: { ...process.env, ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: '0' },
    }).toString();
    const json = JSON.parse(out.slice(out.indexOf('{')));
    const hosts = json.plays[0].tasks[0].hosts as Record<string, { msg: string }>;
    const project = loadProject({ config: loadRunConfig({ cwd: d, env: {} }), cwd: d, extraVars: ['v_cli=cli'] });
    let compared = 0;
    for (const h of ['h1', 'h2']) {
      const theirs = JSON.parse(hosts[h]!.msg) as Record<string, unknown>;
      const scope = project.scope(h);
      const ours: Record<string, unknown> = {};
      for (const n of NAMES) ours[n] = scope.has(n) ? scope.get(n) : 'UNDEF';
      expect(ours, `host ${h}`).toEqual(theirs);
      compared += NAMES.length;
    }
    expect(compared).toBe(28);
    // Spot checks that make the intent readable (and would catch a shared mistake in both).
    const s = project.scope('h1');
    expect(s.get('v_depth')).toBe('leaf');
    expect(s.get('v_prio')).toBe('alpha'); // zeta has priority 0 < alpha's 1, so alpha merges later and wins
    expect(s.get('v_hv')).toBe('proj-host');
    expect(s.get('v_cli')).toBe('cli');
    // playbook-adjacent (project) group_vars of any group beat inventory-adjacent ones of deeper groups
    expect(s.get('v_tpl')).toBe('leaf-proj-top');
    expect(s.definitions('v_gv').map((x) => x.layer.kind)).toEqual(['group_vars (beside the inventory)', 'group_vars (beside the inventory)', 'group_vars (project)']);
  });
});
