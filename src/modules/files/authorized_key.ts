/**
 * `authorized_key` (ansible.posix): add/remove public keys in ~user/.ssh/authorized_keys (or `path`), with
 * key_options, comment and exclusive. Ansible's file handling: keys keyed by their base64 blob, a changed
 * key (options/comment) moves to the end, other lines kept in order, the file rewritten in Ansible's
 * serialization; on write ~/.ssh is created 0700 and the file chowned to the user, mode 0600.
 * Keys from URLs are refused (air-gapped sites): pass the key text.
 */
import type { ModuleResult } from '../types.js';
import { boolArg, choiceArg, defineModule, Fail, ModuleArgError, parentDir, pathInfo, shq, strArg } from './common.js';

const PARAMS = ['user', 'key', 'path', 'manage_dir', 'state', 'key_options', 'exclusive', 'validate_certs', 'comment', 'follow'];

const KEY_TYPES = new Set([
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'webauthn-sk-ecdsa-sha2-nistp256@openssh.com',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'sk-ssh-ed25519@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com',
  'ssh-ed25519',
  'ssh-ed25519-cert-v01@openssh.com',
  'ssh-dss',
  'ssh-rsa',
  'ssh-xmss@openssh.com',
  'ssh-xmss-cert-v01@openssh.com',
  'rsa-sha2-256',
  'rsa-sha2-512',
  'ssh-rsa-cert-v01@openssh.com',
  'rsa-sha2-256-cert-v01@openssh.com',
  'rsa-sha2-512-cert-v01@openssh.com',
  'ssh-dss-cert-v01@openssh.com',
]);

interface Key {
  /** the base64 blob (or the raw line for lines that are not keys) */
  id: string;
  type: string | 'skipped';
  options: [string, string | null][];
  comment: string;
  rank: number;
  raw?: string;
}

/** ssh-key options `a,b="x,y",c` → ordered pairs (Ansible's parseoptions). */
function parseOptions(s: string | undefined): [string, string | null][] {
  const out: [string, string | null][] = [];
  if (!s) return out;
  for (const m of s.matchAll(/(?:[^,"']|"[^"]*"|'[^']*')+/g)) {
    const part = m[0];
    const eq = part.indexOf('=');
    if (eq >= 0) out.push([part.slice(0, eq), part.slice(eq + 1)]);
    else out.push([part, null]);
  }
  return out;
}

function optString(o: [string, string | null][]): string {
  return o.map(([k, v]) => (v === null ? k : `${k}=${v}`)).join(',');
}

function parseKey(raw: string, rank: number): Key | undefined {
  const line = raw.replace(/\\#/g, '#');
  const parts = line.split(/\s+/).filter(Boolean);
  if (parts[0] === '#') return { id: line, type: 'skipped', options: [], comment: '', rank, raw: line };
  const ti = parts.findIndex((p) => KEY_TYPES.has(p));
  if (ti < 0 || parts[ti + 1] === undefined) return undefined;
  return { id: parts[ti + 1]!, type: parts[ti]!, options: parseOptions(ti > 0 ? parts.slice(0, ti).join(' ') : undefined), comment: parts.slice(ti + 2).join(' '), rank };
}

/** Python's str.splitlines(keepends=True) for the usual line ends */
function splitKeep(s: string): string[] {
  return s.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

function serialize(keys: Map<string, Key>): string {
  return [...keys.values()]
    .sort((a, b) => a.rank - b.rank)
    .map((k) => {
      if (k.type === 'skipped') return k.raw ?? k.id;
      const opts = k.options.length ? `${optString(k.options)} ` : '';
      return `${opts}${k.type} ${k.id} ${k.comment}\n`;
    })
    .join('');
}

export const authorizedKeyModule = defineModule({
  name: 'authorized_key',
  params: PARAMS,
  async run(args, ctx, r) {
    const user = strArg(args, 'user', { required: true })!;
    const keyArg = strArg(args, 'key', { required: true })!;
    const pathArgV = strArg(args, 'path');
    const manageDir = boolArg(args, 'manage_dir', true);
    const state = choiceArg(args, 'state', ['present', 'absent'] as const, 'present')!;
    const keyOptions = strArg(args, 'key_options');
    const exclusive = boolArg(args, 'exclusive');
    const comment = strArg(args, 'comment');
    const follow = boolArg(args, 'follow');
    if (keyArg.startsWith('http')) throw new ModuleArgError(`key ${keyArg} is a URL: this runner does not fetch keys from the network (air-gapped); pass the key text, e.g. key: "{{ lookup('file', 'id.pub') }}"`);

    const pw = await r.sh(`getent passwd ${shq(user)} || awk -F: -v u=${shq(user)} '$1==u' /etc/passwd`);
    const ent = pw.stdout.split('\n').find((l) => l.startsWith(`${user}:`));
    let uid: number | undefined;
    let gid: number | undefined;
    let home: string | undefined;
    if (ent) {
      const f = ent.split(':');
      uid = Number(f[2]);
      gid = Number(f[3]);
      home = f[5];
    } else if (!(ctx.check && pathArgV !== undefined)) {
      throw new Fail(
        ctx.check && pathArgV === undefined ? 'Either user must exist or you must provide full path to key file in check mode' : `Failed to lookup user ${user}: no such user on the target; create it first (user module)`,
      );
    }
    const pathGiven = pathArgV === undefined ? undefined : await r.expandUser(pathArgV);
    const sshdir = pathGiven === undefined ? `${home}/.ssh` : parentDir(pathGiven);
    let keyfile = pathGiven ?? `${home}/.ssh/authorized_keys`;
    const info0 = await r.stat(keyfile, { follow: true });
    if (follow && info0.realpath) keyfile = info0.realpath;
    const info = info0.kind === 'link' && info0.target ? info0.target : info0;
    const existingText = info.exists && info.kind === 'file' ? (await r.get(keyfile)).toString('utf8') : '';

    const existing = new Map<string, Key>();
    splitKeep(existingText).forEach((line, i) => {
      const k = parseKey(line, i);
      if (k) existing.set(k.id, k);
      else existing.set(line, { id: line, type: 'skipped', options: [], comment: '', rank: i, raw: line });
    });
    const newKeys = keyArg.split(/\r\n|\r|\n/).filter((s) => s && !s.startsWith('#'));
    let doWrite = false;
    const keep: string[] = [];
    const maxRank = existing.size;
    newKeys.forEach((line, i) => {
      let k = parseKey(line, i);
      if (!k || k.type === 'skipped') throw new Fail(`invalid key specified: ${line.slice(0, 60)}${line.length > 60 ? '…' : ''}`);
      if (keyOptions !== undefined) k = { ...k, options: parseOptions(keyOptions) };
      if (comment !== undefined) k = { ...k, comment };
      const old = existing.get(k.id);
      let matched = false;
      let mismatch = false;
      if (old) {
        const same = old.type === k.type && optString(old.options) === optString(k.options) && old.comment === k.comment;
        if (!same && state === 'present') mismatch = true;
        else matched = true;
      }
      if (state === 'present') {
        keep.push(k.id);
        if (mismatch) {
          existing.delete(k.id);
          doWrite = true;
        }
        if (!matched) {
          existing.set(k.id, { ...k, rank: maxRank + k.rank });
          doWrite = true;
        }
      } else if (matched) {
        existing.delete(k.id);
        doWrite = true;
      }
    });
    if (state === 'present' && exclusive) {
      for (const id of [...existing.keys()]) {
        if (!keep.includes(id)) {
          existing.delete(id);
          doWrite = true;
        }
      }
    }
    const res: ModuleResult = {
      changed: doWrite,
      user,
      key: keyArg,
      key_options: keyOptions ?? null,
      keyfile,
      manage_dir: manageDir,
      path: pathArgV ?? null,
      state,
      exclusive,
      comment: comment ?? null,
      follow,
      validate_certs: boolArg(args, 'validate_certs', true),
    };
    // Ansible adds the info of `path` (when given and present) to the result; its state overrides ours
    const withPath = async (final: boolean): Promise<ModuleResult> => {
      if (pathGiven === undefined) return res;
      const i = final ? await r.stat(pathGiven) : info0;
      return { ...res, ...pathInfo(i) };
    };
    if (!doWrite) return withPath(false);
    const next = serialize(existing);
    if (ctx.diff) res.diff = { before_header: keyfile, after_header: keyfile, before: existingText, after: next };
    if (ctx.check) return withPath(false);
    if (uid === undefined || gid === undefined) throw new Fail(`Failed to lookup user ${user}`);
    if (manageDir) {
      await r.shOk(`d=${shq(sshdir)}; [ -d "$d" ] || mkdir -m 700 -- "$d" && chown ${uid}:${gid} -- "$d" && chmod 700 -- "$d"`, `Failed to create directory ${sshdir}`);
    }
    if (!info.exists) await r.shOk(`mkdir -p -- ${shq(parentDir(keyfile))}`, `could not create ${parentDir(keyfile)}`);
    await r.put(Buffer.from(next, 'utf8'), keyfile, { mode: 0o600, owner: uid, group: gid });
    return withPath(true);
  },
});
