/**
 * `user`: create/modify/remove a local account with useradd/usermod/userdel (Ansible's Linux semantics):
 * uid, primary group, supplementary groups (exact, or added with append), shell, home (move_home),
 * create_home, comment, system, expires, password (a crypt hash, set through `chpasswd -e` on stdin so it
 * never appears in a command line), update_password always/on_create, password_lock.
 */
import type { ModuleResult } from '../types.js';
import { boolArg, choiceArg, defineModule, Fail, intArg, listArg, ModuleArgError, parentDir, type Remote, shq, strArg } from './common.js';

const UNSUPPORTED = ['generate_ssh_key', 'ssh_key_bits', 'ssh_key_comment', 'ssh_key_file', 'ssh_key_passphrase', 'ssh_key_type', 'seuser', 'local', 'login_class', 'profile', 'authorization', 'role', 'hidden', 'umask', 'password_expire_max', 'password_expire_min', 'password_expire_warn'];

const PARAMS = [
  'name',
  'user',
  'state',
  'uid',
  'group',
  'groups',
  'append',
  'shell',
  'home',
  'create_home',
  'createhome',
  'move_home',
  'password',
  'update_password',
  'system',
  'comment',
  'remove',
  'force',
  'non_unique',
  'password_lock',
  'skeleton',
  'expires',
  ...UNSUPPORTED,
];

interface Account {
  uid: number;
  gid: number;
  comment: string;
  home: string;
  shell: string;
  hash?: string;
  expireDays?: string;
  groups: string[];
}

async function lookup(r: Remote, name: string): Promise<Account | undefined> {
  const res = await r.sh(
    [
      `u=${shq(name)}`,
      `p=$(getent passwd "$u" 2>/dev/null) || p=$(awk -F: -v u="$u" '$1==u' /etc/passwd)`,
      `[ -n "$p" ] || exit 3`,
      `printf 'P%s\\n' "$p"`,
      `s=$(getent shadow "$u" 2>/dev/null) && printf 'S%s\\n' "$s"`,
      `getent group 2>/dev/null | awk -F: -v u="$u" '{n=split($4,a,","); for(i=1;i<=n;i++) if(a[i]==u) print "G" $1 ":" $3}'`,
      'exit 0',
    ].join('\n'),
    { trace: `getent passwd/shadow/group ${name}` },
  );
  if (res.rc === 3) return undefined;
  if (res.rc !== 0) throw new Fail(`could not look up user ${name}: ${res.stderr.trim()}`);
  const lines = res.stdout.split('\n');
  const p = lines.find((l) => l.startsWith('P'))!.slice(1).split(':');
  const s = lines.find((l) => l.startsWith('S'))?.slice(1).split(':');
  const gid = Number(p[3]);
  const a: Account = {
    uid: Number(p[2]),
    gid,
    comment: p[4] ?? '',
    home: p[5] ?? '',
    shell: p[6] ?? '',
    groups: lines
      .filter((l) => l.startsWith('G'))
      .map((l) => l.slice(1).split(':'))
      .filter(([, g]) => Number(g) !== gid)
      .map(([n]) => n!),
  };
  if (s) {
    a.hash = s[1];
    a.expireDays = s[7];
  }
  return a;
}

/** group name or gid → [name, gid], undefined when it does not exist */
async function group(r: Remote, g: string): Promise<[string, number] | undefined> {
  const res = await r.sh(`getent group ${shq(g)} 2>/dev/null || awk -F: -v g=${shq(g)} '$1==g || $3==g' /etc/group`);
  const line = res.stdout.split('\n').find(Boolean);
  if (!line) return undefined;
  const f = line.split(':');
  return [f[0]!, Number(f[2])];
}

export const userModule = defineModule({
  name: 'user',
  params: PARAMS,
  async run(args, ctx, r) {
    for (const u of UNSUPPORTED) if (args[u] !== undefined && args[u] !== null && args[u] !== false) throw new ModuleArgError(`${u} is not supported by this runner's user module`);
    const name = strArg(args, ['name', 'user'], { required: true })!;
    if (!/^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$/.test(name)) throw new ModuleArgError(`invalid user name ${JSON.stringify(name)}`);
    const state = choiceArg(args, 'state', ['present', 'absent'] as const, 'present')!;
    const uid = intArg(args, 'uid');
    const groupArg = strArg(args, 'group');
    const groupsArg = listArg(args, 'groups')?.filter((g) => g !== '');
    const append = boolArg(args, 'append');
    const shell = strArg(args, 'shell');
    const home = strArg(args, 'home');
    const createHome = boolArg(args, args.createhome !== undefined ? 'createhome' : 'create_home', true);
    const moveHome = boolArg(args, 'move_home');
    const password = strArg(args, 'password');
    const updatePassword = choiceArg(args, 'update_password', ['always', 'on_create'] as const, 'always')!;
    const system = boolArg(args, 'system');
    const comment = strArg(args, 'comment');
    const remove = boolArg(args, 'remove');
    const force = boolArg(args, 'force');
    const nonUnique = boolArg(args, 'non_unique');
    const lockArg = args.password_lock;
    const lock = lockArg === undefined || lockArg === null ? undefined : boolArg(args, 'password_lock');
    const skeleton = strArg(args, 'skeleton');
    const expiresArg = args.expires;
    let expires: string | undefined;
    if (expiresArg !== undefined && expiresArg !== null && expiresArg !== '') {
      const n = Number(expiresArg);
      if (!Number.isFinite(n)) throw new ModuleArgError('expires must be epoch seconds (a number)');
      expires = n < 0 ? '' : new Date(n * 1000).toISOString().slice(0, 10);
    }
    if (password !== undefined && password !== '' && !/^(\$[0-9a-z]+\$|!|\*)/.test(password) && password.length > 0) {
      ctx.warn('The input password appears not to have been hashed. The password argument must be a crypt hash (e.g. password_hash filter)');
    }

    const cur = await lookup(r, name);
    const res: ModuleResult = { changed: false, name, state };
    if (password !== undefined) res.password = 'NOT_LOGGING_PASSWORD';

    if (state === 'absent') {
      if (!cur) return res;
      res.changed = true;
      res.force = force;
      res.remove = remove;
      if (!ctx.check) await r.shOk(`userdel ${force ? '-f ' : ''}${remove ? '-r ' : ''}-- ${shq(name)}`, `userdel ${name} failed`);
      return res;
    }

    let gid: number | undefined;
    if (groupArg !== undefined) {
      const g = await group(r, groupArg);
      if (!g) throw new Fail(`Group ${groupArg} does not exist: create it first (group module) or fix 'group'`);
      gid = g[1];
    }
    const groupNames: string[] = [];
    for (const g of groupsArg ?? []) {
      const gg = await group(r, g);
      if (!gg) throw new Fail(`Group ${g} does not exist: create it first or fix 'groups'`);
      if (gg[1] !== (gid ?? cur?.gid)) groupNames.push(gg[0]);
    }
    const cmdSetPassword = async (): Promise<void> => {
      const hash = lock ? `!${password}` : password!;
      await r.shOk('chpasswd -e', `setting the password of ${name} failed`, { stdin: `${name}:${hash}\n`, trace: `chpasswd -e (password hash of ${name} on stdin)` });
    };

    if (!cur) {
      const cmd = ['useradd'];
      if (uid !== undefined) cmd.push('-u', String(uid), ...(nonUnique ? ['-o'] : []));
      if (groupArg !== undefined) cmd.push('-g', String(gid));
      else if (await group(r, name)) cmd.push('-N');
      if (groupNames.length) cmd.push('-G', groupNames.join(','));
      if (comment !== undefined) cmd.push('-c', comment);
      if (home !== undefined) cmd.push('-d', home);
      if (shell !== undefined) cmd.push('-s', shell);
      if (expires !== undefined) cmd.push('-e', expires);
      if (createHome) {
        cmd.push('-m');
        if (skeleton !== undefined) cmd.push('-k', skeleton);
      } else cmd.push('-M');
      if (system) cmd.push('-r');
      cmd.push('--', name);
      res.changed = true;
      if (!ctx.check) {
        if (home !== undefined && createHome) await r.shOk(`mkdir -p -- ${shq(parentDir(home))}`, `could not create ${parentDir(home)}`);
        await r.shOk(cmd.map((c, i) => (i === 0 ? c : shq(c))).join(' '), `useradd ${name} failed`);
        if (password !== undefined && password !== '') await cmdSetPassword();
        else if (lock) await r.shOk(`usermod -L -- ${shq(name)}`, `locking ${name} failed`);
      }
    } else {
      const cmd: string[] = [];
      if (uid !== undefined && uid !== cur.uid) cmd.push('-u', String(uid), ...(nonUnique ? ['-o'] : []));
      if (gid !== undefined && gid !== cur.gid) cmd.push('-g', String(gid));
      if (groupsArg !== undefined) {
        const have = new Set(cur.groups);
        const wantSet = new Set(groupNames);
        const need = append ? groupNames.some((g) => !have.has(g)) : have.size !== wantSet.size || [...have].some((g) => !wantSet.has(g));
        if (need) cmd.push(...(append ? ['-a'] : []), '-G', groupNames.join(','));
      }
      if (comment !== undefined && comment !== cur.comment) cmd.push('-c', comment);
      if (home !== undefined && home !== cur.home) cmd.push('-d', home, ...(moveHome ? ['-m'] : []));
      if (shell !== undefined && shell !== cur.shell) cmd.push('-s', shell);
      if (expires !== undefined) {
        const curDays = cur.expireDays ?? '';
        const wantDays = expires === '' ? '' : String(Math.floor(Date.parse(expires) / 86400000));
        if (curDays !== wantDays) cmd.push('-e', expires);
      }
      const locked = cur.hash?.startsWith('!') ?? false;
      let lockCmd: string | undefined;
      if (lock === true && !locked) lockCmd = '-L';
      if (lock === false && locked) lockCmd = '-U';
      const curHash = cur.hash?.replace(/^!+/, '');
      const pwChange = password !== undefined && updatePassword === 'always' && password !== curHash && !(password === '' && curHash === '');
      if (cur.hash === undefined && password !== undefined) ctx.warn(`cannot read the password of ${name} (not root? use become): the password is set again`);
      if (cmd.length || lockCmd || pwChange) res.changed = true;
      if (!ctx.check) {
        if (cmd.length) await r.shOk(`usermod ${cmd.map(shq).join(' ')} -- ${shq(name)}`, `usermod ${name} failed`);
        if (pwChange) await cmdSetPassword();
        else if (lockCmd) await r.shOk(`usermod ${lockCmd} -- ${shq(name)}`, `usermod ${lockCmd} ${name} failed`);
      }
    }
    const after = ctx.check ? cur : await lookup(r, name);
    if (after) {
      Object.assign(res, { uid: after.uid, group: after.gid, comment: after.comment, home: after.home, shell: after.shell });
      if (groupsArg !== undefined) res.groups = groupNames.join(',');
    }
    Object.assign(res, { system, create_home: createHome, move_home: moveHome, append });
    return res;
  },
});
