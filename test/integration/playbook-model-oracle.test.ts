/**
 * Fidelity oracle: ansible-playbook (Debian ansible-core 2.14) lists the tasks and tags of every fixture
 * playbook (`--list-tasks --list-tags`, under a range of --tags/--skip-tags selections); our model must
 * compute the same plays, task labels (`role : name`) and tags, in the same order.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { floorModules, listTasks, loadPlaybook, type TagSelection } from '../../src/playbook/index.js';

const ANSIBLE = '/usr/bin/ansible-playbook';
const DIR = join(import.meta.dirname, '..', 'fixtures', 'playbooks', 'oracle');
const ROLES_PATH = [join(DIR, 'extra-roles'), join(DIR, 'sub', 'roles')];
const PLAYBOOKS = readdirSync(DIR).filter((f) => /^\d\d-.*\.yml$/.test(f)).sort();

interface Listed {
  playbook: string;
  plays: { index: number; hosts: string; name: string; tags: string[]; tasks: [string, string[]][]; taskTags: string[] }[];
}

const SELECTIONS: TagSelection[] = [
  {}, { tags: ['web'] }, { tags: ['tagged'] }, { tags: ['untagged'] }, { tags: ['never'] }, { tags: ['always'] },
  { skipTags: ['always'] }, { tags: ['all'], skipTags: ['never'] }, { tags: ['os', 'setup'], skipTags: ['pkg'] },
  { skipTags: ['all'] }, { skipTags: ['tagged'] }, { tags: ['imported'], skipTags: ['copy'] },
  { tags: ['always'], skipTags: ['always'] }, { tags: ['applied'] }, { tags: ['ir', 'imp'] }, { tags: ['outer'], skipTags: ['two'] },
];

const splitTags = (s: string, sep: string): string[] => s.split(sep).map((t) => t.trim()).filter(Boolean).sort();

/** Parse ansible-playbook's listing (play tags come from a Python set: order them). */
function parseAnsible(out: string): Listed[] {
  const res: Listed[] = [];
  for (const line of out.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^playbook: (.*)$/.exec(line))) res.push({ playbook: m[1]!, plays: [] });
    else if ((m = /^ {2}play #(\d+) \((.*)\): (.*)\tTAGS: \[(.*)\]$/.exec(line))) {
      res.at(-1)!.plays.push({ index: Number(m[1]), hosts: m[2]!, name: m[3]!, tags: splitTags(m[4]!, ','), tasks: [], taskTags: [] });
    } else if ((m = /^ {6}TASK TAGS: \[(.*)\]$/.exec(line))) res.at(-1)!.plays.at(-1)!.taskTags = splitTags(m[1]!, ',');
    else if ((m = /^ {6}(.*)\tTAGS: \[(.*)\]$/.exec(line))) res.at(-1)!.plays.at(-1)!.tasks.push([m[1]!, splitTags(m[2]!, ',')]);
  }
  return res;
}

function ours(sel: TagSelection): Listed[] {
  return PLAYBOOKS.map((f) => {
    const pb = loadPlaybook(join(DIR, f), { modules: floorModules(), rolesPath: ROLES_PATH });
    return {
      playbook: f,
      plays: listTasks(pb, sel).map((p) => ({
        index: p.index, hosts: p.hosts, name: p.name, tags: p.tags, tasks: p.tasks.map((t) => [t.name, t.tags] as [string, string[]]), taskTags: p.taskTags,
      })),
    };
  });
}

const home = mkdtempSync(join(tmpdir(), 'pbm-oracle-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function ansibleListing(sel: TagSelection): Listed[] {
  const cfg = join(home, 'ansible.cfg');
  writeFileSync(cfg, '');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('ANSIBLE_')) env[k] = v;
  Object.assign(env, {
    ANSIBLE_CONFIG: cfg, ANSIBLE_HOME: join(home, 'home'), ANSIBLE_LOCAL_TEMP: join(home, 'tmp'), ANSIBLE_NOCOLOR: '1',
    ANSIBLE_ROLES_PATH: ROLES_PATH.join(':'), ANSIBLE_RETRY_FILES_ENABLED: 'false',
  });
  const args = ['-i', 'localhost,', '--list-tasks', '--list-tags'];
  if (sel.tags?.length) args.push('--tags', sel.tags.join(','));
  if (sel.skipTags?.length) args.push('--skip-tags', sel.skipTags.join(','));
  const out = execFileSync(ANSIBLE, [...args, ...PLAYBOOKS], { cwd: DIR, env, encoding: 'utf8', timeout: 90_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAnsible(out);
}

describe('playbook model vs ansible-playbook --list-tasks --list-tags', () => {
  it('has the oracle and enough fixtures', () => {
    expect(existsSync(ANSIBLE), `${ANSIBLE} is required (apt-get install ansible-core)`).toBe(true);
    expect(PLAYBOOKS.length).toBeGreaterThanOrEqual(10);
  });

  let compared = 0;
  it.each(SELECTIONS.map((s) => [`--tags ${s.tags?.join(',') ?? '-'} --skip-tags ${s.skipTags?.join(',') ?? '-'}`, s] as const))('%s', (_label, sel) => {
    const expected = ansibleListing(sel);
    expect(expected.map((p) => p.playbook)).toEqual(PLAYBOOKS);
    const got = ours(sel);
    for (let i = 0; i < PLAYBOOKS.length; i++) expect(got[i], PLAYBOOKS[i]).toEqual(expected[i]);
    compared += expected.flatMap((p) => p.plays.flatMap((pl) => pl.tasks)).length;
  });

  it('compared a meaningful number of tasks', () => {
    console.log(`oracle: ${PLAYBOOKS.length} playbooks × ${SELECTIONS.length} tag selections, ${compared} task lines compared`);
    // 16 selections over 14 playbooks list about 740 task lines
    expect(compared).toBeGreaterThan(600);
  });
});
