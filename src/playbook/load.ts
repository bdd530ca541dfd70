/** Entry point: `loadPlaybook(file, opts)`. */
import { Loader } from './loader.js';
import type { LoadOptions, Playbook } from './types.js';

const loaders = new WeakMap<Playbook, Loader>();

/**
 * Load and validate a playbook: import_playbook/import_tasks/import_role expanded, roles loaded, every
 * keyword and module checked. Throws ParseError (exit 4) with file:line:col and a hint.
 */
export function loadPlaybook(file: string, opts: LoadOptions): Playbook {
  const loader = new Loader(opts);
  const pb = loader.loadPlaybook(file);
  loaders.set(pb, loader);
  return pb;
}

/** The loader that built a playbook (run-time includes reuse its role cache and options). */
export function loaderOf(pb: Playbook): Loader {
  const l = loaders.get(pb);
  if (!l) throw new Error('playbook was not created by loadPlaybook()');
  return l;
}
