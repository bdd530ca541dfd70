/**
 * Test kit for the file modules (src/modules/files): targets (sshd test hosts as root, as `tester` with a
 * sudo password, as `nopass` with NOPASSWD sudo, as `tester` without become, and the local machine), a
 * root-side view of each target that does not go through the code under test (nsenter for test hosts,
 * child_process locally), snapshots of a directory tree (type, mode, owner, size, mtime, ctime, content
 * hash) and the `cycle` every module goes through: check mode (would change, host untouched), a real run
 * with --diff (changed), a second run (ok) and a second check-mode run (ok, host untouched).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Module, ModuleResult } from '../../src/modules/types.js';
import { renderText } from '../../src/template/templar.js';
import { Connections } from '../../src/transport/index.js';
import { LocalTransport } from '../../src/transport/local.js';
import type { BecomeOptions, Transport } from '../../src/transport/types.js';
import { moduleContext } from './modctx.js';
import type { HostUser, TestCluster, TestHost } from './testhosts.js';

export interface Target {
  /** label used in test names */
  label: string;
  transport: Transport;
  become?: boolean | BecomeOptions;
  /** the user the module effectively runs as */
  runsAs: 'root' | 'tester';
  /** scratch directory on the target, writable by runsAs */
  dir: string;
  /** a shell command as root on the target, bypassing the transport under test */
  root(cmd: string): Promise<{ rc: number; stdout: string; stderr: string }>;
  host?: TestHost;
}

let seq = 0;
const NO_BASE = '/nonexistent/burrow-test-controller-dir';

export async function sshTarget(cluster: TestCluster, conns: Connections, h: TestHost, user: HostUser, become: boolean): Promise<Target> {
  const vars: Record<string, unknown> = { ansible_host: h.address, ansible_port: h.port, ansible_user: user };
  if (user === 'tester') vars.ansible_password = cluster.password;
  else vars.ansible_ssh_private_key_file = cluster.keys.ed25519.path;
  const transport = conns.forHost(`${h.name}~${user}~${become ? 'b' : 'n'}`, vars).transport;
  let b: boolean | BecomeOptions | undefined;
  if (become) b = user === 'tester' ? { password: cluster.password } : true;
  const runsAs = user === 'root' || become ? 'root' : 'tester';
  const dir = `/srv/mf-${user}-${become ? 'b' : 'n'}-${++seq}`;
  const root = (cmd: string) => h.exec(cmd);
  const mk = await root(`mkdir -p ${dir} && chown ${runsAs}: ${dir}`);
  if (mk.rc !== 0) throw new Error(`cannot create ${dir}: ${mk.stderr}`);
  const label = `ssh ${user}${become ? '+become' : ''}`;
  return b === undefined ? { label, transport, runsAs, dir, root, host: h } : { label, transport, become: b, runsAs, dir, root, host: h };
}

export function localTarget(become = false): Target {
  const dir = mkdtempSync(join(tmpdir(), 'mf-local-'));
  const root = async (cmd: string) => {
    const p = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', timeout: 60_000 });
    return { rc: p.status ?? -1, stdout: p.stdout, stderr: p.stderr };
  };
  const t: Target = { label: become ? 'local+become' : 'local', transport: new LocalTransport('localhost'), runsAs: 'root', dir, root };
  if (become) t.become = true;
  return t;
}

export interface RunOpts {
  check?: boolean;
  diff?: boolean;
  /** controller dir with files/ and templates/ */
  baseDir?: string;
  vars?: Record<string, unknown>;
}

export async function run(mod: Module, args: Record<string, unknown>, t: Target, o: RunOpts = {}): Promise<ModuleResult & { warnings: string[]; commands: string[] }> {
  // a base dir that does not exist when the test has no controller files (modctx would mkdtemp one per call)
  const ctx = moduleContext(t.transport, { check: o.check ?? false, diff: o.diff ?? false, ...(t.become !== undefined ? { become: t.become } : {}), baseDir: o.baseDir ?? NO_BASE, vars: o.vars ?? {} });
  // the template module's rendering (keeps trailing newlines, no backslash doubling), as the executor will do
  ctx.renderTemplate = (text: string) => renderText(text, o.vars ?? {}, { escapeBackslashes: false });
  const r = await mod.run(args, ctx);
  return Object.assign(r, { warnings: ctx.warnings, commands: ctx.commands });
}

/** type, mode, uid, gid, size, mtime, ctime and SHA-1 of everything under `path` (as root, not via the transport) */
export async function snapshot(t: Target, path: string): Promise<string> {
  const r = await t.root(
    `[ -e ${q(path)} ] || [ -L ${q(path)} ] || { echo ABSENT; exit 0; }; find ${q(path)} -exec stat -c '%n %F %a %u %g %s %Y %Z' {} + | LC_ALL=C sort; find ${q(path)} -type f -exec sha1sum {} + | LC_ALL=C sort; find ${q(path)} -type l -exec sh -c 'for l; do printf "%s -> %s\\n" "$l" "$(readlink "$l")"; done' sh {} +`,
  );
  if (r.rc !== 0) throw new Error(`snapshot failed: ${r.stderr}`);
  return r.stdout;
}

export function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface CycleResult {
  check1: ModuleResult;
  run1: ModuleResult & { warnings: string[]; commands: string[] };
  run2: ModuleResult;
  check2: ModuleResult;
  before: string;
  after: string;
}

/**
 * The contract every module meets: check mode reports the change and leaves the target as it was; the real
 * run (with --diff) changes; the second run is ok; check mode afterwards is ok and changes nothing.
 * `watch` is the tree compared (default: the target's scratch dir).
 */
export async function cycle(mod: Module, args: Record<string, unknown>, t: Target, o: RunOpts & { watch?: string; alwaysChanged?: boolean } = {}): Promise<CycleResult> {
  const watch = o.watch ?? t.dir;
  const before = await snapshot(t, watch);
  const check1 = await run(mod, args, t, { ...o, check: true, diff: true });
  expect(check1.failed, `check run failed: ${String(check1.msg)}`).toBeFalsy();
  expect(check1.changed, 'check mode reports the change').toBe(true);
  expect(await snapshot(t, watch), 'check mode changed nothing').toBe(before);
  const run1 = await run(mod, args, t, { ...o, diff: true });
  expect(run1.failed, `first run failed: ${String(run1.msg)}`).toBeFalsy();
  expect(run1.changed, 'first run changes').toBe(true);
  const after = await snapshot(t, watch);
  expect(after, 'the first run changed the target').not.toBe(before);
  const run2 = await run(mod, args, t, o);
  expect(run2.failed, `second run failed: ${String(run2.msg)}`).toBeFalsy();
  expect(run2.changed, 'second run is ok').toBe(o.alwaysChanged ?? false);
  const mid = await snapshot(t, watch);
  const check2 = await run(mod, args, t, { ...o, check: true, diff: true });
  expect(check2.failed).toBeFalsy();
  expect(check2.changed, 'check mode after the change is ok').toBe(o.alwaysChanged ?? false);
  expect(await snapshot(t, watch), 'second check run changed nothing').toBe(mid);
  return { check1, run1, run2, check2, before, after };
}

/** stat -c of one path as root: `%F %a %U %G %s` */
export async function statOf(t: Target, path: string): Promise<string> {
  const r = await t.root(`stat -c '%F %a %U %G %s' ${q(path)}`);
  return r.rc === 0 ? r.stdout.trim() : 'absent';
}

export async function readAs(t: Target, path: string): Promise<string> {
  const r = await t.root(`cat ${q(path)}`);
  if (r.rc !== 0) throw new Error(`cannot read ${path}: ${r.stderr}`);
  return r.stdout;
}

/** writes a file as root, then gives everything created under the scratch dir to the target's user */
export async function write(t: Target, path: string, content: string, mode = '644'): Promise<void> {
  const top = path.startsWith(`${t.dir}/`) ? `${t.dir}/${path.slice(t.dir.length + 1).split('/')[0]}` : path;
  const r = await t.root(`mkdir -p "$(dirname ${q(path)})" && printf '%s' ${q(content)} > ${q(path)} && chmod ${mode} ${q(path)} && chown -R ${t.runsAs}: ${q(top)}`);
  if (r.rc !== 0) throw new Error(`cannot write ${path}: ${r.stderr}`);
}

export function which(cmd: string): boolean {
  try {
    execFileSync('/bin/sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
