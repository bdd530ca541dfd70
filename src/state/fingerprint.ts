/**
 * Fingerprint of the configuration a step ran with: every inventory source and variable file that feeds the
 * hosts, plus the -e arguments. Gating compares it, and `./run status` names the files that changed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { relative } from 'node:path';

export interface Fingerprint {
  digest: string;
  files: Record<string, string>;
}

export function fingerprint(projectDir: string, files: Iterable<string>, extraArgs: string[] = []): Fingerprint {
  const per: Record<string, string> = {};
  for (const f of [...new Set(files)].sort()) {
    if (!existsSync(f) || !statSync(f).isFile()) continue;
    per[relative(projectDir, f) || f] = createHash('sha256').update(readFileSync(f)).digest('hex').slice(0, 16);
  }
  const h = createHash('sha256');
  for (const [k, v] of Object.entries(per)) h.update(`${k}\0${v}\n`);
  for (const a of extraArgs) h.update(`-e\0${a}\n`);
  return { digest: h.digest('hex').slice(0, 24), files: per };
}
