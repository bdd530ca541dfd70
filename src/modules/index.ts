/**
 * The module registry: every module the runner ships, by short name. The playbook loader validates tasks
 * against it (unknown module → error before anything runs); the executor runs from it.
 */
import { floorModules } from '../playbook/floor-modules.js';
import type { ModuleMap, ModuleSpec } from '../playbook/types.js';
import { FILE_MODULES } from './files/index.js';
import { SYSTEM_MODULES } from './system/index.js';
import type { Module } from './types.js';

let registry: Map<string, Module> | undefined;

export function modules(): ReadonlyMap<string, Module> {
  if (!registry) {
    registry = new Map();
    for (const m of [...FILE_MODULES, ...SYSTEM_MODULES]) registry.set(m.name, m);
  }
  return registry;
}

/**
 * What the playbook loader accepts: the runner's modules, the engine's own actions, and for names the
 * reference installer uses but the runner does not implement yet, the loader's argument rules — such a task
 * loads, and fails with a clear message when it runs.
 */
export function moduleSpecs(): ModuleMap {
  const m = new Map<string, ModuleSpec>(floorModules());
  for (const [k, v] of modules()) m.set(k, { ...m.get(k), ...v });
  return m;
}
