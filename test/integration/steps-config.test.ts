/**
 * The configuration files of the preflight and ha steps, rendered the way a run renders them and checked by
 * the real daemons:
 *
 *  - variables come from the real files (vars.yml.sample as extra vars, the repository's group_vars/, the
 *    role's defaults) through the project's precedence and lazy templating, for a 3-control-node cluster
 *    (plus one compute node) in 198.18.0.0/15 whose facts come from the real fact parser;
 *  - templates go through the real template engine (renderTemplateFile);
 *  - `haproxy -dW -c` (zero-warning mode) checks haproxy.cfg + conf.d/, `keepalived -t` checks each control
 *    node's keepalived.conf inside a network namespace that has that node's interfaces and addresses (keepalived
 *    refuses unknown interfaces), `chronyd -p` parses the chrony server and client configurations;
 *  - and the content is asserted (priorities 100/90/80, peers, VIP/prefix and label, timers per HA level,
 *    server lines), so a template that is valid but wrong fails too.
 * All three HA levels, with and without the service VIP. Negative cases show the daemon checks do catch errors.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRunConfig } from '../../src/config/config.js';
import { HostState } from '../../src/engine/hoststate.js';
import { parseFacts } from '../../src/facts/probe.js';
import { renderTemplateFile } from '../../src/template/templar.js';
import { loadVarsFile } from '../../src/vars/files.js';
import { loadProject, type Project } from '../../src/vars/project.js';
import type { VarLayer, VarScope } from '../../src/vars/scope.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ROLES = join(ROOT, 'playbooks', 'roles');
const LEVELS = { moderato: 5, allegro: 4, vivace: 3 } as const;
type Level = keyof typeof LEVELS;

const VIP = '198.18.0.10';
const VIP_SVC = '198.18.1.10';

/** The test cluster: svc eth0 198.18.1.x/24, mgmt eth1 198.18.0.x/24, provider eth2 (no IP), overlay eth3, storage eth4. */
const HOSTS: Record<string, { n: number; control: boolean }> = {
  control1: { n: 11, control: true },
  control2: { n: 12, control: true },
  control3: { n: 13, control: true },
  compute1: { n: 21, control: false },
};
const ifaces = (n: number): { name: string; cidr?: string }[] => [
  { name: 'eth0', cidr: `198.18.1.${n}/24` },
  { name: 'eth1', cidr: `198.18.0.${n}/24` },
  { name: 'eth2' },
  { name: 'eth3', cidr: `198.18.3.${n}/24` },
  { name: 'eth4', cidr: `198.18.4.${n}/24` },
];

const INVENTORY = `control1 ip=198.18.0.11 ansible_connection=local
control2 ip=198.18.0.12
control3 ip=198.18.0.13
compute1 ip=198.18.0.21
[kube_control_plane]
control[1:3]
[kube_node]
control[1:3]
compute1
[network-node]
control[1:3]
[compute-node]
compute1
[etcd:children]
kube_control_plane
[k8s_cluster:children]
kube_control_plane
kube_node
`;

/** What the fact probe would print on one of the hosts. */
function probeOutput(host: string, family: 'Debian' | 'RedHat'): string {
  const { n } = HOSTS[host]!;
  const os = family === 'Debian' ? 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nNAME="Debian GNU/Linux"' : 'ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.6"\nNAME="Rocky Linux"';
  const link = ['1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00'];
  const addr = ['1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever'];
  ifaces(n).forEach((i, k) => {
    link.push(`${k + 2}: ${i.name}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000\\    link/ether 52:54:00:00:${n.toString(16).padStart(2, '0')}:0${k} brd ff:ff:ff:ff:ff:ff`);
    if (i.cidr) {
      const [a, p] = i.cidr.split('/');
      const brd = a!.split('.').slice(0, 3).join('.') + '.255';
      addr.push(`${k + 2}: ${i.name}    inet ${a}/${p} brd ${brd} scope global ${i.name}\\       valid_lft forever preferred_lft forever`);
    }
  });
  return [
    '', '@@os', os,
    '@@uname', host, '6.1.0-40-amd64', 'x86_64', `${host}.cluster.test`,
    '@@nproc', '8',
    '@@meminfo', 'MemTotal:       32768000 kB', 'MemFree:        16000000 kB', 'SwapTotal:             0 kB', 'SwapFree:              0 kB',
    '@@mounts', '/dev/vda1 / ext4 rw,relatime 0 0',
    '@@df', 'Filesystem     1024-blocks    Used Available Capacity Mounted on', '/dev/vda1 104857600 10485760 94371840 10% /',
    '@@addr', ...addr,
    '@@link', ...link,
    '@@route', 'default via 198.18.1.1 dev eth0 proto static',
    '@@devices', 'vda 209715200 512 0 0',
    '@@date', '1790000000', '+0000', 'UTC',
    '@@user', 'root', '0', '0', '/root', '/bin/bash', '/usr/sbin:/usr/bin',
    '@@pkg', family === 'Debian' ? 'apt-get' : 'dnf',
    '@@init', 'systemd',
    '@@uptime', '1000.0 2000.0', '0.10 0.20 0.30',
    '@@end', '',
  ].join('\n');
}

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'steps-config-'));
  mkdirSync(join(work, 'inventory'));
  writeFileSync(join(work, 'run.cfg'), '[defaults]\ninventory = inventory/hosts\n');
  writeFileSync(join(work, 'inventory', 'hosts'), INVENTORY);
  // the repository's group_vars (network_vars.yml, min_hw_reqs.yml, the backends) as the project's own
  symlinkSync(join(ROOT, 'group_vars'), join(work, 'group_vars'));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Cluster {
  project: Project;
  facts: Map<string, HostState>;
  /** the variable scope a task of `role` sees on `host` (role defaults < inventory/group_vars < facts < extra vars) */
  scope(host: string, role: string): VarScope;
  /** render a role template for a host, as the template module does */
  render(host: string, role: string, template: string): string;
}

function cluster(extra: Record<string, unknown>, family: 'Debian' | 'RedHat' = 'Debian'): Cluster {
  const config = loadRunConfig({ configPath: join(work, 'run.cfg') });
  const project = loadProject({ config, extraVars: [`@${join(ROOT, 'vars.yml.sample')}`, JSON.stringify(extra)], useVarsYml: false });
  const facts = new Map<string, HostState>();
  for (const h of Object.keys(HOSTS)) {
    const st = new HostState(h);
    st.useFacts(parseFacts(probeOutput(h, family)));
    facts.set(h, st);
  }
  const factsLayer = (h: string): VarLayer[] => [{ kind: 'facts', label: `facts of ${h}`, vars: facts.get(h)!.factsVars }];
  const hostScope = (h: string): VarScope => project.scope(h, factsLayer(h));
  const defaults = new Map<string, VarLayer[]>();
  const scope = (host: string, role: string): VarScope => {
    if (!defaults.has(role)) defaults.set(role, [{ kind: `role defaults (${role})`, label: role, vars: loadVarsFile(join(ROLES, role, 'defaults', 'main.yml')) }]);
    return project.scope(host, factsLayer(host), defaults.get(role)!, project.magic(host, hostScope));
  };
  const render = (host: string, role: string, template: string): string => {
    const path = join(ROLES, role, 'templates', template);
    const text = readFileSync(path, 'utf8');
    const s = scope(host, role);
    const out = renderTemplateFile(path, s.contextFor(text).ctx);
    // the template module renders through the task's scope (ModuleContext.renderTemplate): same result
    expect(String(s.render(text, `template ${template}`, { file: path }))).toBe(out);
    return out;
  };
  return { project, facts, scope, render };
}

function run(cmd: string, args: string[], opts: { input?: string; env?: Record<string, string> } = {}): { rc: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000, input: opts.input, env: { ...process.env, ...opts.env } });
  return { rc: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

const isRoot = process.getuid?.() === 0;
const hasNetns = isRoot && run('unshare', ['-n', 'true']).rc === 0;

/** The VRID the keepalived role must derive: a stable hash of VIP and cluster name, 1..255. */
function expectedVrid(vip: string): number {
  return (parseInt(createHash('sha256').update(`${vip}@cluster.local`).digest('hex').slice(0, 8), 16) % 255) + 1;
}

/** The lines of one `name { … }` block (top level or nested), found by its header line. */
function block(text: string, header: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `${header} {`);
  if (start < 0) throw new Error(`no block '${header}' in:\n${text}`);
  let depth = 0;
  const out: string[] = [];
  for (const l of lines.slice(start)) {
    depth += (l.match(/\{/g) ?? []).length - (l.match(/\}/g) ?? []).length;
    out.push(l.trim());
    if (depth === 0) break;
  }
  return out.slice(1, -1);
}

// ─────────────────────────────────────────────── haproxy ───────────────────────────────────────────────

function writeHaproxy(c: Cluster, host = 'control1'): string {
  const dir = mkdtempSync(join(work, 'haproxy-'));
  mkdirSync(join(dir, 'conf.d'));
  writeFileSync(join(dir, 'haproxy.cfg'), c.render(host, 'haproxy', 'haproxy.cfg.j2'));
  writeFileSync(join(dir, 'conf.d', 'kube-apiserver.cfg'), c.render(host, 'haproxy', 'kube-apiserver.cfg.j2'));
  return dir;
}

function haproxyCheck(dir: string): { rc: number; out: string } {
  // -dW: zero-warning mode, a warning is an error
  return run('haproxy', ['-dW', '-c', '-f', join(dir, 'haproxy.cfg'), '-f', join(dir, 'conf.d') + '/']);
}

describe.each(Object.keys(LEVELS) as Level[])('haproxy, ha_level %s', (level) => {
  it('haproxy accepts haproxy.cfg + conf.d without warnings, and the listener balances over the 3 control nodes', () => {
    const c = cluster({ keepalived_vip: VIP, keepalived_vip_svc: VIP_SVC, ha_level: level });
    const dir = writeHaproxy(c);
    const r = haproxyCheck(dir);
    expect(r.out).toContain('Configuration file is valid');
    expect(r.rc, r.out).toBe(0);

    const listen = readFileSync(join(dir, 'conf.d', 'kube-apiserver.cfg'), 'utf8');
    const body = listen.split('\n').filter((l) => l.startsWith('    ')).map((l) => l.trim());
    expect(listen).toMatch(/^listen kube-apiserver$/m);
    expect(body).toContain(`bind ${VIP}:6443`);
    expect(body).toContain('mode tcp');
    expect(body).toContain('balance roundrobin');
    expect(body).toEqual(expect.arrayContaining(['timeout client 3h', 'timeout server 3h', 'option tcplog', 'option log-health-checks']));
    const inter = LEVELS[level];
    expect(body.filter((l) => l.startsWith('server '))).toEqual([11, 12, 13].map((n, i) =>
      `server control${i + 1} 198.18.0.${n}:6443 check check-ssl verify none inter ${inter}s rise 1 fall 2 on-marked-down shutdown-sessions`));

    // every control node gets the same haproxy files
    for (const h of ['control2', 'control3']) {
      expect(c.render(h, 'haproxy', 'kube-apiserver.cfg.j2')).toBe(listen);
      expect(c.render(h, 'haproxy', 'haproxy.cfg.j2')).toBe(readFileSync(join(dir, 'haproxy.cfg'), 'utf8'));
    }
  });
});

describe('haproxy: global settings and OS differences', () => {
  it('haproxy.cfg has the global and defaults sections, logging to local2, no forwardfor in defaults', () => {
    const c = cluster({ keepalived_vip: VIP });
    const cfg = c.render('control1', 'haproxy', 'haproxy.cfg.j2');
    const global = cfg.slice(cfg.indexOf('\nglobal\n'), cfg.indexOf('\ndefaults\n'));
    for (const l of ['log 127.0.0.1 local2', 'chroot /var/lib/haproxy', 'pidfile /run/haproxy.pid', 'maxconn 4000', 'user haproxy', 'group haproxy', 'stats socket /var/lib/haproxy/stats']) {
      expect(global).toContain(`\n    ${l}\n`);
    }
    expect(global).not.toContain('PROFILE=SYSTEM'); // Debian's OpenSSL does not know the RHEL crypto policy
    const defaults = cfg.slice(cfg.indexOf('\ndefaults\n'));
    for (const l of ['mode http', 'option httplog', 'option dontlognull', 'option http-server-close', 'option redispatch', 'retries 3', 'timeout connect 10s', 'timeout check 10s', 'maxconn 3000']) {
      expect(defaults).toContain(`\n    ${l}\n`);
    }
    expect(defaults).not.toContain('forwardfor');
  });

  it('on RHEL-family hosts the ciphers follow the system crypto policy', () => {
    const c = cluster({ keepalived_vip: VIP }, 'RedHat');
    const cfg = c.render('control1', 'haproxy', 'haproxy.cfg.j2');
    expect(cfg).toContain('\n    ssl-default-bind-ciphers PROFILE=SYSTEM\n');
    expect(cfg).toContain('\n    ssl-default-server-ciphers PROFILE=SYSTEM\n');
  });

  it('Debian loads conf.d through /etc/default/haproxy; rsyslog takes local2 on UDP localhost', () => {
    const c = cluster({ keepalived_vip: VIP });
    const def = c.render('control1', 'haproxy', 'default-haproxy.j2');
    expect(def).toMatch(/^CONFIG="\/etc\/haproxy\/haproxy.cfg"$/m);
    expect(def).toMatch(/^EXTRAOPTS="-S \/run\/haproxy-master.sock -f \/etc\/haproxy\/conf.d"$/m);
    const rs = c.render('control1', 'haproxy', 'rsyslog-haproxy.conf.j2');
    expect(rs).toContain('input(type="imudp" address="127.0.0.1" port="514")');
    expect(rs).toMatch(/^local2\.\* \/var\/log\/haproxy.log\n& stop$/m);
  });

  it('the daemon check catches a broken listener (negative control)', () => {
    const c = cluster({ keepalived_vip: VIP, haproxy_balance: 'no-such-algorithm' });
    const r = haproxyCheck(writeHaproxy(c));
    expect(r.rc).not.toBe(0);
    expect(r.out).toContain('balance only supports');
  });
});

// ─────────────────────────────────────────────── keepalived ────────────────────────────────────────────

function writeKeepalived(c: Cluster, host: string, scriptDir: string): string {
  const conf = join(scriptDir, `keepalived-${host}.conf`);
  writeFileSync(conf, c.render(host, 'keepalived', 'keepalived.conf.j2'));
  for (const [tpl, name] of [['check_proxy.j2', 'check_proxy'], ['keepalived_state.sh.j2', 'keepalived_state.sh']] as const) {
    writeFileSync(join(scriptDir, name), c.render(host, 'keepalived', tpl));
    chmodSync(join(scriptDir, name), 0o700);
  }
  return conf;
}

/** keepalived -t in a fresh network namespace with the host's interfaces (veth pairs) and addresses. */
function keepalivedCheck(conf: string, host: string): { rc: number; out: string } {
  const script = [
    'set -e',
    ...ifaces(HOSTS[host]!.n).flatMap((i, k) => [
      `ip link add ${i.name} type veth peer name peer${k}`,
      `ip link set ${i.name} up`,
      `ip link set peer${k} up`,
      ...(i.cidr ? [`ip addr add ${i.cidr} dev ${i.name}`] : []),
    ]),
    'set +e',
    `keepalived -t -f '${conf}'`,
  ].join('\n');
  return run('unshare', ['-n', 'sh', '-c', script]);
}

describe.each((Object.keys(LEVELS) as Level[]).flatMap((level) => [[level, true], [level, false]] as [Level, boolean][]))(
  'keepalived, ha_level %s, service VIP %s',
  (level, withSvc) => {
    it.skipIf(!hasNetns)('keepalived -t accepts every control node\'s configuration, which has the right priorities, peers, VIPs and timers', () => {
      const dir = mkdtempSync(join(work, 'keepalived-'));
      const c = cluster({ keepalived_vip: VIP, keepalived_vip_svc: withSvc ? VIP_SVC : '', ha_level: level, keepalived_script_dir: dir });
      const vrids = new Set<string>();
      (['control1', 'control2', 'control3'] as const).forEach((host, i) => {
        const conf = writeKeepalived(c, host, dir);
        const r = keepalivedCheck(conf, host);
        expect(r.rc, `keepalived -t for ${host} (rc ${r.rc}):\n${r.out}\n${readFileSync(conf, 'utf8')}`).toBe(0);

        const text = readFileSync(conf, 'utf8');
        const n = HOSTS[host]!.n;
        const peers = [11, 12, 13].filter((x) => x !== n);
        expect(block(text, 'global_defs')).toEqual([
          `router_id ${host}`, 'vrrp_version 2', 'vrrp_check_unicast_src', 'vrrp_skip_check_adv_addr', 'script_user root', 'enable_script_security',
          // the first control node starts VRRP at once, the others 3 s later each: it takes the VIP first
          ...(i > 0 ? [`vrrp_startup_delay ${3 * i}`] : []),
        ]);
        expect(block(text, 'vrrp_script check_proxy')).toEqual([
          `script "${dir}/check_proxy"`, `interval ${LEVELS[level]}`, 'timeout 3', 'rise 1', 'fall 2',
        ]);

        const mgmt = block(text, 'vrrp_instance VI_BURRITO_MGMT');
        expect(mgmt).toEqual(expect.arrayContaining([
          'state BACKUP', 'nopreempt', 'interface eth1', `priority ${100 - 10 * i}`, 'advert_int 1',
          `unicast_src_ip 198.18.0.${n}`, 'track_src_ip', 'check_unicast_src', `notify "${dir}/keepalived_state.sh"`,
        ]));
        expect(block(mgmt.join('\n'), 'unicast_peer')).toEqual(peers.map((p) => `198.18.0.${p}`));
        expect(block(mgmt.join('\n'), 'virtual_ipaddress')).toEqual([`${VIP}/24 dev eth1 label eth1:vip`]);
        expect(block(mgmt.join('\n'), 'track_script')).toEqual(['check_proxy']);
        expect(mgmt).toContain(`virtual_router_id ${expectedVrid(VIP)}`);
        vrids.add(mgmt.find((l) => l.startsWith('virtual_router_id'))!);

        if (withSvc) {
          const svc = block(text, 'vrrp_instance VI_BURRITO_SVC');
          expect(svc).toEqual(expect.arrayContaining([
            'state BACKUP', 'nopreempt', 'interface eth0', `priority ${100 - 10 * i}`, 'advert_int 1',
            `unicast_src_ip 198.18.1.${n}`, `virtual_router_id ${expectedVrid(VIP_SVC)}`,
          ]));
          expect(block(svc.join('\n'), 'unicast_peer')).toEqual(peers.map((p) => `198.18.1.${p}`));
          expect(block(svc.join('\n'), 'virtual_ipaddress')).toEqual([`${VIP_SVC}/24 dev eth0 label eth0:vip`]);
          expect(block(text, 'vrrp_sync_group VSG')).toEqual(['group {', 'VI_BURRITO_MGMT', 'VI_BURRITO_SVC', '}']);
        } else {
          expect(text).not.toContain('VI_BURRITO_SVC');
          expect(text).not.toContain('vrrp_sync_group'); // keepalived -t rejects a sync group of one instance
        }
      });
      expect(vrids.size).toBe(1); // one VRID for the instance on every node
    });
  },
);

describe('keepalived: VRID, scripts, negative control', () => {
  it('derives the VRID from the VIP (stable across runs, 1..255), and keepalived_vrid overrides it', () => {
    const a = cluster({ keepalived_vip: VIP });
    const b = cluster({ keepalived_vip: VIP });
    const v = (c: Cluster): unknown => c.scope('control1', 'keepalived').get('keepalived_vrid');
    expect(Number(v(a))).toBe(expectedVrid(VIP));
    expect(v(b)).toEqual(v(a));
    expect(Number(v(cluster({ keepalived_vip: '198.18.0.9' })))).toBe(expectedVrid('198.18.0.9'));
    expect(v(cluster({ keepalived_vip: VIP, keepalived_vrid: 42 }))).toBe(42);
    for (let i = 1; i < 60; i++) {
      const id = expectedVrid(`198.18.0.${i}`);
      expect(id).toBeGreaterThanOrEqual(1);
      expect(id).toBeLessThanOrEqual(255);
    }
  });

  it('check_proxy follows haproxy\'s pid file; keepalived_state.sh records the new state', () => {
    const dir = mkdtempSync(join(work, 'scripts-'));
    const pidfile = join(dir, 'haproxy.pid');
    const state = join(dir, 'keepalived.state');
    const c = cluster({ keepalived_vip: VIP, keepalived_haproxy_pidfile: pidfile, keepalived_state_file: state });
    writeFileSync(join(dir, 'check_proxy'), c.render('control1', 'keepalived', 'check_proxy.j2'));
    writeFileSync(join(dir, 'state.sh'), c.render('control1', 'keepalived', 'keepalived_state.sh.j2'));
    chmodSync(join(dir, 'check_proxy'), 0o700);
    chmodSync(join(dir, 'state.sh'), 0o700);
    expect(run(join(dir, 'check_proxy'), []).rc).not.toBe(0); // no pid file
    writeFileSync(pidfile, `${process.pid}\n`);
    expect(run(join(dir, 'check_proxy'), []).rc).toBe(0); // a live process
    writeFileSync(pidfile, '999999999\n');
    expect(run(join(dir, 'check_proxy'), []).rc).not.toBe(0); // a dead one
    expect(run(join(dir, 'state.sh'), ['INSTANCE', 'VI_BURRITO_MGMT', 'MASTER', '100']).rc).toBe(0);
    expect(readFileSync(state, 'utf8')).toBe('MASTER\n');
    expect(run(join(dir, 'state.sh'), ['INSTANCE', 'VI_BURRITO_MGMT', 'BACKUP', '100']).rc).toBe(0);
    expect(readFileSync(state, 'utf8')).toBe('BACKUP\n');
  });

  it.skipIf(!hasNetns)('the daemon check catches a wrong configuration (negative control)', () => {
    const dir = mkdtempSync(join(work, 'keepalived-bad-'));
    // an interface control1 does not have
    const c = cluster({ keepalived_vip: VIP, keepalived_script_dir: dir, mgmt_iface_name: 'eth9' });
    // (its facts have no eth9: render with the real eth1 facts, then point the instance at eth9)
    const good = writeKeepalived(cluster({ keepalived_vip: VIP, keepalived_script_dir: dir }), 'control1', dir);
    writeFileSync(good, readFileSync(good, 'utf8').replace('interface eth1', 'interface eth9'));
    const r = keepalivedCheck(good, 'control1');
    expect(r.rc).not.toBe(0);
    expect(r.out).toContain('eth9');
    // a host whose VIP interface is missing: the role's guard sees the empty prefix (and stops with a message
    // before the template), and the template itself would fail loudly rather than write garbage
    expect(c.scope('control1', 'keepalived').get('keepalived_instances')).toEqual([
      { name: 'VI_BURRITO_MGMT', interface: 'eth9', vrid: expectedVrid(VIP), vip: VIP, prefix: '' },
    ]);
    expect(() => c.render('control1', 'keepalived', 'keepalived.conf.j2')).toThrow(/undefined/);
  });
});

// ─────────────────────────────────────────────── chrony ───────────────────────────────────────────────

function chronyParse(text: string): { rc: number; out: string } {
  const f = join(mkdtempSync(join(work, 'chrony-')), 'chrony.conf');
  writeFileSync(f, text);
  return run('chronyd', ['-p', '-f', f]);
}

describe('chrony', () => {
  it('control nodes serve time from ntp_servers to the management network; chronyd parses it', () => {
    const c = cluster({ keepalived_vip: VIP, ntp_servers: ['0.pool.ntp.org', '198.18.9.1'] });
    const text = c.render('control2', 'ntp', 'chrony-server.conf.j2');
    const r = chronyParse(text);
    expect(r.rc, r.out).toBe(0);
    const parsed = r.out.split('\n').map((l) => l.trim()).filter(Boolean);
    expect(parsed).toEqual([
      'server 0.pool.ntp.org iburst', 'server 198.18.9.1 iburst',
      'driftfile /var/lib/chrony/chrony.drift', 'logdir /var/log/chrony', 'makestep 1.0 3', 'rtcsync',
      'local stratum 8 orphan', 'manual', 'allow 198.18.0.0/24', 'bindaddress 198.18.0.12', 'binddevice eth1',
    ]);
  });

  it('without ntp_servers the control nodes use each other', () => {
    const c = cluster({ keepalived_vip: VIP, ntp_servers: [] });
    const text = c.render('control1', 'ntp', 'chrony-server.conf.j2');
    const r = chronyParse(text);
    expect(r.rc, r.out).toBe(0);
    const servers = r.out.split('\n').filter((l) => l.startsWith('server '));
    expect(servers).toEqual(['server 198.18.0.12 iburst', 'server 198.18.0.13 iburst']);
  });

  it('other hosts are clients of every control node; chronyd parses it', () => {
    const c = cluster({ keepalived_vip: VIP });
    const text = c.render('compute1', 'ntp', 'chrony-client.conf.j2');
    const r = chronyParse(text);
    expect(r.rc, r.out).toBe(0);
    const parsed = r.out.split('\n').map((l) => l.trim()).filter(Boolean);
    expect(parsed).toEqual([
      'server 198.18.0.11 iburst', 'server 198.18.0.12 iburst', 'server 198.18.0.13 iburst',
      'driftfile /var/lib/chrony/chrony.drift', 'logdir /var/log/chrony', 'makestep 1.0 3', 'rtcsync',
    ]);
  });

  it('service and file names follow the OS family', () => {
    const deb = cluster({ keepalived_vip: VIP }).scope('compute1', 'ntp');
    expect([deb.get('chrony_service'), deb.get('chrony_conf_path')]).toEqual(['chrony', '/etc/chrony/chrony.conf']);
    const el = cluster({ keepalived_vip: VIP }, 'RedHat').scope('compute1', 'ntp');
    expect([el.get('chrony_service'), el.get('chrony_conf_path')]).toEqual(['chronyd', '/etc/chrony.conf']);
  });

  it('the parse check catches a broken directive (negative control)', () => {
    expect(chronyParse('server\n').rc).not.toBe(0);
  });
});

// ─────────────────────────────────────────────── preflight repo file ─────────────────────────────────────

describe('offline repository file', () => {
  it('burrito.repo points at the deployer\'s local repository', () => {
    const c = cluster({ keepalived_vip: VIP, offline: true });
    const repo = c.render('compute1', 'common', 'burrito.repo.j2');
    expect(repo).toContain('\n[burrito]\nname=Burrito BaseOS\nbaseurl=http://198.18.0.11:8001/BaseOS\nenabled=1\ngpgcheck=0\nmodule_hotfixes=1\n');
  });
});
