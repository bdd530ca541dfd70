/**
 * Facts from one batched POSIX-shell probe per host (no Python on targets). The probe prints sections
 * `@@name` followed by raw command output; `parseFacts` turns them into the names Ansible's setup module
 * uses (the reference installer reads these names), with Ansible's types (e.g. `ipv4.prefix` and device
 * `sectors` are strings there, and stay strings here).
 */
import type { Transport } from '../transport/types.js';

export const FACT_PROBE = String.raw`
LC_ALL=C; export LC_ALL
s() { printf '\n@@%s\n' "$1"; }
s os; cat /etc/os-release 2>/dev/null
s uname; uname -n; uname -r; uname -m; hostname -f 2>/dev/null || uname -n
s nproc; getconf _NPROCESSORS_ONLN 2>/dev/null || grep -c ^processor /proc/cpuinfo
s meminfo; grep -E '^(MemTotal|MemFree|MemAvailable|Buffers|Cached|SwapTotal|SwapFree):' /proc/meminfo
s mounts; cat /proc/mounts
s df; df -kP 2>/dev/null
s addr; ip -o addr show 2>/dev/null
s link; ip -o link show 2>/dev/null
s route; ip -4 route show default 2>/dev/null
s devices; for d in /sys/block/*; do [ -e "$d/size" ] || continue; printf '%s %s %s %s %s\n' "$(basename "$d")" "$(cat $d/size)" "$(cat $d/queue/logical_block_size 2>/dev/null || echo 512)" "$(cat $d/removable 2>/dev/null || echo 0)" "$(cat $d/ro 2>/dev/null || echo 0)"; done
s date; date +%s; date +%z; date +%Z
s user; id -un; id -u; id -g; printf '%s\n' "$HOME" "$SHELL" "$PATH"
s pkg; for p in dnf yum apt-get; do command -v $p >/dev/null 2>&1 && { echo $p; break; }; done
s init; cat /proc/1/comm 2>/dev/null
s uptime; cat /proc/uptime; cat /proc/loadavg
s end
`;

export type Facts = Record<string, unknown>;

function sections(out: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const line of out.split('\n')) {
    const h = /^@@(\w+)$/.exec(line);
    if (h) {
      cur = [];
      m.set(h[1]!, cur);
    } else if (cur && line !== '') cur.push(line);
  }
  return m;
}

function osRelease(lines: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (const l of lines) {
    const m = /^([A-Z_]+)=(.*)$/.exec(l);
    if (m) o[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  return o;
}

const FAMILY: Record<string, string> = {
  rocky: 'RedHat', rhel: 'RedHat', centos: 'RedHat', almalinux: 'RedHat', fedora: 'RedHat', ol: 'RedHat',
  debian: 'Debian', ubuntu: 'Debian',
};
const DIST_NAME: Record<string, string> = {
  rocky: 'Rocky', rhel: 'RedHat', centos: 'CentOS', almalinux: 'AlmaLinux', fedora: 'Fedora', ol: 'OracleLinux',
  debian: 'Debian', ubuntu: 'Ubuntu',
};

/** Dotted netmask of an IPv4 prefix length. */
export function prefixToNetmask(prefix: number): string {
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (m >>> s) & 255).join('.');
}

export function ipv4Network(addr: string, prefix: number): string {
  const n = addr.split('.').reduce((a, o) => ((a << 8) | Number(o)) >>> 0, 0);
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const net = (n & m) >>> 0;
  return [24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.');
}

export function parseFacts(out: string, nowMs = Date.now()): Facts {
  const sec = sections(out);
  const f: Facts = {};
  const os = osRelease(sec.get('os') ?? []);
  const id = (os.ID ?? 'unknown').toLowerCase();
  const version = os.VERSION_ID ?? '';
  f.ansible_distribution = DIST_NAME[id] ?? (os.NAME ?? 'Unknown');
  f.ansible_distribution_version = version;
  f.ansible_distribution_major_version = version.split('.')[0] ?? '';
  f.ansible_distribution_release = os.VERSION_CODENAME ?? '';
  const likes = `${id} ${os.ID_LIKE ?? ''}`.split(/\s+/);
  f.ansible_os_family = FAMILY[id] ?? likes.map((l) => FAMILY[l]).find(Boolean) ?? (os.NAME ?? 'Unknown');
  f.ansible_os_release_id = id;

  const [nodename = '', kernel = '', machine = '', fqdn = ''] = sec.get('uname') ?? [];
  f.ansible_hostname = nodename.split('.')[0];
  f.ansible_nodename = nodename;
  f.ansible_fqdn = fqdn;
  f.ansible_kernel = kernel;
  f.ansible_machine = machine;
  f.ansible_architecture = machine;

  const nproc = Number((sec.get('nproc') ?? ['0'])[0]);
  f.ansible_processor_vcpus = nproc;
  f.ansible_processor_nproc = nproc;

  const mem: Record<string, number> = {};
  for (const l of sec.get('meminfo') ?? []) {
    const m = /^(\w+):\s+(\d+)/.exec(l);
    if (m) mem[m[1]!] = Number(m[2]);
  }
  const mb = (k: string): number => Math.floor((mem[k] ?? 0) / 1024);
  f.ansible_memtotal_mb = mb('MemTotal');
  f.ansible_memfree_mb = mb('MemFree');
  f.ansible_swaptotal_mb = mb('SwapTotal');
  f.ansible_swapfree_mb = mb('SwapFree');
  f.ansible_memory_mb = {
    real: { total: mb('MemTotal'), free: mb('MemFree'), used: mb('MemTotal') - mb('MemFree') },
    nocache: { free: mb('MemFree') + mb('Buffers') + mb('Cached'), used: mb('MemTotal') - mb('MemFree') - mb('Buffers') - mb('Cached') },
    swap: { total: mb('SwapTotal'), free: mb('SwapFree'), used: mb('SwapTotal') - mb('SwapFree') },
  };

  // mounts: /proc/mounts for device + fstype + options, df for sizes (1 KiB blocks).
  const sizes = new Map<string, { total: number; avail: number }>();
  for (const l of (sec.get('df') ?? []).slice(1)) {
    const p = l.split(/\s+/);
    if (p.length >= 6) sizes.set(p.slice(5).join(' '), { total: Number(p[1]) * 1024, avail: Number(p[3]) * 1024 });
  }
  const mounts: Record<string, unknown>[] = [];
  for (const l of sec.get('mounts') ?? []) {
    const [device, mount, fstype, options] = l.split(' ');
    if (!device || !mount) continue;
    const path = mount.replace(/\\040/g, ' ');
    const sz = sizes.get(path);
    if (!sz) continue; // pseudo filesystems df does not list
    mounts.push({ device, mount: path, fstype, options, size_total: sz.total, size_available: sz.avail });
  }
  f.ansible_mounts = mounts;

  // interfaces
  const ifaces = new Map<string, Record<string, unknown>>();
  for (const l of sec.get('link') ?? []) {
    const m = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>.*?\bmtu\s+(\d+)/.exec(l);
    if (!m) continue;
    const link = /link\/(\w+)(?:\s+([0-9a-f:]+))?/.exec(l);
    const flags = m[2]!.split(',');
    ifaces.set(m[1]!, {
      device: m[1],
      active: flags.includes('UP') && (flags.includes('LOWER_UP') || m[1] === 'lo'),
      flags,
      mtu: Number(m[3]),
      type: link?.[1] ?? 'unknown',
      macaddress: link?.[2] ?? '',
    });
  }
  for (const l of sec.get('addr') ?? []) {
    const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\/(\d+)(?:\s+brd\s+([\d.]+))?/.exec(l);
    if (!m) continue;
    const iface = ifaces.get(m[1]!);
    if (!iface) continue;
    const prefix = Number(m[3]);
    const rec = {
      address: m[2],
      broadcast: m[4] ?? '',
      netmask: prefixToNetmask(prefix),
      network: ipv4Network(m[2]!, prefix),
      prefix: String(prefix),
    };
    if (!iface.ipv4) iface.ipv4 = rec;
    else ((iface.ipv4_secondaries as unknown[] | undefined) ?? (iface.ipv4_secondaries = [] as unknown[]) as unknown[]).push(rec);
  }
  f.ansible_interfaces = [...ifaces.keys()].sort();
  const allV4: string[] = [];
  for (const [name, rec] of ifaces) {
    f[`ansible_${name.replace(/[-.:]/g, '_')}`] = rec;
    const v4 = rec.ipv4 as { address: string } | undefined;
    if (v4 && name !== 'lo' && !v4.address.startsWith('127.')) allV4.push(v4.address);
  }
  f.ansible_all_ipv4_addresses = allV4;

  const def: Record<string, unknown> = {};
  const r = /^default via ([\d.]+) dev (\S+)/.exec((sec.get('route') ?? [])[0] ?? '');
  if (r) {
    const iface = ifaces.get(r[2]!);
    const v4 = (iface?.ipv4 ?? {}) as Record<string, unknown>;
    Object.assign(def, { gateway: r[1], interface: r[2], alias: r[2], ...v4, macaddress: iface?.macaddress, mtu: iface?.mtu, type: iface?.type });
  }
  f.ansible_default_ipv4 = def;

  const devices: Record<string, unknown> = {};
  for (const l of sec.get('devices') ?? []) {
    const [name, sectors, ssz, removable, ro] = l.split(' ');
    if (!name || name.startsWith('loop') || name.startsWith('ram') || name.startsWith('zram')) continue;
    const bytes = Number(sectors) * 512; // /sys/block/*/size counts 512-byte units whatever the block size
    devices[name] = {
      sectors: String(Number(sectors) * 512 / Number(ssz || 512)),
      sectorsize: String(ssz),
      size: humanSize(bytes),
      removable: String(removable),
      read_only: String(ro),
    };
  }
  f.ansible_devices = devices;

  const [epoch = '0', tz = '+0000', tzName = 'UTC'] = sec.get('date') ?? [];
  const d = new Date(Number(epoch) * 1000);
  const iso = d.toISOString();
  f.ansible_date_time = {
    epoch: String(epoch),
    iso8601: iso.replace(/\.\d{3}Z$/, 'Z'),
    iso8601_basic_short: iso.replace(/[-:]/g, '').replace(/\.\d{3}Z$/, ''),
    date: iso.slice(0, 10),
    time: iso.slice(11, 19),
    year: iso.slice(0, 4),
    month: iso.slice(5, 7),
    day: iso.slice(8, 10),
    tz: tzName,
    tz_offset: tz,
  };
  f.ansible_clock_skew_seconds = Number(epoch) - Math.floor(nowMs / 1000);

  const [user = '', uid = '', gid = '', home = '', shell = '', path = ''] = sec.get('user') ?? [];
  f.ansible_user_id = user;
  f.ansible_user_uid = Number(uid);
  f.ansible_user_gid = Number(gid);
  f.ansible_user_dir = home;
  // Only harmless variables: a full `env` could carry secrets into logs.
  f.ansible_env = { HOME: home, SHELL: shell, PATH: path, USER: user };
  f.ansible_pkg_mgr = ((sec.get('pkg') ?? [])[0] ?? 'unknown').replace('apt-get', 'apt');
  const init = (sec.get('init') ?? [])[0] ?? '';
  f.ansible_service_mgr = init === 'systemd' ? 'systemd' : init || 'unknown';

  const [up = '0', load = '0 0 0'] = sec.get('uptime') ?? [];
  f.ansible_uptime_seconds = Math.floor(Number(up.split(' ')[0]));
  const [l1, l5, l15] = load.split(' ').map(Number);
  f.ansible_loadavg = { '1m': l1, '5m': l5, '15m': l15 };
  return f;
}

function humanSize(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(2)} ${units[i]}`;
}

/** Gather facts over a transport. Throws the transport's error when the host cannot be reached. */
export async function gatherFacts(t: Transport, timeoutSec = 60): Promise<Facts> {
  const started = Date.now();
  const r = await t.exec(FACT_PROBE, { timeout: timeoutSec });
  if (!r.stdout.includes('@@end')) {
    throw new Error(`fact probe did not complete on ${t.host} (rc ${r.rc}): ${r.stderr.trim().slice(0, 300)}`);
  }
  // Compare clocks at the probe's midpoint to cancel most of the round trip.
  return parseFacts(r.stdout, (started + Date.now()) / 2);
}
