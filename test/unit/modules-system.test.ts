/**
 * The system modules' pure parts: argument schema (load-time validate and run-time parsing), Python-compatible
 * helpers (shlex.split, splitlines, datetime/timedelta, regex), command-line construction and the parsers of
 * rpm / dpkg-query / apt-cache / dnf / systemctl / curl output (samples written from the tools' documented
 * formats). What needs a host is in test/integration/modules-system*.test.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { expandArgv } from '../../src/modules/system/command.js';
import { globQuote, parseArgs, pyDatetime, pyRegex, pyTimedelta, shlexSplit, splitlines } from '../../src/modules/system/common.js';
import { SYSTEM_MODULES } from '../../src/modules/system/index.js';
import { aptCommand, changesOf, dnfCommand, parseAptPolicy, parseCheckUpdate, parseQuery, queryScript } from '../../src/modules/system/package.js';
import { normName, parseFreeze, parseReq } from '../../src/modules/system/pip.js';
import { fnmatch } from '../../src/modules/system/setup.js';
import { parseShow } from '../../src/modules/system/systemd.js';
import { curlQuote, parseHeaderDump } from '../../src/modules/system/uri.js';
import type { Action } from '../../src/playbook/types.js';
import { ModuleArgError } from '../../src/modules/types.js';

const mod = (n: string) => SYSTEM_MODULES.find((m) => m.name === n)!;

function action(module: string, args: Record<string, unknown>, freeForm?: string): Action {
  const a: Action = { module, written: module, args, argsPos: { file: 't.yml', line: 1 }, argPos: {} };
  if (freeForm !== undefined) a.freeForm = freeForm;
  return a;
}

/** Run a sh snippet locally (dash), to check that generated shell code does what it should. */
function sh(script: string, env: Record<string, string> = {}): string {
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', ...env } });
  if (r.status !== 0) throw new Error(`sh failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

describe('registry and load-time validation', () => {
  it('registers every module the brief lists, once', () => {
    const names = SYSTEM_MODULES.map((m) => m.name);
    for (const n of ['command', 'shell', 'raw', 'ping', 'setup', 'package', 'service', 'systemd', 'pip', 'uri', 'wait_for', 'pause', 'lvg', 'k8s', 'k8s_info', 'k8s_json_patch', 'helm']) {
      expect(names).toContain(n);
    }
    expect(new Set(names).size).toBe(names.length);
    expect(mod('command').freeForm).toBe(true);
    expect(mod('command').freeFormKeys).toContain('chdir');
  });

  it('unknown arguments are reported with a suggestion; the floor rules still apply', () => {
    const p = mod('package').validate!(action('package', { nmae: 'x', state: 'present' }));
    expect(p.map((x) => x.message)).toEqual(['missing required argument: name', 'Unsupported parameters for (package) module: nmae']);
    expect(p[1]!.hint).toBe("did you mean 'name'?");
    expect(p[1]!.arg).toBe('nmae');
    expect(mod('package').validate!(action('package', { pkg: ['a'] }))).toEqual([]); // alias of name
    expect(mod('command').validate!(action('command', {}))[0]!.message).toBe('no command given');
    expect(mod('command').validate!(action('command', { cmd: 'x', argv: ['y'] }))[0]!.message).toContain('mutually exclusive');
  });

  it('literal choices are checked, templated ones are left for run time', () => {
    const bad = mod('service').validate!(action('service', { name: 'x', state: 'start' }));
    expect(bad).toHaveLength(1);
    expect(bad[0]!.message).toBe('value of state must be one of: reloaded, restarted, started, stopped, got: start');
    expect(bad[0]!.hint).toBe("did you mean 'started'?");
    expect(mod('service').validate!(action('service', { name: 'x', state: '{{ s }}' }))).toEqual([]);
    expect(mod('uri').validate!(action('uri', { url: 'http://x', body_format: 'json', status_code: [200, 201] }))).toEqual([]);
    expect(mod('k8s').validate!(action('k8s', { state: 'present', definition: { kind: 'x' }, wait: true, apply: true }))).toEqual([]);
  });

  it('run time: aliases, coercion, defaults, required, choices', () => {
    const spec = { name: { type: 'list' as const, aliases: ['pkg'], required: true }, n: { type: 'int' as const, default: 3 }, b: { type: 'bool' as const }, s: { type: 'str' as const, choices: ['a', 'b'] } };
    const a = parseArgs('m', spec, { pkg: 'x,y', b: 'yes', s: 'a' });
    expect(a.list('name')).toEqual(['x', 'y']);
    expect(a.int('n')).toBe(3);
    expect(a.bool('b')).toBe(true);
    expect(a.has('n')).toBe(false);
    expect(() => parseArgs('m', spec, { n: 1 })).toThrow('missing required arguments: name');
    expect(() => parseArgs('m', spec, { name: 'x', n: '1.5' })).toThrow(ModuleArgError);
    expect(() => parseArgs('m', spec, { name: 'x', s: 'c' })).toThrow('value of s must be one of: a, b, got: c');
    expect(() => parseArgs('m', spec, { name: 'x', zz: 1 })).toThrow('Unsupported parameters for (m) module: zz');
    expect(parseArgs('m', { d: { type: 'dict' } }, { d: 'a=1 b=2' }).dict('d')).toEqual({ a: '1', b: '2' });
  });
});

describe('Python-compatible helpers', () => {
  it('shlex.split (posix, no comments) as the command module uses it', () => {
    expect(shlexSplit(`echo "a b" 'c d' e\\ f a#b "x\\"y" 'it'"'"'s' "\\n"`)).toEqual(['echo', 'a b', 'c d', 'e f', 'a#b', 'x"y', "it's", '\\n']);
    expect(shlexSplit('  ')).toEqual([]);
    expect(shlexSplit("''")).toEqual(['']);
    expect(() => shlexSplit('echo "open')).toThrow('No closing quotation');
    expect(() => shlexSplit('echo \\')).toThrow('No escaped character');
  });

  it('splitlines knows Python’s line boundaries and drops only the last empty line', () => {
    expect(splitlines('a\nb\r\nc\rd\x0be\u2028f\n')).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(splitlines('a\n\n')).toEqual(['a', '']);
    expect(splitlines('')).toEqual([]);
  });

  it('str(datetime) and str(timedelta)', () => {
    const us = Date.UTC(2024, 4, 1, 12, 0, 0) * 1000 + 123456;
    expect(pyDatetime(us)).toMatch(/^2024-05-01 \d\d:00:00\.123456$/);
    expect(pyTimedelta(40165)).toBe('0:00:00.040165');
    expect(pyTimedelta(3_723_000_000)).toBe('1:02:03');
    expect(pyTimedelta(90_000_000_000 + 5)).toBe('1 day, 1:00:00.000005');
  });

  it('Python regex syntax: named groups, backreferences, inline flags', () => {
    const m = pyRegex('(?P<k>\\w+)=(?P=k)').exec('x ab=ab');
    expect(m?.groups).toEqual({ k: 'ab' });
    expect(pyRegex('(?i)^ready', 'm').test('x\nREADY')).toBe(true);
  });

  it('fnmatch as Python has it', () => {
    expect(fnmatch('ansible_eth0', 'ansible_eth*')).toBe(true);
    expect(fnmatch('ansible_eth0', 'ansible_eth?')).toBe(true);
    expect(fnmatch('ansible_lo', 'ansible_[!e]*')).toBe(true);
    expect(fnmatch('ansible_eth0', 'ansible_[!e]*')).toBe(false);
    expect(fnmatch('a.b', 'a?b')).toBe(true);
    expect(fnmatch('axb', 'a.b')).toBe(false);
  });
});

describe('shell code generation (checked by running it with the local sh)', () => {
  it('globQuote keeps glob characters active and everything else literal', () => {
    expect(globQuote('/etc/pass*')).toBe("/etc/pass*");
    expect(globQuote("/tmp/it's $x *.log")).toBe(`'/tmp/it'\\''s $x '*.log`);
    expect(sh(`set -- ${globQuote('/etc/host[n]ame')}; echo "$1"`).trim()).toBe('/etc/hostname');
    expect(sh(`set -- ${globQuote('/etc/$(id)*')}; echo "$1"`).trim()).toBe('/etc/$(id)*');
  });

  it('expandArgv: variables from the environment (unset ones stay as written), a leading ~, nothing else', () => {
    const { prelude, words } = expandArgv(['printf', '[%s]', '$A', '${A}x', '$UNSET', '${UNSET}', '$1', '~', '~root/a b', 'x~', '*', '$(id)', '"q"', "it's", '']);
    const out = sh([...prelude, words.join(' ')].join('\n'), { A: 'v a l', HOME: '/home/me' });
    expect(out).toBe('[v a l][v a lx][$UNSET][${UNSET}][$1][/home/me][/root/a b][x~][*][$(id)]["q"][it\'s][]');
  });

  it('package database queries: one round trip, a block per name', () => {
    const s = queryScript('dnf', ['bash', 'it"s']);
    expect(s).toContain("rpm -q --qf '%{NAME} %{VERSION}-%{RELEASE}.%{ARCH}\\n' \"$n\"");
    expect(queryScript('apt', ['curl=7.88'])).toContain("dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\\n'");
  });

  it('dnf / apt command lines', () => {
    const o = { enablerepo: ['local'], disablerepo: ['*'], nogpg: true, installRecommends: false, purge: true, autoremove: false, lockTimeout: 60 };
    expect(dnfCommand('dnf', 'install', ['a', 'b-1.2'], o)).toBe("dnf -y --nogpgcheck '--disablerepo=*' --enablerepo=local install a b-1.2");
    expect(aptCommand('install', ['x=1.0'], o)).toBe(
      'apt-get -y -q -o DPkg::Lock::Timeout=60 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold --no-install-recommends install x=1.0',
    );
    expect(aptCommand('remove', ['x'], o)).toContain('--purge remove x');
  });
});

describe('parsers of tool output (samples in the documented formats)', () => {
  it('rpm -q per spec: installed (several versions), not installed', () => {
    const out = ['@@kernel', 'kernel 5.14.0-427.el9.x86_64', 'kernel 5.14.0-503.el9.x86_64', '@@nope', 'package nope is not installed', '@@bash-5.1', 'bash 5.1.8-9.el9.x86_64', ''].join('\n');
    const db = parseQuery('dnf', ['kernel', 'nope', 'bash-5.1'], out);
    expect(db.get('kernel')).toEqual({ name: 'kernel', versions: ['5.14.0-427.el9.x86_64', '5.14.0-503.el9.x86_64'] });
    expect(db.get('nope')!.versions).toEqual([]);
    expect(db.get('bash-5.1')).toEqual({ name: 'bash', versions: ['5.1.8-9.el9.x86_64'] });
  });

  it('dpkg-query status: only "?i" is installed; rc (config files) and un are not', () => {
    const out = ['@@curl', 'ii  curl 7.88.1-10+deb12u5', '@@old', 'rc  old 1.0-1', '@@x=2.0', 'ii  x 1.0', '@@gone', ''].join('\n');
    const db = parseQuery('apt', ['curl', 'old', 'x=2.0', 'gone'], out);
    expect(db.get('curl')!.versions).toEqual(['7.88.1-10+deb12u5']);
    expect(db.get('old')!.versions).toEqual([]);
    expect(db.get('x=2.0')).toEqual({ name: 'x', versions: ['1.0'] });
    expect(db.get('gone')!.versions).toEqual([]);
  });

  it('what changed between two database snapshots', () => {
    const b = parseQuery('dnf', ['a', 'b', 'c'], '@@a\na 1-1.x86_64\n@@b\npackage b is not installed\n@@c\nc 1-1.noarch\n');
    const a = parseQuery('dnf', ['a', 'b', 'c'], '@@a\na 2-1.x86_64\n@@b\nb 3-1.noarch\n@@c\npackage c is not installed\n');
    expect(changesOf(['a', 'b', 'c'], b, a)).toEqual(['Upgraded: a 1-1.x86_64 -> 2-1.x86_64', 'Installed: b-3-1.noarch', 'Removed: c-1-1.noarch']);
    expect(changesOf(['a'], b, b)).toEqual([]);
  });

  it('apt-cache policy and dnf check-update', () => {
    const pol = parseAptPolicy('curl:\n  Installed: 7.88.1-10\n  Candidate: 7.88.1-10+deb12u5\n  Version table:\n     7.88.1-10+deb12u5 500\nsl:\n  Installed: (none)\n  Candidate: 5.02-1+b1\n');
    expect(pol.get('curl')).toEqual({ installed: '7.88.1-10', candidate: '7.88.1-10+deb12u5' });
    expect(pol.get('sl')).toEqual({ installed: undefined, candidate: '5.02-1+b1' });
    const cu = parseCheckUpdate('\nbash.x86_64                 5.1.8-10.el9                baseos\nkernel.x86_64   5.14.0-503.el9   baseos\nObsoleting Packages\nfoo.noarch 1-1 x\n');
    expect([...cu]).toEqual(['bash', 'kernel']);
  });

  it('systemctl show', () => {
    expect(parseShow('Id=sshd.service\nActiveState=active\nUnitFileState=enabled\nDescription=OpenSSH server daemon\nExecStart={ path=/usr/sbin/sshd ; argv[]=/usr/sbin/sshd -D $OPTIONS }\n')).toMatchObject({
      Id: 'sshd.service',
      ActiveState: 'active',
      UnitFileState: 'enabled',
      ExecStart: '{ path=/usr/sbin/sshd ; argv[]=/usr/sbin/sshd -D $OPTIONS }',
    });
  });

  it('pip freeze and requirement pins', () => {
    const f = parseFreeze('Jinja2==3.1.2\nmy_pkg==1.0\nlocal @ file:///tmp/local\n# comment\n-e git+https://x#egg=y\n');
    expect(f.get('jinja2')).toBe('3.1.2');
    expect(f.get('my-pkg')).toBe('1.0');
    expect(f.get('local')).toBe('file:///tmp/local');
    expect(parseReq('requests[socks]==2.31.0')).toEqual({ name: 'requests', pin: '2.31.0', exact: true });
    expect(parseReq('pkg>=1,<2')).toEqual({ name: 'pkg', exact: false });
    expect(normName('Zope.Interface')).toBe('zope-interface');
  });

  it('curl header dumps: redirects and 100-continue skipped, headers lowercased, cookies', () => {
    const dump = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 302 Found\r\nLocation: /x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Req-Id: 7\r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: b=2\r\n\r\n';
    const r = parseHeaderDump(dump)!;
    expect(r.status).toBe(200);
    expect(r.reason).toBe('OK');
    expect(r.headers).toMatchObject({ content_type: 'application/json', x_req_id: '7' });
    expect(r.cookies).toEqual({ a: '1', b: '2' });
    expect(parseHeaderDump('HTTP/2 404\r\nserver: x\r\n\r\n')).toMatchObject({ status: 404, reason: 'Not Found' });
    expect(parseHeaderDump('')).toBeUndefined();
  });

  it('curl config quoting: a header with quotes, backslashes and a tab reaches a server intact (real curl)', async () => {
    const v = 'a "b" \\c\td';
    let got: string | undefined;
    const server = createServer((req, res) => {
      got = req.headers['x-t'] as string;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const cfg = `url = ${curlQuote(`http://127.0.0.1:${port}/`)}\nheader = ${curlQuote(`X-T: ${v}`)}\n`;
    const rc = await new Promise<number | null>((resolve) => {
      const c = spawn('curl', ['-q', '-s', '-K', '-', '--max-time', '5', '-o', '/dev/null'], { stdio: ['pipe', 'ignore', 'ignore'] });
      c.on('close', resolve);
      c.stdin.end(cfg);
    });
    server.close();
    expect(rc).toBe(0);
    expect(got).toBe(v);
  });
});
