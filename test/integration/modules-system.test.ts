/**
 * The system modules on real sshd test hosts (test/support/testhosts.ts), through the real ssh transport
 * (`Connections`) and a real ModuleContext (test/support/modctx.ts):
 *  - command / shell / raw: rc, quoting of tricky arguments, creates/removes, chdir, stdin, become as
 *    `tester` (sudo password) and `nopass` (NOPASSWD), check mode;
 *  - package: apt/dpkg for real on host 1 (a package whose .deb is already in the machine's apt cache, so no
 *    download), dnf on host 2 against the dnf/rpm stand-ins (test/support/standins/);
 *  - service / systemd against the systemctl stand-in (host 2), and the honest failure without it (host 1);
 *  - uri against a small HTTP server listening on host 1's loopback address; wait_for on a port and a file
 *    with its timeout honoured; pause; ping; setup; pip offline into a virtualenv from a local wheel.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connections } from '../../src/transport/index.js';
import { TransportError } from '../../src/transport/errors.js';
import type { ExecOptions, ExecResult, Transport } from '../../src/transport/types.js';
import type { BecomeOptions } from '../../src/transport/types.js';
import { SYSTEM_MODULES } from '../../src/modules/system/index.js';
import type { ModuleResult } from '../../src/modules/types.js';
import { moduleContext, type TestContextOptions } from '../support/modctx.js';
import { installStandins, rpmDb, setDnfRepo, setRpmDb, standinCalls, writeUnit } from '../support/standins/index.js';
import { startHosts, type HostUser, type TestCluster, type TestHost } from '../support/testhosts.js';

let cluster: TestCluster;
let h1: TestHost; // plain Debian root: apt/dpkg real, no stand-ins
let h2: TestHost; // with the systemctl / dnf / rpm stand-ins
let conns: Connections;

const MODS = new Map(SYSTEM_MODULES.map((m) => [m.name, m]));

beforeAll(async () => {
  cluster = await startHosts({ count: 2, namePrefix: 'msys' });
  [h1, h2] = cluster.hosts as [TestHost, TestHost];
  installStandins(h2);
  conns = new Connections({ knownHostsFile: cluster.knownHostsFile, hostKeyChecking: 'strict', agent: false, connectTimeout: 10 });
}, 120_000);

afterAll(async () => {
  await conns?.closeAll();
  await cluster?.stop();
}, 60_000);

/** A transport that also records every command line (what -vvv and `ps` on the target would show). */
class Recording implements Transport {
  readonly lines: string[] = [];
  constructor(private readonly inner: Transport) {}
  get host(): string {
    return this.inner.host;
  }
  get kind(): 'ssh' | 'local' {
    return this.inner.kind;
  }
  connect(): Promise<void> {
    return this.inner.connect();
  }
  exec(cmd: string, opts?: ExecOptions): Promise<ExecResult> {
    this.lines.push(cmd);
    return this.inner.exec(cmd, opts);
  }
  put(...a: Parameters<Transport['put']>): Promise<void> {
    return this.inner.put(...a);
  }
  get(...a: Parameters<Transport['get']>): Promise<Buffer> {
    return this.inner.get(...a);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function transport(h: TestHost, user: HostUser = 'root'): Transport {
  const vars: Record<string, unknown> = { ansible_host: h.address, ansible_port: h.port, ansible_user: user };
  if (user === 'tester') vars.ansible_password = cluster.password;
  else vars.ansible_ssh_private_key_file = cluster.keys.ed25519.path;
  return conns.forHost(`${h.name}~${user}`, vars).transport;
}

interface RunOpts extends TestContextOptions {
  user?: HostUser;
  freeForm?: string;
  record?: Recording;
}

async function run(h: TestHost, module: string, args: Record<string, unknown>, opts: RunOpts = {}): Promise<ModuleResult & { warnings: string[] }> {
  const mod = MODS.get(module);
  if (!mod) throw new Error(`no module ${module}`);
  const t = opts.record ?? transport(h, opts.user);
  const ctx = moduleContext(t, opts);
  const r = await mod.run(args, ctx, opts.freeForm);
  return Object.assign(r, { warnings: ctx.warnings });
}

const cmd = (h: TestHost, freeForm: string, args: Record<string, unknown> = {}, opts: RunOpts = {}) => run(h, 'command', args, { ...opts, freeForm });
const shellRun = (h: TestHost, freeForm: string, args: Record<string, unknown> = {}, opts: RunOpts = {}) => run(h, 'shell', args, { ...opts, freeForm });

// ───────────────────────────────────────────── command / shell / raw ─────────────────────────────────────────────

describe('command', () => {
  it('runs a program: rc, stdout stripped of the trailing newline, changed, cmd as a list, timing fields', async () => {
    const r = await cmd(h1, 'echo hello "big world"');
    expect(r).toMatchObject({ changed: true, rc: 0, stdout: 'hello big world', stderr: '', cmd: ['echo', 'hello', 'big world'], msg: '' });
    expect(r.failed).toBeUndefined();
    expect(r.stdout_lines).toEqual(['hello big world']);
    expect(r.start).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    expect(r.delta).toMatch(/^0:00:0\d\.\d{6}$/);
    const host = await cmd(h1, 'hostname');
    expect(host.stdout).toBe(h1.name);
  });

  it('non-zero rc → failed "non-zero return code", output kept', async () => {
    const r = await cmd(h1, 'ls /definitely/not/here');
    expect(r).toMatchObject({ failed: true, changed: true, rc: 2, msg: 'non-zero return code' });
    expect(r.stderr).toContain('No such file or directory');
  });

  it('never goes through a shell: metacharacters, quotes and variables reach the program literally', async () => {
    const r = await cmd(h1, `printf '[%s]\\n' 'a b' "c'd" 'e"f' '*' 'x;y' '\`id\`' '' 'back\\slash' "tab\there" '$(id)' '&&' '>out'`);
    expect(r.rc).toBe(0);
    expect(r.stdout_lines).toEqual(['[a b]', "[c'd]", '[e"f]', '[*]', '[x;y]', '[`id`]', '[]', '[back\\slash]', '[tab\there]', '[$(id)]', '[&&]', '[>out]']);
    // like Ansible (os.path.expandvars / expanduser on the target): $VAR, ${VAR}, a leading ~ — unset stays as written
    const v = await cmd(h1, `printf '[%s]\\n' $HOME '\${HOME}x' '$NO_SUCH_VAR_XYZ' '\${NO_SUCH_VAR_XYZ}' ~ ~root/sub ~nosuchuser/x 'a~b' '$1'`);
    expect(v.stdout_lines).toEqual(['[/root]', '[/rootx]', '[$NO_SUCH_VAR_XYZ]', '[${NO_SUCH_VAR_XYZ}]', '[/root]', '[/root/sub]', '[~nosuchuser/x]', '[a~b]', '[$1]']);
    // argv form: words as given, including newlines and unicode
    const a = await run(h1, 'command', { argv: ['printf', '<%s>', 'line1\nline2', 'ünï cødé', '--', "it's"] });
    expect(a.stdout).toBe("<line1\nline2><ünï cødé><--><it's>");
    expect(a.cmd).toEqual(['printf', '<%s>', 'line1\nline2', 'ünï cødé', '--', "it's"]);
    // a pipe is just an argument to echo
    expect((await cmd(h1, 'echo a | wc -l')).stdout).toBe('a | wc -l');
  });

  it('a missing program: rc 2, failed, not changed (Ansible: [Errno 2])', async () => {
    const r = await cmd(h1, 'no-such-program-xyz --flag');
    expect(r).toMatchObject({ failed: true, changed: false, rc: 2 });
    expect(r.msg).toContain("No such file or directory: b'no-such-program-xyz'");
  });

  it('creates / removes (globs, relative to chdir) skip the command; check mode reports what would run', async () => {
    await h1.exec('mkdir -p /srv/cr && touch /srv/cr/marker.done');
    const skip = await cmd(h1, 'touch /srv/cr/should-not-exist', { creates: '/srv/cr/*.done' });
    expect(skip).toMatchObject({ changed: false, rc: 0, stdout: 'skipped, since /srv/cr/*.done exists', msg: "Did not run command since '/srv/cr/*.done' exists" });
    const rel = await cmd(h1, 'touch should-not-exist', { chdir: '/srv/cr', creates: 'marker.done' });
    expect(rel.changed).toBe(false);
    const rm = await cmd(h1, 'touch /srv/cr/should-not-exist', { removes: '/srv/cr/nothing-*' });
    expect(rm).toMatchObject({ changed: false, msg: "Did not run command since '/srv/cr/nothing-*' does not exist" });
    expect((await h1.exec('ls /srv/cr')).stdout.trim()).toBe('marker.done');
    const ran = await cmd(h1, 'touch /srv/cr/made', { creates: '/srv/cr/made' });
    expect(ran).toMatchObject({ changed: true, rc: 0 });
    expect((await cmd(h1, 'touch /srv/cr/made', { creates: '/srv/cr/made' })).changed).toBe(false);
    const rmRuns = await cmd(h1, 'rm /srv/cr/made', { removes: '/srv/cr/made' });
    expect(rmRuns.changed).toBe(true);

    const checkSkip = await cmd(h1, 'touch /srv/cr/x', { creates: '/srv/cr/marker.done' }, { check: true });
    expect(checkSkip.msg).toBe("Would not run command since '/srv/cr/marker.done' exists");
    const checkRun = await cmd(h1, 'touch /srv/cr/x', {}, { check: true });
    expect(checkRun).toMatchObject({ changed: false, skipped: true, msg: 'Command would have run if not in check mode' });
    expect((await h1.exec('test -e /srv/cr/x')).rc).not.toBe(0);
  });

  it('chdir: runs there; a missing directory fails before running', async () => {
    const r = await cmd(h1, 'pwd', { chdir: '/usr/share' });
    expect(r.stdout).toBe('/usr/share');
    const bad = await cmd(h1, 'touch /tmp/chdir-should-not-run', { chdir: '/no/such/dir' });
    expect(bad).toMatchObject({ failed: true, changed: false });
    expect(bad.msg).toContain('Unable to change directory before execution');
    expect((await h1.exec('test -e /tmp/chdir-should-not-run')).rc).not.toBe(0);
  });

  it('stdin (with the newline Ansible adds, or without); strip_empty_ends: false keeps trailing newlines', async () => {
    expect((await cmd(h1, 'od -c', { stdin: 'hi' })).stdout).toContain('h   i  \\n');
    expect((await cmd(h1, 'od -c', { stdin: 'hi', stdin_add_newline: false })).stdout).not.toContain('\\n');
    expect((await cmd(h1, 'cat', { stdin: 'multi\nline' })).stdout_lines).toEqual(['multi', 'line']);
    expect((await cmd(h1, "printf 'x\\n\\n'", { strip_empty_ends: false })).stdout).toBe('x\n\n');
    // no stdin given: the program sees EOF at once (cat does not hang)
    expect((await cmd(h1, 'cat')).stdout).toBe('');
  });

  it('become: tester with a sudo password, nopass with NOPASSWD, root becoming tester; a wrong password is a become failure', async () => {
    const pw: BecomeOptions = { password: cluster.password };
    expect((await cmd(h1, 'id -un', {}, { user: 'tester' })).stdout).toBe('tester');
    expect((await cmd(h1, 'id -un', {}, { user: 'tester', become: pw })).stdout).toBe('root');
    expect((await cmd(h1, 'id -un', {}, { user: 'nopass', become: true })).stdout).toBe('root');
    expect((await cmd(h1, 'id -un', {}, { user: 'root', become: { user: 'tester' } })).stdout).toBe('tester');
    // stdin still reaches the command after sudo's password
    expect((await cmd(h1, 'cat', { stdin: 'after-sudo' }, { user: 'tester', become: pw })).stdout).toBe('after-sudo');
    const e = await cmd(h1, 'id -un', {}, { user: 'tester', become: { password: 'wrong-password' } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).reason).toBe('become');
  });
});

describe('shell', () => {
  it('goes through /bin/sh: pipes, variables, redirections; cmd is the text', async () => {
    const r = await shellRun(h1, 'echo $((6*7)) | tr 4 X; echo to-err >&2; HOME=/x; echo "$HOME"');
    expect(r).toMatchObject({ rc: 0, changed: true, stdout: 'X2\n/x', stderr: 'to-err', cmd: 'echo $((6*7)) | tr 4 X; echo to-err >&2; HOME=/x; echo "$HOME"' });
    const fail = await shellRun(h1, 'exit 3');
    expect(fail).toMatchObject({ rc: 3, failed: true, msg: 'non-zero return code' });
  });

  it('executable chooses the shell; chdir and creates work as for command', async () => {
    const r = await shellRun(h1, 'echo "${BASH_VERSION:+bash}"; [[ 1 == 1 ]] && echo ok', { executable: '/bin/bash' });
    expect(r.stdout).toBe('bash\nok');
    const d = await shellRun(h1, 'pwd; ls | head -n 1', { chdir: '/etc' });
    expect(String(d.stdout).split('\n')[0]).toBe('/etc');
    expect((await shellRun(h1, 'echo x', { creates: '/etc/pass*' })).changed).toBe(false);
  });
});

describe('raw', () => {
  it('runs the text as is, output unstripped, rc failure, skipped in check mode', async () => {
    const r = await run(h1, 'raw', {}, { freeForm: 'echo raw; echo e >&2' });
    expect(r).toMatchObject({ changed: true, rc: 0, stdout: 'raw\n', stderr: 'e\n', stdout_lines: ['raw'] });
    const f = await run(h1, 'raw', {}, { freeForm: 'exit 4' });
    expect(f).toMatchObject({ failed: true, rc: 4, msg: 'non-zero return code' });
    const c = await run(h1, 'raw', {}, { freeForm: 'touch /tmp/raw-check', check: true });
    expect(c.skipped).toBe(true);
    expect((await h1.exec('test -e /tmp/raw-check')).rc).not.toBe(0);
    const b = await run(h1, 'raw', { executable: '/bin/bash' }, { freeForm: 'echo $0', user: 'nopass', become: true });
    expect(String(b.stdout).trim()).toBe('/bin/bash');
  });
});

describe('ping and setup', () => {
  it('ping: pong (also with become), data echoed, data=crash fails', async () => {
    expect(await run(h1, 'ping', {})).toMatchObject({ changed: false, ping: 'pong' });
    expect(await run(h1, 'ping', { data: 'hello' }, { user: 'tester', become: { password: cluster.password } })).toMatchObject({ ping: 'hello' });
    expect(await run(h1, 'ping', { data: 'crash' })).toMatchObject({ failed: true, msg: 'boom' });
  });

  it('setup: fresh facts of the host; filter keeps matching names; the package manager differs per host', async () => {
    const r = await run(h1, 'setup', {});
    const f = r.ansible_facts as Record<string, unknown>;
    expect(f.ansible_hostname).toBe(h1.name);
    expect(f.ansible_os_family).toBe('Debian');
    expect(f.ansible_pkg_mgr).toBe('apt');
    expect(f.module_setup).toBe(true);
    const f2 = (await run(h2, 'setup', { filter: ['ansible_pkg_mgr', 'ansible_host*'] })).ansible_facts as Record<string, unknown>;
    expect(f2.ansible_pkg_mgr).toBe('dnf'); // the dnf stand-in is first on PATH
    expect(f2.ansible_hostname).toBe(h2.name);
    expect(Object.keys(f2).filter((k) => k.startsWith('ansible_')).sort()).toEqual(['ansible_hostname', 'ansible_pkg_mgr']);
  });
});

// ───────────────────────────────────────────── package ─────────────────────────────────────────────

/** A small package whose .deb is in the machine's apt cache and whose dependencies are installed. */
const APT_PKG = 'libjs-prettify';

function dpkgInstalled(h: TestHost, name: string): Promise<boolean> {
  return h.exec(`dpkg-query -W -f='\${db:Status-Abbrev}' ${name} 2>/dev/null`).then((r) => r.stdout.startsWith('ii'));
}

describe('package with apt (real dpkg on the test host)', () => {
  it('installed → second run unchanged → check-mode absent → absent → absent again unchanged', async () => {
    expect(await dpkgInstalled(h1, APT_PKG)).toBe(false);
    const check = await run(h1, 'package', { name: APT_PKG }, { check: true });
    expect(check).toMatchObject({ changed: true });
    expect(await dpkgInstalled(h1, APT_PKG)).toBe(false);

    const inst = await run(h1, 'package', { name: APT_PKG, state: 'present' });
    expect(inst.failed).toBeUndefined();
    expect(inst.changed).toBe(true);
    expect((inst.results as string[])[0]).toMatch(new RegExp(`^Installed: ${APT_PKG}-`));
    expect(await dpkgInstalled(h1, APT_PKG)).toBe(true);

    const again = await run(h1, 'package', { name: [APT_PKG], state: 'present' });
    expect(again).toMatchObject({ changed: false, msg: 'Nothing to do' });
    // latest: the cached version is the candidate, so nothing to upgrade (check mode and real)
    expect((await run(h1, 'package', { name: APT_PKG, state: 'latest' }, { check: true })).changed).toBe(false);
    expect((await run(h1, 'package', { name: APT_PKG, state: 'latest' })).changed).toBe(false);

    const checkAbsent = await run(h1, 'package', { name: APT_PKG, state: 'absent' }, { check: true });
    expect(checkAbsent.changed).toBe(true);
    expect(await dpkgInstalled(h1, APT_PKG)).toBe(true);

    const rm = await run(h1, 'package', { name: APT_PKG, state: 'absent' });
    expect(rm.changed).toBe(true);
    expect((rm.results as string[])[0]).toMatch(new RegExp(`^Removed: ${APT_PKG}-`));
    expect(await dpkgInstalled(h1, APT_PKG)).toBe(false);
    expect((await run(h1, 'package', { name: APT_PKG, state: 'absent' })).changed).toBe(false);
  });

  it('a local .deb file by path; an unknown package fails with apt’s message', async () => {
    const deb = execFileSync('sh', ['-c', `ls /var/cache/apt/archives/${APT_PKG}_*.deb | head -n 1`], { encoding: 'utf8' }).trim();
    const r = await run(h1, 'package', { name: deb });
    expect(r.changed).toBe(true);
    expect(await dpkgInstalled(h1, APT_PKG)).toBe(true);
    expect((await run(h1, 'package', { name: deb })).changed).toBe(false);
    expect((await run(h1, 'package', { name: APT_PKG, state: 'absent' })).changed).toBe(true);

    const bad = await run(h1, 'package', { name: 'no-such-package-burrow-xyz' });
    expect(bad).toMatchObject({ failed: true, changed: false });
    expect(bad.msg).toMatch(/Unable to locate package no-such-package-burrow-xyz/);
  });

  it('become as tester with a password (apt needs root)', async () => {
    const r = await run(h1, 'package', { name: APT_PKG }, { user: 'tester', become: { password: cluster.password } });
    expect(r.changed).toBe(true);
    expect((await run(h1, 'package', { name: APT_PKG, state: 'absent' }, { user: 'nopass', become: true })).changed).toBe(true);
  });
});

describe('package with dnf (dnf/rpm stand-ins on host 2)', () => {
  it('installed → unchanged → latest upgrades → absent; honest changed from the rpm database', async () => {
    setDnfRepo(h2, [
      { name: 'demo-tool', vr: '1.0-1.el9', arch: 'x86_64' },
      { name: 'demo-tool', vr: '1.1-2.el9', arch: 'x86_64' },
      { name: 'demo-lib', vr: '2.0-1.el9' },
    ]);
    setRpmDb(h2, [{ name: 'demo-tool', vr: '1.0-1.el9', arch: 'x86_64' }]);
    // the stand-ins say what they are
    expect((await h2.exec('dnf --version; rpm --version; systemctl --version')).stdout.match(/TEST STAND-IN/g)).toHaveLength(3);
    const calls0 = standinCalls(h2, 'dnf').length;

    const inst = await run(h2, 'package', { name: ['demo-tool', 'demo-lib'] });
    expect(inst.changed).toBe(true);
    expect(inst.results).toEqual(['Installed: demo-lib-2.0-1.el9.noarch']);
    expect(rpmDb(h2)).toContain('demo-lib 2.0-1.el9 noarch');
    expect(standinCalls(h2, 'dnf').slice(calls0)).toEqual(['-y install demo-lib']); // only the missing one, non-interactively

    const again = await run(h2, 'package', { name: ['demo-tool', 'demo-lib'] });
    expect(again.changed).toBe(false);
    expect(standinCalls(h2, 'dnf').length).toBe(calls0 + 1); // no dnf call at all

    const wouldUp = await run(h2, 'package', { name: 'demo-tool', state: 'latest' }, { check: true });
    expect(wouldUp.changed).toBe(true);
    expect(rpmDb(h2)).toContain('demo-tool 1.0-1.el9 x86_64');

    const up = await run(h2, 'package', { name: 'demo-tool', state: 'latest' });
    expect(up.changed).toBe(true);
    expect(up.results).toEqual(['Upgraded: demo-tool 1.0-1.el9.x86_64 -> 1.1-2.el9.x86_64']);
    expect((await run(h2, 'package', { name: 'demo-tool', state: 'latest' })).changed).toBe(false);
    expect((await run(h2, 'package', { name: 'demo-tool', state: 'latest' }, { check: true })).changed).toBe(false);

    const rm = await run(h2, 'package', { name: ['demo-tool', 'demo-lib'], state: 'absent' });
    expect(rm.changed).toBe(true);
    expect(rpmDb(h2)).toEqual([]);
    expect((await run(h2, 'package', { name: ['demo-tool', 'demo-lib'], state: 'absent' })).changed).toBe(false);
  });

  it('a package the repository lacks fails with dnf’s message and changes nothing', async () => {
    setDnfRepo(h2, [{ name: 'demo-lib', vr: '2.0-1.el9' }]);
    setRpmDb(h2, []);
    const r = await run(h2, 'package', { name: ['demo-lib', 'not-in-repo'] });
    expect(r).toMatchObject({ failed: true, changed: false });
    expect(r.msg).toContain('Unable to find a match');
    expect(rpmDb(h2)).toEqual([]);
    // use: apt on a host whose facts say dnf: the module obeys `use`
    const viaApt = await run(h2, 'package', { name: 'bash', use: 'apt' });
    expect(viaApt.changed).toBe(false);
  });
});

// ───────────────────────────────────────────── service / systemd ─────────────────────────────────────────────

describe('service and systemd (systemctl stand-in on host 2)', () => {
  beforeAll(() => {
    writeUnit(h2, 'demo.service', { reload: true });
    writeUnit(h2, 'static-demo.service', { install: false });
  });

  const actions = (): string[] => standinCalls(h2, 'systemctl').filter((c) => /^(start|stop|restart|reload|enable|disable|mask|unmask|daemon-reload)\b/.test(c));

  it('started / enabled change only on a real state change; restarted and reloaded always act', async () => {
    const n0 = actions().length;
    const start = await run(h2, 'service', { name: 'demo', state: 'started', enabled: true });
    expect(start).toMatchObject({ changed: true, name: 'demo', state: 'started', enabled: true });
    expect((start.status as Record<string, string>).ActiveState).toBe('active');
    expect(actions().slice(n0)).toEqual(['enable demo', 'start demo']);
    expect((await h2.exec('systemctl is-active demo; systemctl is-enabled demo')).stdout.split('\n').slice(0, 2)).toEqual(['active', 'enabled']);

    const again = await run(h2, 'service', { name: 'demo', state: 'started', enabled: true });
    expect(again.changed).toBe(false);
    expect(actions().length).toBe(n0 + 2);

    expect((await run(h2, 'service', { name: 'demo', state: 'restarted' })).changed).toBe(true);
    expect((await run(h2, 'systemd', { name: 'demo.service', state: 'reloaded' })).changed).toBe(true);
    expect(actions().slice(n0 + 2)).toEqual(['restart demo', 'reload demo.service']);

    const stop = await run(h2, 'systemd', { name: 'demo', state: 'stopped', enabled: false });
    expect(stop.changed).toBe(true);
    expect((await run(h2, 'systemd', { name: 'demo', state: 'stopped', enabled: false })).changed).toBe(false);
    expect((await h2.exec('systemctl is-active demo')).stdout.trim()).toBe('inactive');
  });

  it('check mode plans without acting; daemon_reload alone is not a change', async () => {
    const n0 = actions().length;
    const c = await run(h2, 'service', { name: 'demo', state: 'started' }, { check: true });
    expect(c.changed).toBe(true);
    expect((await h2.exec('systemctl is-active demo')).stdout.trim()).toBe('inactive');
    expect(actions().length).toBe(n0);
    const dr = await run(h2, 'systemd', { daemon_reload: true });
    expect(dr.changed).toBe(false);
    expect(actions().slice(n0)).toEqual(['daemon-reload']);
  });

  it('a static unit counts as enabled; reload of a unit without ExecReload fails with systemctl’s words; masking', async () => {
    expect((await run(h2, 'systemd', { name: 'static-demo', enabled: true })).changed).toBe(false);
    await run(h2, 'systemd', { name: 'static-demo', state: 'started' });
    const rl = await run(h2, 'systemd', { name: 'static-demo', state: 'reloaded' });
    expect(rl).toMatchObject({ failed: true });
    expect(rl.msg).toContain('Job type reload is not applicable');
    expect((await run(h2, 'systemd', { name: 'demo', masked: true })).changed).toBe(true);
    expect((await run(h2, 'systemd', { name: 'demo', masked: true })).changed).toBe(false);
    const masked = await run(h2, 'systemd', { name: 'demo', state: 'started' });
    expect(masked).toMatchObject({ failed: true });
    expect(masked.msg).toContain('masked');
    expect((await run(h2, 'systemd', { name: 'demo', masked: false })).changed).toBe(true);
  });

  it('an unknown unit fails; as tester with sudo; without systemd or a stand-in the failure is honest', async () => {
    const r = await run(h2, 'service', { name: 'no-such-unit', state: 'started' });
    expect(r).toMatchObject({ failed: true, msg: 'Could not find the requested service no-such-unit: host' });
    const t = await run(h2, 'service', { name: 'demo', state: 'started' }, { user: 'tester', become: { password: cluster.password } });
    expect(t.changed).toBe(true);
    // host 1: no stand-in; the real systemctl of the image refuses (no systemd running as PID 1)
    const h = await run(h1, 'service', { name: 'ssh', state: 'started' });
    expect(h.failed).toBe(true);
    expect(String(h.msg)).toMatch(/systemd|systemctl|Could not find/);
    expect(String((await h2.exec('systemctl --version')).stdout)).toContain('TEST STAND-IN');
  });
});

// ───────────────────────────────────────────── uri ─────────────────────────────────────────────

describe('uri (curl on the target, against an HTTP server on host 1’s loopback address)', () => {
  let server: Server;
  let base: string;
  const SECRET = 'S3cr3t-PassW0rd!';
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        const url = req.url ?? '/';
        if (url === '/json') {
          res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '20', 'Set-Cookie': 'sid=abc123; Path=/' });
          res.end('{"a":1,"list":[1,2]}');
        } else if (url === '/text') {
          res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Custom-Header': 'yes' });
          res.end('plain text\n');
        } else if (url === '/echo') {
          res.writeHead(201, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ method: req.method, contentType: req.headers['content-type'] ?? null, token: req.headers['x-token'] ?? null, body }));
        } else if (url === '/auth') {
          const want = 'Basic ' + Buffer.from(`admin:${SECRET}`).toString('base64');
          if (req.headers.authorization === want) {
            res.writeHead(200, { 'Content-Type': 'text/plain' });
            res.end('welcome');
          } else {
            res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="t"' });
            res.end('no');
          }
        } else if (url === '/redirect') {
          res.writeHead(302, { Location: '/json' });
          res.end();
        } else if (url.startsWith('/status/')) {
          res.writeHead(Number(url.slice(8)));
          res.end('status body');
        } else if (url === '/slow') {
          setTimeout(() => {
            res.writeHead(200);
            res.end('late');
          }, 6000).unref();
        } else {
          res.writeHead(404, { 'Content-Type': 'text/plain' });
          res.end('not found');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, h1.address, r));
    const addr = server.address() as { port: number };
    base = `http://${h1.address}:${addr.port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('GET: status, msg, headers lowercased, cookies, json; content only with return_content', async () => {
    const r = await run(h1, 'uri', { url: `${base}/json` });
    expect(r).toMatchObject({ changed: false, status: 200, url: `${base}/json`, redirected: false, msg: 'OK (20 bytes)', content_type: 'application/json', content_length: '20' });
    expect(r.json).toEqual({ a: 1, list: [1, 2] });
    expect(r.cookies).toEqual({ sid: 'abc123' });
    expect(r.content).toBeUndefined();
    const t = await run(h1, 'uri', { url: `${base}/text`, return_content: true });
    expect(t).toMatchObject({ content: 'plain text\n', x_custom_header: 'yes' });
    expect(t.json).toBeUndefined();
    expect(seen.at(-1)!.headers['user-agent']).toBe('ansible-httpget');
  });

  it('status codes: 404 fails with Ansible’s message, unless listed in status_code', async () => {
    const r = await run(h1, 'uri', { url: `${base}/status/404` });
    expect(r).toMatchObject({ failed: true, status: 404, msg: 'Status code was 404 and not [200]: HTTP Error 404: Not Found' });
    expect((await run(h1, 'uri', { url: `${base}/status/404`, status_code: [200, 404] })).failed).toBeUndefined();
    expect((await run(h1, 'uri', { url: `${base}/status/204`, status_code: '200,204' })).status).toBe(204);
  });

  it('POST with a JSON body and headers; form-urlencoded', async () => {
    const r = await run(h1, 'uri', { url: `${base}/echo`, method: 'POST', body_format: 'json', body: { name: "o'neil \"q\"", n: 2 }, headers: { 'X-Token': 'tok' }, status_code: 201, return_content: true });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ method: 'POST', contentType: 'application/json', token: 'tok', body: JSON.stringify({ name: "o'neil \"q\"", n: 2 }) });
    const f = await run(h1, 'uri', { url: `${base}/echo`, method: 'PUT', body_format: 'form-urlencoded', body: { a: 'x y', b: '&' }, status_code: [201] });
    expect(f.json).toMatchObject({ method: 'PUT', contentType: 'application/x-www-form-urlencoded', body: 'a=x+y&b=%26' });
  });

  it('basic auth: the password reaches the server but never a command line or the result', async () => {
    const rec = new Recording(transport(h1));
    const ok = await run(h1, 'uri', { url: `${base}/auth`, url_username: 'admin', url_password: SECRET, force_basic_auth: true, return_content: true }, { record: rec });
    expect(ok).toMatchObject({ status: 200, content: 'welcome' });
    const bad = await run(h1, 'uri', { url: `${base}/auth`, user: 'admin', password: 'wrong' }, { record: rec });
    expect(bad).toMatchObject({ failed: true, status: 401 });
    expect(rec.lines.length).toBeGreaterThan(0);
    for (const l of rec.lines) expect(l).not.toContain(SECRET);
    expect(JSON.stringify(ok)).not.toContain(SECRET);
  });

  it('redirects are followed for GET (redirected, final url), not with follow_redirects: none', async () => {
    const r = await run(h1, 'uri', { url: `${base}/redirect` });
    expect(r).toMatchObject({ status: 200, redirected: true, url: `${base}/json` });
    const n = await run(h1, 'uri', { url: `${base}/redirect`, follow_redirects: 'none', status_code: 302 });
    expect(n).toMatchObject({ status: 302, redirected: false, location: '/json' });
  });

  it('no response: status -1 (refused, timeout honoured), dest download changes once', async () => {
    const t0 = Date.now();
    const slow = await run(h1, 'uri', { url: `${base}/slow`, timeout: 1 });
    expect(slow).toMatchObject({ failed: true, status: -1 });
    expect(String(slow.msg)).toMatch(/^Status code was -1 and not \[200\]: Request failed: .*(timed out|Timeout)/i);
    expect(Date.now() - t0).toBeLessThan(5000);
    const refused = await run(h1, 'uri', { url: `http://${h1.address}:1/` });
    expect(refused).toMatchObject({ failed: true, status: -1 });
    expect(String(refused.msg)).toMatch(/Failed to connect|Connection refused|Couldn't connect/i);

    const d1 = await run(h1, 'uri', { url: `${base}/json`, dest: '/tmp/uri-download.json' });
    expect(d1).toMatchObject({ changed: true, status: 200 });
    expect(h1.readFile('/tmp/uri-download.json')).toBe('{"a":1,"list":[1,2]}');
    expect((await run(h1, 'uri', { url: `${base}/json`, dest: '/tmp/uri-download.json' })).changed).toBe(false);
    expect((await h1.exec('ls /tmp | grep -c uri-download')).stdout.trim()).toBe('1'); // no temp file left
  });

  it('check mode: skipped (uri does not support it)', async () => {
    const n = seen.length;
    const r = await run(h1, 'uri', { url: `${base}/json` }, { check: true });
    expect(r.skipped).toBe(true);
    expect(seen.length).toBe(n);
  });
});

// ───────────────────────────────────────────── wait_for, pause ─────────────────────────────────────────────

describe('wait_for', () => {
  const servers: TcpServer[] = [];
  afterAll(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
  });
  function listen(port: number, banner?: string): Promise<TcpServer> {
    const s = createTcpServer((c) => {
      if (banner) c.write(banner);
      c.end();
    });
    servers.push(s);
    return new Promise((r) => s.listen(port, h1.address, () => r(s)));
  }
  async function freePort(): Promise<number> {
    const s = createTcpServer();
    await new Promise<void>((r) => s.listen(0, h1.address, r));
    const p = (s.address() as { port: number }).port;
    await new Promise((r) => s.close(r));
    return p;
  }

  it('a port that opens later: waits until it does', async () => {
    const port = await freePort();
    const t0 = Date.now();
    setTimeout(() => void listen(port), 1500);
    const r = await run(h1, 'wait_for', { host: h1.address, port, timeout: 20 });
    expect(r).toMatchObject({ changed: false, state: 'started', port, path: null });
    expect(r.failed).toBeUndefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it('the timeout is honoured: a port that never opens fails after ~timeout with Ansible’s message', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const r = await run(h1, 'wait_for', { host: h1.address, port, timeout: 2, sleep: 1 });
    const ms = Date.now() - t0;
    expect(r).toMatchObject({ failed: true, msg: `Timeout when waiting for ${h1.address}:${port}`, elapsed: 2 });
    expect(ms).toBeGreaterThanOrEqual(1950);
    expect(ms).toBeLessThan(6000);
    const stopped = await run(h1, 'wait_for', { host: h1.address, port, state: 'stopped', timeout: 5 });
    expect(stopped).toMatchObject({ changed: false, state: 'stopped' });
  });

  it('search_regex on what a port sends (named groups)', async () => {
    const port = await freePort();
    await listen(port, 'SSH-2.0-Burrow_9.9 hello\r\n');
    const r = await run(h1, 'wait_for', { host: h1.address, port, search_regex: 'SSH-(?P<proto>[0-9.]+)-(\\w+)', timeout: 10 });
    expect(r).toMatchObject({ match_groups: ['2.0', 'Burrow_9'], match_groupdict: { proto: '2.0' } });
  });

  it('a file that appears later, with search_regex; absent with its timeout', async () => {
    await h1.exec('rm -f /tmp/wf-file');
    setTimeout(() => void h1.exec('printf "starting\\nREADY port=8080\\n" > /tmp/wf-file'), 1200);
    const r = await run(h1, 'wait_for', { path: '/tmp/wf-file', search_regex: '^READY port=(\\d+)$', timeout: 15 });
    expect(r).toMatchObject({ path: '/tmp/wf-file', match_groups: ['8080'] });
    expect(r.failed).toBeUndefined();
    const t0 = Date.now();
    const absent = await run(h1, 'wait_for', { path: '/tmp/wf-file', state: 'absent', timeout: 2 });
    expect(absent).toMatchObject({ failed: true, msg: 'Timeout when waiting for /tmp/wf-file to be absent.' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1950);
    expect(Date.now() - t0).toBeLessThan(6000);
    const missing = await run(h1, 'wait_for', { path: '/tmp/never-there', timeout: 1, msg: 'custom message' });
    expect(missing).toMatchObject({ failed: true, msg: 'custom message' });
  });

  it('nothing to wait for: sleeps `timeout` seconds', async () => {
    const t0 = Date.now();
    const r = await run(h1, 'wait_for', { timeout: 1 });
    expect(r.failed).toBeUndefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
  });
});

describe('pause', () => {
  it('waits the given seconds; minutes must be integers; a prompt is not waited for when not interactive', async () => {
    const t0 = Date.now();
    const r = await run(h1, 'pause', { seconds: 1 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(980);
    expect(r).toMatchObject({ changed: false, delta: 1, user_input: '', echo: true });
    expect(r.stdout).toMatch(/^Paused for 1(\.0\d?)? seconds$/);
    expect(await run(h1, 'pause', { minutes: '0.5' })).toMatchObject({ failed: true });
    const p = await run(h1, 'pause', { prompt: 'Continue?' });
    expect(p.failed).toBeUndefined();
    expect(p.warnings.join('\n')).toContain('Not waiting for response to prompt as stdin is not interactive');
  });

  it('the run’s abort signal ends a pause early', async () => {
    const mod = MODS.get('pause')!;
    const ac = new AbortController();
    const ctx = { ...moduleContext(transport(h1)), signal: ac.signal };
    setTimeout(() => ac.abort(), 300);
    const t0 = Date.now();
    const r = await mod.run({ seconds: 30 }, ctx);
    expect(r).toMatchObject({ failed: true, msg: 'pause interrupted' });
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});

// ───────────────────────────────────────────── pip (offline) ─────────────────────────────────────────────

describe('pip offline into a virtualenv', () => {
  it('installs a local wheel with --no-index --find-links, then unchanged, then absent', async () => {
    // a minimal wheel, built on the controller with Python's zipfile into the host's /opt/wheels
    mkdirSync(h1.path('/opt/wheels'), { recursive: true });
    const py = String.raw`
import sys, zipfile, hashlib, base64
out = sys.argv[1]
files = {
  'burrowdemo/__init__.py': 'VALUE = 42\n',
  'burrowdemo-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\nName: burrowdemo\nVersion: 1.0\n',
  'burrowdemo-1.0.dist-info/WHEEL': 'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
}
rec = []
with zipfile.ZipFile(out, 'w') as z:
    for n, t in files.items():
        z.writestr(n, t)
        d = base64.urlsafe_b64encode(hashlib.sha256(t.encode()).digest()).rstrip(b'=').decode()
        rec.append(f'{n},sha256={d},{len(t)}')
    rec.append('burrowdemo-1.0.dist-info/RECORD,,')
    z.writestr('burrowdemo-1.0.dist-info/RECORD', '\n'.join(rec) + '\n')
`;
    execFileSync('/usr/bin/python3', ['-c', py, h1.path('/opt/wheels/burrowdemo-1.0-py3-none-any.whl')]);
    const args = { name: 'burrowdemo', virtualenv: '/opt/venv-demo', virtualenv_command: '/usr/bin/python3 -m venv', extra_args: '--no-index --find-links /opt/wheels' };
    const r = await run(h1, 'pip', args);
    expect(r.failed).toBeUndefined();
    expect(r.changed).toBe(true);
    expect((await h1.exec('/opt/venv-demo/bin/python -c "import burrowdemo; print(burrowdemo.VALUE)"')).stdout.trim()).toBe('42');
    expect((await run(h1, 'pip', args)).changed).toBe(false);
    expect((await run(h1, 'pip', { ...args, name: 'burrowdemo==1.0' })).changed).toBe(false);
    const { extra_args: _install, ...rmArgs } = args; // pip uninstall takes no --find-links (nor does Ansible drop it)
    expect((await run(h1, 'pip', { ...rmArgs, state: 'absent' }, { check: true })).changed).toBe(true);
    expect((await run(h1, 'pip', { ...rmArgs, state: 'absent' })).changed).toBe(true);
    expect((await run(h1, 'pip', { ...rmArgs, state: 'absent' })).changed).toBe(false);
    const missing = await run(h1, 'pip', { ...args, name: 'not-available-offline' });
    expect(missing).toMatchObject({ failed: true });
    expect(String(missing.stderr)).toMatch(/No matching distribution|Could not find a version/);
  }, 120_000);
});
