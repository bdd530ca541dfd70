/**
 * Turns a host's merged variables into how to reach it: `ansible_connection`, `ansible_host`,
 * `ansible_port`, `ansible_user`, `ansible_password`, `ansible_ssh_private_key_file`, the become
 * settings, and a jump host (`ansible_ssh_jump_host`, or ProxyJump / `-J` / `ssh -W` ProxyCommand in
 * `ansible_ssh_common_args` / `ansible_ssh_extra_args`).
 */
import { userInfo } from 'node:os';
import { TransportError } from './errors.js';
import type { SshTarget } from './ssh.js';
import type { BecomeOptions } from './types.js';

export interface ConnectionDefaults {
  remoteUser?: string;
  privateKeyFile?: string;
}

export type HostConnection =
  | { kind: 'local'; name: string; become: BecomeOptions; becomeByDefault: boolean }
  | { kind: 'ssh'; name: string; target: SshTarget; become: BecomeOptions; becomeByDefault: boolean };

function truthy(v: unknown): boolean {
  if (typeof v === 'string') return /^(true|yes|on|1|y|t)$/i.test(v.trim());
  return v === true || v === 1;
}

type Vars = Record<string, unknown>;

function str(vars: Vars, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = vars[n];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw new TransportError('config', `${n} must be a string, not ${Array.isArray(v) ? 'a list' : typeof v}`);
  }
  return undefined;
}

function port(v: string | undefined, what: string, host: string): number {
  if (v === undefined) return 22;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new TransportError('config', `${what} ${JSON.stringify(v)} is not a TCP port (1-65535)`, { host, exitCode: 5 });
  return n;
}

/** `[user@]host[:port]`, `[user@][v6addr]:port`; a comma list is a chain of jumps (first = nearest). */
export function parseJumpSpec(spec: string): { user?: string; host: string; port?: string }[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      s = s.replace(/^ssh:\/\//, '');
      let user: string | undefined;
      const at = s.lastIndexOf('@');
      if (at >= 0) {
        user = s.slice(0, at);
        s = s.slice(at + 1);
      }
      let host = s;
      let p: string | undefined;
      const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
      if (v6) {
        host = v6[1]!;
        p = v6[2];
      } else {
        const m = /^([^:]+):(\d+)$/.exec(s);
        if (m) {
          host = m[1]!;
          p = m[2];
        }
      }
      return { user, host, port: p };
    });
}

/** Finds a ProxyJump in ssh command-line arguments as Ansible users write them. */
export function jumpFromSshArgs(args: string): string | undefined {
  const m =
    /(?:^|\s)-J\s*([^\s'"]+)/.exec(args) ??
    /-o\s*['"]?ProxyJump[=\s]+([^\s'"]+)/i.exec(args) ??
    // ProxyCommand="ssh -W %h:%p [-q] [-p N] user@host"
    /ProxyCommand[=\s]+['"]?ssh\s+(?:[^'"]*?\s)?-W\s+\S+\s+(?:-q\s+)?(?:-p\s+(\d+)\s+)?([^\s'"]+)/i.exec(args);
  if (!m) return undefined;
  if (m.length === 3 && m[2] !== undefined) {
    // ssh -W form: group 1 = optional port, group 2 = destination
    return m[1] ? `${m[2]}:${m[1]}` : m[2];
  }
  return m[1];
}

/** The value of `-o Name=value` / `-oName value` in ssh arguments (quotes stripped). */
export function sshOption(args: string, name: string): string | undefined {
  const m = new RegExp(`-o\\s*['"]?${name}(?:\\s*=\\s*|\\s+)['"]?([^'"\\s]+)`, 'i').exec(args);
  return m?.[1];
}

export interface ResolveOptions {
  defaults?: ConnectionDefaults;
  /** variables of another inventory host, when a jump host is named by its inventory name */
  lookupHost?: (name: string) => Vars | undefined;
}

export function resolveConnection(name: string, vars: Vars, opts: ResolveOptions = {}, seen: string[] = []): HostConnection {
  const become: BecomeOptions = {};
  const bu = str(vars, 'ansible_become_user');
  if (bu) become.user = bu;
  const bp = str(vars, 'ansible_become_password', 'ansible_become_pass', 'ansible_sudo_pass');
  if (bp !== undefined) become.password = bp;
  const becomeByDefault = truthy(vars.ansible_become);
  const conn = str(vars, 'ansible_connection') ?? 'ssh';
  if (conn === 'local') return { kind: 'local', name, become, becomeByDefault };
  if (conn !== 'ssh' && conn !== 'smart' && conn !== 'paramiko')
    throw new TransportError('config', `ansible_connection=${conn} is not supported (use ssh or local)`, { host: name, exitCode: 5 });
  return { kind: 'ssh', name, target: sshTarget(name, vars, opts, seen), become, becomeByDefault };
}

function sshTarget(name: string, vars: Vars, opts: ResolveOptions, seen: string[]): SshTarget {
  const d = opts.defaults ?? {};
  const t: SshTarget = {
    name,
    address: str(vars, 'ansible_host', 'ansible_ssh_host') ?? name,
    port: port(str(vars, 'ansible_port', 'ansible_ssh_port'), 'ansible_port', name),
    user: str(vars, 'ansible_user', 'ansible_ssh_user') ?? d.remoteUser ?? userInfo().username,
  };
  const key = str(vars, 'ansible_ssh_private_key_file', 'ansible_private_key_file') ?? d.privateKeyFile;
  if (key) t.keyFile = key;
  const pw = str(vars, 'ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password');
  if (pw !== undefined) t.password = pw;
  const args = [str(vars, 'ansible_ssh_common_args'), str(vars, 'ansible_ssh_extra_args')].filter(Boolean).join(' ');
  const khf = sshOption(args, 'UserKnownHostsFile');
  if (khf && khf !== '/dev/null') t.knownHostsFile = khf.split(/\s+/)[0]!;
  const shk = sshOption(args, 'StrictHostKeyChecking');
  if (shk) {
    const v = shk.toLowerCase();
    t.hostKeyChecking = v === 'yes' || v === 'true' ? 'strict' : v === 'accept-new' ? 'accept-new' : 'off';
  } else if (khf === '/dev/null') t.hostKeyChecking = 'off';
  const hkc = vars.ansible_host_key_checking ?? vars.ansible_ssh_host_key_checking;
  if (hkc === false || (typeof hkc === 'string' && /^(false|no|0|off)$/i.test(hkc))) t.hostKeyChecking = 'off';
  let jump = str(vars, 'ansible_ssh_jump_host', 'ansible_jump_host');
  if (!jump && args) jump = jumpFromSshArgs(args);
  if (jump && jump !== 'none') {
    const chain = parseJumpSpec(jump);
    let via: SshTarget | undefined;
    for (const hop of chain) {
      if (seen.includes(hop.host) || hop.host === name)
        throw new TransportError('config', `jump host loop: ${[...seen, name, hop.host].join(' → ')}`, { host: name, exitCode: 5 });
      const hv = opts.lookupHost?.(hop.host);
      let h: SshTarget;
      if (hv) {
        // A jump host that is itself in the inventory uses its own connection variables.
        const r = resolveConnection(hop.host, hv, opts, [...seen, name]);
        if (r.kind !== 'ssh') throw new TransportError('config', `jump host ${hop.host} has ansible_connection=local`, { host: name, exitCode: 5 });
        h = { ...r.target };
        if (hop.user) h.user = hop.user;
        if (hop.port) h.port = port(hop.port, 'jump host port', name);
      } else {
        h = { name: hop.host, address: hop.host, port: port(hop.port, 'jump host port', name), user: hop.user ?? t.user };
        if (t.keyFile) h.keyFile = t.keyFile;
      }
      if (via) h.jump = via;
      via = h;
    }
    if (via) t.jump = via;
  }
  return t;
}
