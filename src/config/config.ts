/**
 * run.cfg — the runner's ansible.cfg. INI, section [defaults]. Every value remembers where it came from
 * (default, file:line, or environment variable) so `./run config` can show it.
 *
 * Lookup of the file: $RUN_CONFIG, else ./run.cfg in the working directory, else run.cfg in the project
 * (install) directory. Relative paths inside the file resolve against the file's directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseIni } from 'ini';
import { ParseError, type SourcePos } from '../core/errors.js';

export type HostKeyChecking = 'strict' | 'accept-new' | 'off';

export interface ConfigValues {
  inventory: string;
  forks: number;
  timeout: number;
  command_timeout: number;
  remote_user: string | undefined;
  private_key_file: string | undefined;
  host_key_checking: HostKeyChecking;
  known_hosts_file: string;
  vault_password_file: string;
  vault_identity_list: string[];
  log_path: string;
  become_method: 'sudo';
}
export type ConfigKey = keyof ConfigValues;

type Kind = 'path' | 'int' | 'string' | 'hostkey' | 'list' | 'become';
interface KeySpec {
  kind: Kind;
  help: string;
  def: (projectDir: string) => unknown;
  min?: number;
}

const SPECS: { [K in ConfigKey]: KeySpec } = {
  inventory: { kind: 'path', help: 'inventory file or directory', def: (p) => join(p, 'inventory', 'local') },
  forks: { kind: 'int', min: 1, help: 'hosts worked on in parallel', def: () => 50 },
  timeout: { kind: 'int', min: 1, help: 'SSH connect timeout, seconds', def: () => 10 },
  command_timeout: { kind: 'int', min: 0, help: 'per-command timeout, seconds (0 = none)', def: () => 0 },
  remote_user: { kind: 'string', help: 'SSH user when the inventory sets no ansible_user', def: () => undefined },
  private_key_file: { kind: 'path', help: 'SSH private key when the inventory sets none', def: () => undefined },
  host_key_checking: { kind: 'hostkey', help: 'strict | accept-new | off', def: () => 'accept-new' },
  known_hosts_file: { kind: 'path', help: 'OpenSSH known_hosts file', def: () => join(homedir(), '.ssh', 'known_hosts') },
  vault_password_file: { kind: 'path', help: 'vault password file (executable: its stdout)', def: (p) => join(p, '.vaultpass') },
  vault_identity_list: { kind: 'list', help: 'vault ids, label@source, comma separated', def: () => [] },
  log_path: { kind: 'path', help: 'directory for run logs and event files', def: (p) => join(p, 'logs') },
  become_method: { kind: 'become', help: 'privilege escalation method (sudo)', def: () => 'sudo' },
};

export const CONFIG_KEYS = Object.keys(SPECS) as ConfigKey[];
export const configKeyHelp = (k: ConfigKey): string => SPECS[k].help;

/** The directory that holds `./run`, playbooks/ and the embedded inventory. */
export function installDir(): string {
  // dist/config/config.js or src/config/config.ts → two levels up.
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export class RunConfig {
  constructor(
    readonly projectDir: string,
    readonly file: string | undefined,
    private readonly values: Map<ConfigKey, { value: unknown; source: string }>,
  ) {}

  get<K extends ConfigKey>(k: K): ConfigValues[K] {
    return this.values.get(k)!.value as ConfigValues[K];
  }

  /** `default`, `run.cfg:12`, or `env RUN_FORKS`. */
  source(k: ConfigKey): string {
    return this.values.get(k)!.source;
  }

  /** A copy with some values replaced by command-line flags. */
  withOverrides(over: Partial<ConfigValues>, source = 'command line'): RunConfig {
    const m = new Map(this.values);
    for (const [k, v] of Object.entries(over) as [ConfigKey, unknown][]) {
      if (v !== undefined) m.set(k, { value: v, source });
    }
    return new RunConfig(this.projectDir, this.file, m);
  }
}

function convert(key: ConfigKey, raw: string, baseDir: string, pos: SourcePos): unknown {
  const spec = SPECS[key];
  const v = raw.trim();
  switch (spec.kind) {
    case 'path':
      if (v === '') return undefined;
      return isAbsolute(v) ? v : v.startsWith('~/') ? join(homedir(), v.slice(2)) : resolve(baseDir, v);
    case 'string':
      return v === '' ? undefined : v;
    case 'int': {
      if (!/^\d+$/.test(v) || Number(v) < (spec.min ?? 0)) {
        throw new ParseError(`${key} must be a whole number ≥ ${spec.min ?? 0}, got '${v}'`, {
          pos,
          hint: `for example: ${key} = ${String(spec.def(baseDir))}`,
        });
      }
      return Number(v);
    }
    case 'hostkey': {
      const l = v.toLowerCase();
      // ansible.cfg compatibility: host_key_checking = True/False.
      if (['strict', 'yes', 'true', '1'].includes(l)) return 'strict';
      if (['off', 'no', 'false', '0'].includes(l)) return 'off';
      if (l === 'accept-new') return 'accept-new';
      throw new ParseError(`host_key_checking must be strict, accept-new or off, got '${v}'`, { pos });
    }
    case 'list':
      return v === '' ? [] : v.split(',').map((s) => s.trim()).filter(Boolean);
    case 'become':
      if (v !== 'sudo') throw new ParseError(`become_method '${v}' is not supported; only sudo is`, { pos });
      return v;
  }
}

/** Line number of `key =` inside [defaults] in the raw text, for messages and `./run config`. */
function lineOf(text: string, key: string): number | undefined {
  const lines = text.split('\n');
  const re = new RegExp(`^\\s*${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*[=:]`);
  for (let i = 0; i < lines.length; i++) if (re.test(lines[i]!)) return i + 1;
  return undefined;
}

export interface LoadConfigOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  configPath?: string;
}

export function findConfigFile(opts: LoadConfigOptions = {}): string | undefined {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  if (opts.configPath) return resolve(cwd, opts.configPath);
  if (env.RUN_CONFIG) return resolve(cwd, env.RUN_CONFIG);
  for (const c of [join(cwd, 'run.cfg'), join(installDir(), 'run.cfg')]) if (existsSync(c)) return c;
  return undefined;
}

export function loadRunConfig(opts: LoadConfigOptions = {}): RunConfig {
  const env = opts.env ?? process.env;
  const file = findConfigFile(opts);
  const projectDir = file ? dirname(file) : opts.cwd && existsSync(join(opts.cwd, 'inventory')) ? opts.cwd : installDir();
  const values = new Map<ConfigKey, { value: unknown; source: string }>();
  for (const k of CONFIG_KEYS) values.set(k, { value: SPECS[k].def(projectDir), source: 'default' });

  if (file) {
    if (!existsSync(file)) throw new ParseError('config file not found', { pos: { file }, hint: 'check RUN_CONFIG or --config' });
    const text = readFileSync(file, 'utf8');
    let parsed: Record<string, unknown>;
    try {
      parsed = parseIni(text) as Record<string, unknown>;
    } catch (e) {
      throw new ParseError(`cannot parse config: ${(e as Error).message}`, { pos: { file } });
    }
    for (const [section, body] of Object.entries(parsed)) {
      if (section !== 'defaults') {
        const line = text.split('\n').findIndex((l) => l.trim() === `[${section}]`) + 1;
        throw new ParseError(
          typeof body === 'object' ? `unknown section [${section}]` : `setting '${section}' is outside any section`,
          { pos: { file, line: line || lineOf(text, section) }, hint: 'put settings under [defaults]' },
        );
      }
      for (const [k, raw] of Object.entries(body as Record<string, unknown>)) {
        const pos: SourcePos = { file, line: lineOf(text, k) };
        if (!(k in SPECS)) {
          throw new ParseError(`unknown setting '${k}'`, {
            pos,
            hint: `known settings: ${CONFIG_KEYS.join(', ')}`,
          });
        }
        const key = k as ConfigKey;
        values.set(key, { value: convert(key, String(raw), projectDir, pos), source: `${file}:${pos.line ?? '?'}` });
      }
    }
  }
  for (const k of CONFIG_KEYS) {
    const name = `RUN_${k.toUpperCase()}`;
    const raw = env[name];
    if (raw !== undefined) {
      values.set(k, { value: convert(k, raw, opts.cwd ?? process.cwd(), { file: `environment ${name}` }), source: `env ${name}` });
    }
  }
  return new RunConfig(projectDir, file, values);
}
