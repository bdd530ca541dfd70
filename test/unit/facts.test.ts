import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FACT_PROBE, ipv4Network, parseFacts, prefixToNetmask } from '../../src/facts/probe.js';

const ROCKY = `
@@os
NAME="Rocky Linux"
VERSION="9.6 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.6"
@@uname
control1
5.14.0-570.el9.x86_64
x86_64
control1.cluster.local
@@nproc
8
@@meminfo
MemTotal:       16311020 kB
MemFree:         8000000 kB
Buffers:          100000 kB
Cached:          1000000 kB
SwapTotal:             0 kB
SwapFree:              0 kB
@@mounts
/dev/mapper/rl-root / xfs rw,relatime 0 0
proc /proc proc rw 0 0
@@df
Filesystem          1024-blocks    Used Available Capacity Mounted on
/dev/mapper/rl-root    52403200 3000000  49403200       6% /
@@addr
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth1    inet 198.18.1.11/24 brd 198.18.1.255 scope global eth1\\       valid_lft forever preferred_lft forever
2: eth1    inet 198.18.1.100/32 scope global eth1:vip\\       valid_lft forever preferred_lft forever
@@link
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
2: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000\\    link/ether 52:54:00:aa:bb:01 brd ff:ff:ff:ff:ff:ff
3: eth2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/ether 52:54:00:aa:bb:02 brd ff:ff:ff:ff:ff:ff
4: br-ex@eth2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\\    link/ether 52:54:00:aa:bb:03 brd ff:ff:ff:ff:ff:ff
@@route
default via 198.18.1.1 dev eth1 proto static metric 100
@@devices
sda 209715200 512 0 0
sdb 209715200 4096 0 0
loop0 0 512 0 0
@@date
1700000000
+0900
KST
@@user
clex
1000
1000
/home/clex
/bin/bash
/usr/bin:/bin
@@pkg
dnf
@@init
systemd
@@uptime
12345.67 1000.00
0.50 0.40 0.30 1/200 999
@@end
`;

describe('fact probe parsing', () => {
  it('yields the Ansible fact names and types the reference reads', () => {
    const f = parseFacts(ROCKY, 1_700_000_003_000);
    expect(f.ansible_distribution).toBe('Rocky');
    expect(f.ansible_os_family).toBe('RedHat');
    expect(f.ansible_distribution_major_version).toBe('9');
    expect(f.ansible_distribution_version).toBe('9.6');
    expect(f.ansible_hostname).toBe('control1');
    expect(f.ansible_fqdn).toBe('control1.cluster.local');
    expect(f.ansible_processor_vcpus).toBe(8);
    expect(f.ansible_memtotal_mb).toBe(15928);
    expect(f.ansible_pkg_mgr).toBe('dnf');
    expect(f.ansible_service_mgr).toBe('systemd');
    expect(f.ansible_mounts).toEqual([
      { device: '/dev/mapper/rl-root', mount: '/', fstype: 'xfs', options: 'rw,relatime', size_total: 52403200 * 1024, size_available: 49403200 * 1024 },
    ]);
    expect(f.ansible_eth1).toMatchObject({
      active: true,
      macaddress: '52:54:00:aa:bb:01',
      mtu: 1500,
      ipv4: { address: '198.18.1.11', netmask: '255.255.255.0', network: '198.18.1.0', prefix: '24', broadcast: '198.18.1.255' },
      ipv4_secondaries: [{ address: '198.18.1.100', prefix: '32' }],
    });
    expect(f.ansible_eth2).toMatchObject({ active: false });
    expect((f.ansible_eth2 as Record<string, unknown>).ipv4).toBeUndefined();
    expect(f.ansible_br_ex).toMatchObject({ device: 'br-ex', active: true });
    expect(f.ansible_default_ipv4).toMatchObject({ gateway: '198.18.1.1', interface: 'eth1', address: '198.18.1.11' });
    expect(f.ansible_devices).toEqual({
      sda: { sectors: '209715200', sectorsize: '512', size: '100.00 GB', removable: '0', read_only: '0' },
      sdb: { sectors: '26214400', sectorsize: '4096', size: '100.00 GB', removable: '0', read_only: '0' },
    });
    expect(f.ansible_date_time).toMatchObject({ epoch: '1700000000', date: '2023-11-14', tz_offset: '+0900' });
    expect(f.ansible_clock_skew_seconds).toBe(-3);
    expect(f.ansible_env).toEqual({ HOME: '/home/clex', SHELL: '/bin/bash', PATH: '/usr/bin:/bin', USER: 'clex' });
    expect(f.ansible_loadavg).toEqual({ '1m': 0.5, '5m': 0.4, '15m': 0.3 });
    expect(f.ansible_uptime_seconds).toBe(12345);
  });

  it('computes masks and networks', () => {
    expect(prefixToNetmask(24)).toBe('255.255.255.0');
    expect(prefixToNetmask(15)).toBe('255.254.0.0');
    expect(prefixToNetmask(0)).toBe('0.0.0.0');
    expect(prefixToNetmask(32)).toBe('255.255.255.255');
    expect(ipv4Network('198.19.7.9', 15)).toBe('198.18.0.0');
  });

  it('agrees with this machine\'s /proc when run locally', () => {
    const f = parseFacts(execFileSync('sh', ['-c', FACT_PROBE]).toString());
    const memKb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
    expect(f.ansible_memtotal_mb).toBe(Math.floor(memKb / 1024));
    const cpus = readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => l.startsWith('processor')).length;
    expect(f.ansible_processor_vcpus).toBe(cpus);
    expect((f.ansible_mounts as { mount: string }[]).some((m) => m.mount === '/')).toBe(true);
    expect(Math.abs(f.ansible_clock_skew_seconds as number)).toBeLessThanOrEqual(1);
  });
});
