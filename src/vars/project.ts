/**
 * A project = config + inventory + every variable source, merged per host with Ansible's precedence.
 *
 * Precedence, lowest first (what this project uses of Ansible's list):
 *   inventory group vars: `all`, then other groups by (depth, ansible_group_priority, name)
 *   group_vars/all/*           beside the inventory, then in the project directory
 *   group_vars/<group>/*       same group order; beside the inventory, then in the project directory
 *   inventory host vars
 *   host_vars/<host>/*         beside the inventory, then in the project directory
 *   ── the executor inserts facts, play/role/block/task vars and set_fact here (Project.scope `middle`) ──
 *   extra vars: <project>/vars.yml (as the reference installer passes it), then each -e in order
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { RunError } from '../core/errors.js';
import type { RunConfig } from '../config/config.js';
import { loadInventory } from '../inventory/load.js';
import { IPV4, IPV6 } from '../inventory/hostpattern.js';
import { compareCodePoints, groupsOfHost, hostsOfGroup, type Inventory } from '../inventory/types.js';
import { entityVarsFiles, loadVarsFile, parseExtraVarsArg, type VarsFileOptions } from './files.js';
import { VarScope, type MagicProvider, type VarLayer } from './scope.js';

export interface ProjectOptions {
  config: RunConfig;
  inventoryPath?: string;
  extraVars?: string[];
  cwd?: string;
  /** YAML tags (`!vault`) and whole-file vault decryption, from the vault layer. */
  varsFileOptions?: VarsFileOptions;
  /** load <projectDir>/vars.yml as extra vars (default true) */
  useVarsYml?: boolean;
}

export { OMIT_PLACEHOLDER } from '../template/templar.js';
import { OMIT_PLACEHOLDER } from '../template/templar.js';

export class Project {
  readonly inventory: Inventory;
  readonly inventoryPath: string;
  readonly inventoryDir: string;
  readonly extraLayers: VarLayer[] = [];
  private readonly fileLayerCache = new Map<string, VarLayer[]>();
  private readonly baseCache = new Map<string, VarLayer[]>();
  private readonly scopeCache = new Map<string, VarScope>();
  private readonly varDirs: { dir: string; kind: string }[];

  constructor(
    readonly config: RunConfig,
    private readonly opts: ProjectOptions,
  ) {
    const cwd = opts.cwd ?? process.cwd();
    this.inventoryPath = opts.inventoryPath ? resolve(cwd, opts.inventoryPath) : config.get('inventory');
    if (!existsSync(this.inventoryPath)) {
      throw new RunError(`inventory not found: ${this.inventoryPath}`, {
        exitCode: 5,
        hint: 'pass -i PATH or set `inventory` in run.cfg (see ./run config)',
      });
    }
    this.inventory = loadInventory(this.inventoryPath, { scalarTags: opts.varsFileOptions?.scalarTags, decryptFile: opts.varsFileOptions?.decryptFile });
    this.inventoryDir = statSync(this.inventoryPath).isDirectory() ? this.inventoryPath : dirname(this.inventoryPath);
    this.varDirs = [{ dir: this.inventoryDir, kind: 'beside the inventory' }];
    if (resolve(config.projectDir) !== resolve(this.inventoryDir)) this.varDirs.push({ dir: config.projectDir, kind: 'project' });

    const fopts = opts.varsFileOptions ?? {};
    const varsYml = join(config.projectDir, 'vars.yml');
    if (opts.useVarsYml !== false && existsSync(varsYml)) {
      this.extraLayers.push({ kind: 'extra vars (vars.yml)', label: varsYml, vars: loadVarsFile(varsYml, fopts) });
    }
    (opts.extraVars ?? []).forEach((arg, i) => {
      const { label, vars } = parseExtraVarsArg(arg, i, cwd, fopts);
      this.extraLayers.push({ kind: 'extra vars (-e)', label, vars });
    });
  }

  hosts(): string[] {
    return [...this.inventory.hosts.keys()];
  }

  requireHost(host: string): void {
    if (!this.inventory.hosts.has(host)) {
      const close = this.hosts().filter((h) => h.includes(host) || host.includes(h)).slice(0, 5);
      throw new RunError(`host '${host}' is not in the inventory ${this.inventoryPath}`, {
        exitCode: 5,
        hint: close.length ? `did you mean: ${close.join(', ')}?` : 'see ./run inventory --graph',
      });
    }
  }

  private fileLayers(sub: 'group_vars' | 'host_vars', name: string, dir: string, kind: string): VarLayer[] {
    const key = `${dir}\0${sub}/${name}`;
    let layers = this.fileLayerCache.get(key);
    if (!layers) {
      layers = entityVarsFiles(dir, sub, name).map((f) => ({
        kind: `${sub} (${kind})`,
        label: f,
        vars: loadVarsFile(f, this.opts.varsFileOptions ?? {}),
      }));
      this.fileLayerCache.set(key, layers);
    }
    return layers;
  }

  /** A host's inventory and vars-file layers (no extra vars), lowest precedence first. */
  baseLayers(host: string): VarLayer[] {
    this.requireHost(host);
    const cached = this.baseCache.get(host);
    if (cached) return cached;
    const inv = this.inventory;
    const groups = groupsOfHost(inv, host); // already in merge order
    const out: VarLayer[] = [];
    for (const g of groups) {
      const grp = inv.groups.get(g)!;
      if (grp.vars.size) out.push({ kind: 'inventory group vars', label: `[${g}:vars]`, vars: grp.vars });
    }
    // Ansible: all_plugins_inventory, all_plugins_play, groups_plugins_inventory, groups_plugins_play.
    for (const { dir, kind } of this.varDirs) out.push(...this.fileLayers('group_vars', 'all', dir, kind));
    for (const { dir, kind } of this.varDirs) {
      for (const g of groups) if (g !== 'all') out.push(...this.fileLayers('group_vars', g, dir, kind));
    }
    const h = inv.hosts.get(host)!;
    if (h.vars.size) out.push({ kind: 'inventory host vars', label: `host ${host}`, vars: h.vars });
    for (const { dir, kind } of this.varDirs) out.push(...this.fileLayers('host_vars', host, dir, kind));
    this.baseCache.set(host, out);
    return out;
  }

  /** Every variable file and inventory source that feeds the hosts (for the configuration fingerprint). */
  sourceFiles(): string[] {
    const files = new Set<string>(this.inventory.sources);
    for (const h of this.hosts()) for (const l of this.baseLayers(h)) if (!l.label.startsWith('[') && !l.label.startsWith('host ')) files.add(l.label);
    for (const l of this.extraLayers) if (!l.label.startsWith('-e')) files.add(l.label);
    return [...files];
  }

  /**
   * The scope of a host: `bottom` layers (role defaults) < inventory and vars files < `middle` layers
   * (facts, play/role/block/task vars, set_fact) < extra vars. Without extra layers the scope is cached.
   */
  scope(host: string, middle: VarLayer[] = [], bottom: VarLayer[] = [], magic?: MagicProvider): VarScope {
    const plain = !middle.length && !bottom.length && !magic;
    if (plain && this.scopeCache.has(host)) return this.scopeCache.get(host)!;
    const s = new VarScope(host, [...bottom, ...this.baseLayers(host), ...middle, ...this.extraLayers], magic ?? this.magic(host));
    if (plain) this.scopeCache.set(host, s);
    return s;
  }

  /** Magic variables for a host; `hostvars[h]` is h's plain scope (the executor adds facts). */
  magic(host: string, hostScope: (h: string) => VarScope = (h) => this.scope(h)): MagicProvider {
    const inv = this.inventory;
    return (name) => {
      switch (name) {
        case 'inventory_hostname':
          return { found: true, value: host };
        case 'inventory_hostname_short':
          return { found: true, value: IPV4.test(host) || IPV6.test(host) ? host : host.split('.')[0] };
        case 'group_names':
          // Ansible: every group but `all` (so `ungrouped` too), sorted.
          return { found: true, value: groupsOfHost(inv, host).filter((g) => g !== 'all').sort(compareCodePoints) };
        case 'groups': {
          const o: Record<string, string[]> = {};
          for (const g of inv.groups.keys()) o[g] = hostsOfGroup(inv, g);
          return { found: true, value: o };
        }
        case 'hostvars': {
          // Each host's variables; one that fails to evaluate is left out and surfaces as undefined if used.
          const o: Record<string, Record<string, unknown>> = {};
          for (const h of this.hosts()) o[h] = hostScope(h).all(() => undefined);
          return { found: true, value: o };
        }
        case 'inventory_dir':
          return { found: true, value: this.inventoryDir };
        case 'inventory_file':
          return { found: true, value: this.inventoryPath };
        case 'playbook_dir':
          return { found: true, value: join(this.config.projectDir, 'playbooks') };
        case 'omit':
          return { found: true, value: OMIT_PLACEHOLDER };
        default:
          return { found: false };
      }
    };
  }
}

export function loadProject(opts: ProjectOptions): Project {
  return new Project(opts.config, opts);
}
