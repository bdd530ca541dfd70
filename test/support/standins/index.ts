/**
 * Test stand-ins for the OS services that cannot run on the test hosts (house rule: only systemd and dnf,
 * at the command boundary, and each stand-in says so — see the header of each script and their
 * `--version`). The scripts are POSIX sh, installed into a test host's own root at /usr/local/sbin, which
 * comes first in root's PATH and in sudo's secure_path, so the modules find them exactly where they would
 * find the real commands:
 *  - `systemctl`: unit state in /var/lib/standin/systemd, units = unit files in the usual directories,
 *    every call logged to /var/log/standin-systemctl.log;
 *  - `dnf` + `rpm` (queries only): a text package database /var/lib/standin/rpmdb and a text repository
 *    /var/lib/standin/dnf-repo, calls logged to /var/log/standin-{dnf,rpm}.log.
 * apt/dpkg are real on the (Debian) test hosts and are never stood in for.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestHost } from '../testhosts.js';

export type Standin = 'systemctl' | 'dnf' | 'rpm';
export const STANDINS: readonly Standin[] = ['systemctl', 'dnf', 'rpm'];
const DIR = import.meta.dirname;

/** Copy the stand-ins into the host's root (`/usr/local/sbin/<name>`, mode 0755). Returns the paths inside the host. */
export function installStandins(host: TestHost, which: readonly Standin[] = STANDINS): string[] {
  const out: string[] = [];
  for (const name of which) {
    const p = `/usr/local/sbin/${name}`;
    mkdirSync(host.path('/usr/local/sbin'), { recursive: true });
    host.writeFile(p, readFileSync(join(DIR, name)), 0o755);
    out.push(p);
  }
  return out;
}

/** A package in the dnf stand-in's repository or database: `name version-release arch`. */
export interface StandinPackage {
  name: string;
  /** `version-release`, e.g. `1.2-3.el9` */
  vr: string;
  arch?: string;
}

function pkgLines(pkgs: readonly StandinPackage[]): string {
  return pkgs.map((p) => `${p.name} ${p.vr} ${p.arch ?? 'noarch'}\n`).join('');
}

/** Replace the dnf stand-in's repository (what `dnf install/upgrade` can get). */
export function setDnfRepo(host: TestHost, pkgs: readonly StandinPackage[]): void {
  mkdirSync(host.path('/var/lib/standin'), { recursive: true });
  host.writeFile('/var/lib/standin/dnf-repo', pkgLines(pkgs), 0o644);
}

/** Replace the stand-in rpm database (what is "installed"). */
export function setRpmDb(host: TestHost, pkgs: readonly StandinPackage[]): void {
  mkdirSync(host.path('/var/lib/standin'), { recursive: true });
  host.writeFile('/var/lib/standin/rpmdb', pkgLines(pkgs), 0o644);
}

/** The stand-in rpm database as `name version-release arch` lines. */
export function rpmDb(host: TestHost): string[] {
  try {
    return host.readFile('/var/lib/standin/rpmdb').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** Calls recorded by a stand-in (`<epoch> <name> <args>` lines, the arguments only). */
export function standinCalls(host: TestHost, name: Standin): string[] {
  try {
    return host
      .readFile(`/var/log/standin-${name}.log`)
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/^\d+ \S+ ?/, ''));
  } catch {
    return [];
  }
}

/** Write a unit file into the host (`/etc/systemd/system/<name>`). */
export function writeUnit(host: TestHost, name: string, opts: { description?: string; install?: boolean; reload?: boolean } = {}): void {
  const lines = ['[Unit]', `Description=${opts.description ?? name}`, '', '[Service]', 'ExecStart=/bin/sleep infinity'];
  if (opts.reload) lines.push('ExecReload=/bin/kill -HUP $MAINPID');
  if (opts.install ?? true) lines.push('', '[Install]', 'WantedBy=multi-user.target');
  mkdirSync(host.path('/etc/systemd/system'), { recursive: true });
  host.writeFile(`/etc/systemd/system/${name}`, lines.join('\n') + '\n', 0o644);
}
