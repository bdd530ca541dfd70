/**
 * `openssh_keypair` (community.crypto, openssh backend): `path` + `path.pub` made with the target's
 * ssh-keygen (type rsa/dsa/ecdsa/ed25519, size, comment). Idempotent as `regenerate: partial_idempotence`:
 * an existing key of the wanted type and size is kept; a wrong comment is fixed in place (ssh-keygen -c)
 * and a missing/mismatching public key file is rewritten from the private key. Private key mode 0600
 * unless `mode`; owner/group apply to both files. Passphrase-protected keys are not supported.
 */
import type { ModuleResult } from '../types.js';
import {
  applyAttrs,
  attrPlanEmpty,
  backupFile,
  boolArg,
  choiceArg,
  defineModule,
  Fail,
  FILE_COMMON,
  intArg,
  ModuleArgError,
  parentDir,
  pathArg,
  planAttrs,
  type Remote,
  shq,
  strArg,
  type WantAttrs,
  wantAttrs,
} from './common.js';

const PARAMS = ['path', 'type', 'size', 'comment', 'force', 'state', 'regenerate', 'passphrase', 'private_key_format', 'backend', 'backup', ...FILE_COMMON];

const DEFAULT_SIZE: Record<string, number> = { rsa: 4096, dsa: 1024, ecdsa: 256, ed25519: 256 };
const TYPE_OF: Record<string, string> = { RSA: 'rsa', DSA: 'dsa', ECDSA: 'ecdsa', ED25519: 'ed25519' };

interface KeyState {
  type: string;
  size: number;
  fingerprint: string;
  /** `type blob` derived from the private key */
  publicKey: string;
  /** comment stored with the private key ('' if none) */
  comment: string;
  /** content of path.pub, if present */
  pubFile?: string;
}

async function inspect(r: Remote, path: string): Promise<KeyState | undefined> {
  const res = await r.sh(
    [
      `k=${shq(path)}`,
      '[ -f "$k" ] || exit 3',
      `l=$(ssh-keygen -l -f "$k" 2>/dev/null) || exit 4`,
      `y=$(ssh-keygen -y -P '' -f "$k" 2>/dev/null) || exit 4`,
      `printf 'L%s\\nY%s\\n' "$l" "$y"`,
      '[ -f "$k.pub" ] && printf "P%s\\n" "$(cat -- "$k.pub")"',
      'exit 0',
    ].join('\n'),
    { trace: `ssh-keygen -l/-y ${path}` },
  );
  if (res.rc === 3) return undefined;
  if (res.rc === 4) return { type: '', size: 0, fingerprint: '', publicKey: '', comment: '' };
  const lines = res.stdout.split('\n');
  const l = lines.find((x) => x.startsWith('L'))?.slice(1) ?? '';
  const y = lines.find((x) => x.startsWith('Y'))?.slice(1) ?? '';
  const p = lines.find((x) => x.startsWith('P'))?.slice(1);
  const m = /^(\d+) (\S+) (.*) \(([A-Z0-9-]+)\)$/.exec(l);
  const yp = y.split(' ');
  const st: KeyState = {
    type: TYPE_OF[m?.[4] ?? ''] ?? (m?.[4] ?? '').toLowerCase(),
    size: Number(m?.[1] ?? 0),
    fingerprint: m?.[2] ?? '',
    publicKey: yp.slice(0, 2).join(' '),
    comment: yp.length > 2 ? yp.slice(2).join(' ') : m && m[3] !== 'no comment' ? m[3]! : '',
  };
  if (p !== undefined) st.pubFile = p;
  return st;
}

async function settleAttrs(r: Remote, path: string, want: WantAttrs, pubWant: WantAttrs): Promise<boolean> {
  const [priv, pub] = await r.probe([path, `${path}.pub`]);
  const a = await planAttrs(r, priv!, want);
  const b = pub!.exists ? await planAttrs(r, pub!, pubWant) : {};
  const changed = !attrPlanEmpty(a) || !attrPlanEmpty(b);
  if (changed && !r.check) {
    await applyAttrs(r, path, a);
    if (pub!.exists) await applyAttrs(r, `${path}.pub`, b);
  }
  return changed;
}

export const opensshKeypairModule = defineModule({
  name: 'openssh_keypair',
  params: PARAMS,
  async run(args, ctx, r) {
    const path = await r.expandUser(pathArg(args, ['path']));
    const state = choiceArg(args, 'state', ['present', 'absent'] as const, 'present')!;
    const type = choiceArg(args, 'type', ['rsa', 'dsa', 'rsa1', 'ecdsa', 'ed25519'] as const, 'rsa')!;
    if (type === 'rsa1') throw new ModuleArgError('type rsa1 is not supported');
    const size = intArg(args, 'size', DEFAULT_SIZE[type])!;
    const comment = strArg(args, 'comment');
    const force = boolArg(args, 'force');
    const regenerate = choiceArg(args, 'regenerate', ['never', 'fail', 'partial_idempotence', 'full_idempotence', 'always'] as const, 'partial_idempotence')!;
    if (strArg(args, 'passphrase')) throw new ModuleArgError('passphrase-protected keys are not supported by this runner (ssh-keygen would need the passphrase on its command line)');
    const want = wantAttrs(args, ctx, r);
    const privWant: WantAttrs = { ...want, mode: want.mode ?? 0o600 };
    const pubWant: WantAttrs = { ...want, mode: 0o644 };
    const backup = boolArg(args, 'backup');
    const res: ModuleResult = { changed: false, filename: path };

    const cur = await inspect(r, path);
    if (state === 'absent') {
      if (!cur) return res;
      res.changed = true;
      if (!ctx.check) {
        if (backup) res.backup_file = await backupFile(r, path);
        await r.shOk(`rm -f -- ${shq(path)} ${shq(`${path}.pub`)}`, `could not remove ${path}`);
      }
      return res;
    }
    const valid = cur !== undefined && cur.type !== '';
    let regen = force || regenerate === 'always' || !valid;
    if (!regen && cur && (cur.type !== type || (type !== 'ed25519' && cur.size !== size))) {
      if (regenerate === 'never') regen = false;
      else if (regenerate === 'fail') throw new Fail(`Key ${path} has wrong type and/or size: fix it or set regenerate`);
      else regen = true;
    }
    if (cur && !valid && regenerate === 'never') throw new Fail(`${path} exists but is not a readable unencrypted OpenSSH private key (regenerate=never)`);
    if (regen) {
      res.changed = true;
      if (ctx.check) return { ...res, type, size, comment: comment ?? null };
      const dir = parentDir(path);
      const script = [
        `d=$(mktemp -d ${shq(`${dir}/.burrow-keygen.XXXXXXXX`)}) || exit 1`,
        `trap 'rm -rf -- "$d"' EXIT`,
        `ssh-keygen -q -t ${type}${type === 'ed25519' ? '' : ` -b ${size}`} -C ${shq(comment ?? '')} -N '' -f "$d/k" </dev/null >&2 || exit 1`,
        `mv -f -- "$d/k" ${shq(path)} && mv -f -- "$d/k.pub" ${shq(`${path}.pub`)}`,
      ].join('\n');
      if (backup && cur) res.backup_file = await backupFile(r, path);
      await r.shOk(script, `ssh-keygen could not create ${path}`);
    } else if (cur) {
      // comment and public key file
      if (comment !== undefined && cur.comment !== comment) {
        res.changed = true;
        if (!ctx.check) await r.shOk(`ssh-keygen -q -c -C ${shq(comment)} -P '' -f ${shq(path)} </dev/null >/dev/null`, `could not update the comment of ${path}`);
      }
      const pubText = `${cur.publicKey}${(comment ?? cur.comment) ? ` ${comment ?? cur.comment}` : ''}`;
      const pubParts = (cur.pubFile ?? '').split(' ');
      const pubOk = cur.pubFile !== undefined && pubParts.slice(0, 2).join(' ') === cur.publicKey && (comment === undefined || pubParts.slice(2).join(' ') === comment);
      if (!pubOk) {
        res.changed = true;
        if (!ctx.check) await r.put(Buffer.from(`${pubText}\n`, 'utf8'), `${path}.pub`, { mode: 0o644 });
      }
    }
    if (await settleAttrs(r, path, privWant, pubWant)) res.changed = true;
    const after = ctx.check ? cur : await inspect(r, path);
    if (after) Object.assign(res, { type: after.type || type, size: after.size || size, fingerprint: after.fingerprint, public_key: after.publicKey, comment: comment ?? after.comment });
    return res;
  },
});
