/**
 * `lvg`: an LVM volume group on the given physical volumes (lvm2 tools on the target).
 *
 * present: creates the PVs (`pvcreate`) and the VG (`vgcreate -s <pesize>`) when the VG is missing;
 * otherwise extends it with listed devices it lacks (`vgextend`) and, as Ansible does, reduces it by PVs
 * that are no longer listed (`vgreduce`). absent: removes the VG, refusing when it still holds logical
 * volumes unless `force`. The state is read first (`vgs`, `pvs` with machine-readable fields), so a second
 * run is changed=false; check mode plans only. Device paths are resolved with `readlink -f` as lvm reports
 * them canonically.
 */
import type { ModuleContext } from '../types.js';
import { argvLine, defineModule, Fail, sh, shlexSplit, shq, tail } from './common.js';

export interface LvmState {
  /** vg name → {lvs: logical volume count} */
  vgs: Map<string, { lvCount: number }>;
  /** pv device → vg name ('' when not in a VG) */
  pvs: Map<string, string>;
}

/** Output of `vgs --noheadings --separator '|' -o vg_name,lv_count` and `pvs … -o pv_name,vg_name`. */
export function parseLvm(vgsOut: string, pvsOut: string): LvmState {
  const vgs = new Map<string, { lvCount: number }>();
  for (const l of vgsOut.split('\n')) {
    const [name, lv] = l.trim().split('|');
    if (name) vgs.set(name.trim(), { lvCount: Number(lv ?? 0) || 0 });
  }
  const pvs = new Map<string, string>();
  for (const l of pvsOut.split('\n')) {
    const [dev, vg] = l.trim().split('|');
    if (dev) pvs.set(dev.trim(), (vg ?? '').trim());
  }
  return { vgs, pvs };
}

const LVM_ENV = { LC_ALL: 'C', LVM_SUPPRESS_FD_WARNINGS: '1' };

async function readState(ctx: ModuleContext): Promise<LvmState> {
  const script = [
    "command -v vgs >/dev/null 2>&1 || { echo 'lvg needs the lvm2 tools (vgs, pvs, vgcreate) on the target' >&2; exit 90; }",
    "vgs --noheadings --separator '|' -o vg_name,lv_count 2>/dev/null",
    "echo @@PVS",
    "pvs --noheadings --separator '|' -o pv_name,vg_name 2>/dev/null",
    'exit 0',
  ].join('\n');
  const r = await sh(ctx, script, { env: LVM_ENV });
  if (r.rc === 90) throw new Fail(r.stderr.trim());
  const [v = '', p = ''] = r.stdout.split('@@PVS\n');
  return parseLvm(v, p);
}

export const lvg = defineModule({
  name: 'lvg',
  spec: {
    vg: { type: 'str', required: true },
    pvs: { type: 'list', default: [] },
    pesize: { type: 'str', default: '4' },
    pv_options: { type: 'str', default: '' },
    vg_options: { type: 'str', default: '' },
    state: { type: 'str', default: 'present', choices: ['present', 'absent'] },
    force: { type: 'bool', default: false },
  },
  async run(a, ctx) {
    const vg = a.req('vg');
    if (!/^[A-Za-z0-9_.+-]+$/.test(vg) || vg.startsWith('-')) throw new Fail(`invalid volume group name '${vg}'`);
    const state = a.str('state')!;
    const st = await readState(ctx);
    const exists = st.vgs.has(vg);
    const run = async (argv: string[], what: string): Promise<void> => {
      const r = await sh(ctx, argvLine(argv), { env: LVM_ENV });
      if (r.rc !== 0) throw new Fail(`${what}: ${tail(r.stderr || r.stdout)}`, { rc: r.rc, err: r.stderr });
    };

    if (state === 'absent') {
      if (!exists) return { changed: false };
      const lvs = st.vgs.get(vg)!.lvCount;
      if (lvs > 0 && !a.bool('force')) throw new Fail(`Refuse to remove non-empty volume group ${vg} without force=true`);
      if (!ctx.check) await run(['vgremove', ...(a.bool('force') ? ['--force'] : []), vg], `Failed to remove volume group ${vg}`);
      return { changed: true };
    }

    const wanted = a.list('pvs')!;
    if (!exists && !wanted.length) throw new Fail('No physical volumes given.');
    // canonical device paths (lvm reports /dev/sdb, not /dev/disk/by-id/…)
    let devices: string[] = [];
    if (wanted.length) {
      const r = await sh(ctx, wanted.map((d) => `if [ -b ${shq(d)} ]; then readlink -f ${shq(d)}; else echo "@@MISSING ${d.replace(/[\n"$`\\]/g, '')}"; fi`).join('\n'));
      const missing = r.stdout.split('\n').filter((l) => l.startsWith('@@MISSING ')).map((l) => l.slice(10));
      if (missing.length) throw new Fail(`Device ${missing.join(', ')} not found.`);
      devices = r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    }
    const pvOpts = shlexSplit(a.str('pv_options')!);
    const vgOpts = shlexSplit(a.str('vg_options')!);
    for (const d of devices) {
      const owner = st.pvs.get(d);
      if (owner && owner !== vg) throw new Fail(`Device ${d} is already in ${owner} volume group.`);
    }
    const needPv = devices.filter((d) => !st.pvs.has(d));

    if (!exists) {
      if (!ctx.check) {
        for (const d of needPv) await run(['pvcreate', ...pvOpts, '-f', d], `Creating physical volume '${d}' failed`);
        await run(['vgcreate', ...vgOpts, '-s', a.str('pesize')!, vg, ...devices], `Creating volume group '${vg}' failed`);
      }
      return { changed: true };
    }
    const current = [...st.pvs].filter(([, g]) => g === vg).map(([d]) => d);
    const add = devices.filter((d) => !current.includes(d));
    const remove = wanted.length ? current.filter((d) => !devices.includes(d)) : [];
    if (!add.length && !remove.length) return { changed: false };
    if (!ctx.check) {
      for (const d of add.filter((x) => needPv.includes(x))) await run(['pvcreate', ...pvOpts, '-f', d], `Creating physical volume '${d}' failed`);
      if (add.length) await run(['vgextend', vg, ...add], `Unable to extend ${vg} by ${add.join(' ')}`);
      if (remove.length) await run(['vgreduce', '--force', vg, ...remove], `Unable to reduce ${vg} by ${remove.join(' ')}`);
    }
    return { changed: true };
  },
});
