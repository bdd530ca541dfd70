/**
 * Host vitals (like `bosh vms --vitals`) from one POSIX-shell probe: load 1/5/15, CPU user/sys/wait over a
 * short sample of /proc/stat, memory and swap, disk usage of / and data filesystems, uptime.
 */
export const VITALS_PROBE = String.raw`
LC_ALL=C; export LC_ALL
echo @@load; cat /proc/loadavg
echo @@stat1; head -1 /proc/stat
sleep 0.5
echo @@stat2; head -1 /proc/stat
echo @@mem; grep -E '^(MemTotal|MemAvailable|SwapTotal|SwapFree):' /proc/meminfo
echo @@df; df -kP / 2>/dev/null | tail -n +2; df -kP -t xfs -t ext4 -t ext3 -t btrfs 2>/dev/null | tail -n +2
echo @@uptime; cat /proc/uptime
echo @@end
`;

export interface Vitals {
  load: [number, number, number];
  cpu: { user: number; sys: number; wait: number };
  memory: { usedMiB: number; totalMiB: number; percent: number };
  swap: { usedMiB: number; totalMiB: number; percent: number };
  disks: { mount: string; usedGiB: number; totalGiB: number; percent: number }[];
  uptimeSeconds: number;
}

function sections(out: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const line of out.split('\n')) {
    const h = /^@@(\w+)$/.exec(line);
    if (h) m.set(h[1]!, (cur = []));
    else if (cur && line.trim()) cur.push(line);
  }
  return m;
}

const pct = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 1000) / 10 : 0);

export function parseVitals(out: string): Vitals {
  const s = sections(out);
  const [l1 = 0, l5 = 0, l15 = 0] = (s.get('load')?.[0] ?? '').split(/\s+/).map(Number);
  const cpuOf = (l?: string): number[] => (l ?? '').trim().split(/\s+/).slice(1).map(Number);
  const a = cpuOf(s.get('stat1')?.[0]);
  const b = cpuOf(s.get('stat2')?.[0]);
  // user nice system idle iowait irq softirq steal
  const d = b.map((v, i) => v - (a[i] ?? 0));
  const total = d.slice(0, 8).reduce((x, y) => x + (y || 0), 0);
  const cpu = {
    user: pct((d[0] ?? 0) + (d[1] ?? 0), total),
    sys: pct((d[2] ?? 0) + (d[5] ?? 0) + (d[6] ?? 0), total),
    wait: pct(d[4] ?? 0, total),
  };
  const mem: Record<string, number> = {};
  for (const l of s.get('mem') ?? []) {
    const m = /^(\w+):\s+(\d+)/.exec(l);
    if (m) mem[m[1]!] = Number(m[2]) / 1024;
  }
  const memUsed = (mem.MemTotal ?? 0) - (mem.MemAvailable ?? 0);
  const swapUsed = (mem.SwapTotal ?? 0) - (mem.SwapFree ?? 0);
  const disks: Vitals['disks'] = [];
  for (const l of s.get('df') ?? []) {
    const p = l.trim().split(/\s+/);
    if (p.length < 6) continue;
    const mount = p.slice(5).join(' ');
    if (disks.some((x) => x.mount === mount)) continue;
    const totalK = Number(p[1]);
    const usedK = Number(p[2]);
    disks.push({ mount, usedGiB: Math.round((usedK / 1048576) * 10) / 10, totalGiB: Math.round((totalK / 1048576) * 10) / 10, percent: pct(usedK, usedK + Number(p[3])) });
  }
  return {
    load: [l1, l5, l15],
    cpu,
    memory: { usedMiB: Math.round(memUsed), totalMiB: Math.round(mem.MemTotal ?? 0), percent: pct(memUsed, mem.MemTotal ?? 0) },
    swap: { usedMiB: Math.round(swapUsed), totalMiB: Math.round(mem.SwapTotal ?? 0), percent: pct(swapUsed, mem.SwapTotal ?? 0) },
    disks,
    uptimeSeconds: Math.floor(Number((s.get('uptime')?.[0] ?? '0').split(' ')[0])),
  };
}
