/**
 * `get_url`: download on the target (as Ansible: the target fetches, the controller relays nothing) with
 * `curl` (or `wget`, or `cp` for file:// URLs), into a temp file beside dest, verified against `checksum`
 * (`sha256:<hex>` or `sha256:<url of a checksum file>`) before it replaces dest, so a bad download never
 * lands. Unchanged content = ok; an existing dest without force is kept when its checksum matches (or,
 * without checksum, when the server answers 304 to If-Modified-Since). Credentials and headers reach curl
 * through its stdin config, never argv. Only file://, http:// and https:// URLs (the sites are air-gapped).
 * Check mode streams the body into a checksum without writing anything.
 */
import {
  applyAttrs,
  attrPlanEmpty,
  backupFile,
  baseName,
  boolArg,
  CHECKSUM_CMD,
  defineModule,
  Fail,
  FILE_COMMON,
  intArg,
  joinPath,
  ModuleArgError,
  parentDir,
  pathInfo,
  planAttrs,
  planWrite,
  type Remote,
  shq,
  strArg,
  wantAttrs,
} from './common.js';

import type { ModuleResult } from '../types.js';

const PARAMS = [
  'url',
  'dest',
  'backup',
  'checksum',
  'sha256sum',
  'timeout',
  'headers',
  'tmp_dest',
  'force',
  'force_basic_auth',
  'url_username',
  'username',
  'url_password',
  'password',
  'validate_certs',
  'use_proxy',
  'http_agent',
  'use_gssapi',
  'use_netrc',
  'unredirected_headers',
  'decompress',
  'ciphers',
  'client_cert',
  'client_key',
  ...FILE_COMMON,
];

/** a URL for messages and traces: credentials in it are masked */
export function safeUrl(u: string): string {
  return u.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@]*)@/i, (_, s: string, ui: string) => `${s}${ui.includes(':') ? `${ui.slice(0, ui.indexOf(':'))}:********` : ui}@`);
}

function curlQuote(s: string): string {
  if (/[\r\n]/.test(s)) throw new ModuleArgError('header, URL and credential values must not contain newlines');
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

interface Fetcher {
  url: string;
  timeout: number;
  insecure: boolean;
  user?: string;
  password?: string;
  headers: Record<string, string>;
  agent: string;
  basic: boolean;
  proxy: boolean;
}

/** curl's config (read from stdin): URL, credentials and headers never appear in argv. */
function curlConfig(f: Fetcher, out: string, timeCond?: string): string {
  const lines = [
    `url = ${curlQuote(f.url)}`,
    'location',
    'fail',
    'silent',
    'show-error',
    `max-time = ${f.timeout}`,
    `user-agent = ${curlQuote(f.agent)}`,
  ];
  if (out !== '-') lines.push(`output = ${curlQuote(out)}`, 'write-out = "%{http_code}"');
  if (f.insecure) lines.push('insecure');
  if (!f.proxy) lines.push('noproxy = "*"');
  if (f.user !== undefined) {
    lines.push(`user = ${curlQuote(`${f.user}:${f.password ?? ''}`)}`);
    lines.push(f.basic ? 'basic' : 'anyauth');
  }
  for (const [k, v] of Object.entries(f.headers)) lines.push(`header = ${curlQuote(`${k}: ${v}`)}`);
  if (timeCond) lines.push(`time-cond = ${curlQuote(timeCond)}`);
  return lines.join('\n') + '\n';
}

/**
 * Downloads on the target to `out` ('-' = stdout, piped into `hash` when given, so check mode writes
 * nothing). Returns the HTTP status (0 when unknown: wget, file:// via cat) and stdout.
 */
async function download(r: Remote, f: Fetcher, out: string, opts: { timeCond?: string; hash?: string } = {}): Promise<{ status: number; stdout: string }> {
  const scheme = /^([a-z]+):\/\//i.exec(f.url)?.[1]?.toLowerCase();
  const toOut = out === '-' ? '' : ` > ${shq(out)}`;
  const fn = [
    'fetch() {',
    '  if command -v curl >/dev/null 2>&1; then curl --config -',
    ...(scheme === 'file' ? [`  elif true; then cat -- ${shq(decodeURIComponent(f.url.replace(/^file:\/\//i, '')))}${toOut}`] : []),
    '  elif command -v wget >/dev/null 2>&1; then',
    f.user !== undefined || Object.keys(f.headers).length || /^[a-z]+:\/\/[^/]*@/i.test(f.url)
      ? '    echo "wget cannot be given credentials or headers safely; install curl on the target" >&2; return 97'
      : `    wget -q -T ${f.timeout} ${f.insecure ? '--no-check-certificate ' : ''}-O ${shq(out)} -- ${shq(f.url)}`,
    '  else echo "neither curl nor wget is installed on the target" >&2; return 98',
    '  fi',
    '}',
  ].join('\n');
  const script = opts.hash ? `${fn}\n{ fetch; echo "burrow-rc=$?" >&2; } | ${opts.hash}` : `${fn}\nfetch`;
  const res = await r.sh(script, { stdin: curlConfig(f, out, opts.timeCond), trace: `download ${safeUrl(f.url)} -> ${out === '-' ? (opts.hash ?? 'stdout') : out}` });
  let rc = res.rc;
  let stderr = res.stderr;
  if (opts.hash) {
    const m = /burrow-rc=(\d+)\s*$/.exec(stderr);
    rc = m ? Number(m[1]) : 1;
    stderr = stderr.replace(/burrow-rc=\d+\s*$/, '');
  }
  if (rc !== 0) {
    const msg = stderr.trim() || `rc ${rc}`;
    throw new Fail(`Request failed for ${safeUrl(f.url)}: ${msg.slice(0, 1000).split(f.url).join(safeUrl(f.url))}; check the URL and that the server is reachable from the target`, { status_code: -1, url: safeUrl(f.url) });
  }
  const code = out !== '-' ? /(\d{3})\s*$/.exec(res.stdout) : null;
  return { status: code ? Number(code[1]) : 0, stdout: res.stdout };
}

export const getUrlModule = defineModule({
  name: 'get_url',
  params: PARAMS,
  async run(args, ctx, r) {
    const url = strArg(args, 'url', { required: true })!;
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
    if (!scheme || !['http', 'https', 'file'].includes(scheme)) {
      throw new ModuleArgError(`unsupported URL ${safeUrl(url)}: only http://, https:// and file:// URLs are supported (air-gapped site: serve files from the deployer)`);
    }
    const destArg = await r.expandUser(strArg(args, 'dest', { required: true })!);
    const force = boolArg(args, 'force');
    const backup = boolArg(args, 'backup');
    const want = wantAttrs(args, ctx, r);
    const headers: Record<string, string> = {};
    if (args.headers !== undefined && args.headers !== null) {
      if (typeof args.headers !== 'object' || Array.isArray(args.headers)) throw new ModuleArgError('headers must be a mapping');
      for (const [k, v] of Object.entries(args.headers as Record<string, unknown>)) headers[k] = String(v);
    }
    const f: Fetcher = {
      url,
      timeout: intArg(args, 'timeout', 10)!,
      insecure: !boolArg(args, 'validate_certs', true),
      headers,
      agent: strArg(args, 'http_agent') ?? 'ansible-httpget',
      basic: boolArg(args, 'force_basic_auth'),
      proxy: boolArg(args, 'use_proxy', true),
    };
    const user = strArg(args, ['url_username', 'username']);
    const pass = strArg(args, ['url_password', 'password']);
    if (user !== undefined) f.user = user;
    if (pass !== undefined) f.password = pass;

    // checksum: algo:hex or algo:url
    let algo: string | undefined;
    let sum = '';
    const ck = strArg(args, 'checksum') ?? (strArg(args, 'sha256sum') ? `sha256:${strArg(args, 'sha256sum')}` : '');
    if (ck) {
      const i = ck.indexOf(':');
      if (i < 0) throw new Fail('The checksum parameter has to be in format <algorithm>:<checksum>');
      algo = ck.slice(0, i).toLowerCase();
      sum = ck.slice(i + 1);
      if (!(algo in CHECKSUM_CMD)) throw new Fail(`unsupported checksum algorithm ${algo}: use one of ${Object.keys(CHECKSUM_CMD).join(', ')}`);
      if (/^[a-z]+:\/\//i.test(sum)) {
        const list = await download(r, { ...f, url: sum }, '-');
        const fname = baseName(new URL(url).pathname);
        const lines = list.stdout.split('\n').map((l) => l.replace(/\r$/, '')).filter(Boolean);
        let found: string | undefined;
        if (lines.length === 1 && lines[0]!.trim().split(/\s+/).length === 1) found = lines[0]!.trim();
        else {
          for (const l of lines) {
            const sp = l.indexOf(' ');
            if (sp < 0) continue;
            let name = l.slice(sp + 1);
            if (name.startsWith(' ') || name.startsWith('*')) name = name.slice(1);
            if (name.replace(/^[./]+/, '') === fname) {
              found = l.slice(0, sp);
              break;
            }
          }
        }
        if (!found) throw new Fail(`Unable to find a checksum for file '${fname}' in '${sum}'`);
        sum = found;
      }
      sum = sum.replace(/\W+/g, '').toLowerCase();
      if (!/^[0-9a-f]+$/.test(sum)) throw new Fail('The checksum format is invalid');
    }

    const result: ModuleResult = { changed: false, checksum_dest: null, checksum_src: null, dest: destArg, url: safeUrl(url), elapsed: 0 };
    const d0 = await r.stat(destArg, { follow: true, checksum: 'sha1' });
    let dest = destArg;
    if (d0.kind === 'directory' || d0.target?.kind === 'directory') {
      dest = joinPath(destArg, baseName(new URL(url).pathname) || 'index.html');
      result.dest = dest;
    }
    const [info, parent] = await r.probe([dest, parentDir(dest)], { follow: true, checksum: 'sha1' });
    const cur = info!.kind === 'link' && info!.target ? info!.target : info!;
    const writePath = info!.kind === 'link' && info!.target ? (info!.realpath ?? dest) : dest;
    if (!parent!.exists) throw new Fail(`Destination ${parentDir(dest)} does not exist: create the directory first`, result);
    let forceDl = force;
    if (cur.exists && cur.kind === 'file') {
      result.checksum_dest = info!.checksum;
      if (!force && algo) {
        const dsum = (await r.stat(writePath, { checksum: algo as keyof typeof CHECKSUM_CMD })).checksum;
        if (dsum === sum) {
          const plan = await planAttrs(r, cur, want);
          if (!attrPlanEmpty(plan)) {
            if (!r.check) await applyAttrs(r, writePath, plan);
            return { ...result, ...pathInfo(cur), changed: true, msg: 'file already exists but file attributes changed' };
          }
          return { ...result, ...pathInfo(cur), msg: 'file already exists' };
        }
        forceDl = true;
      }
    }
    const t0 = Date.now();
    if (r.check) {
      const ckCmd = algo ? CHECKSUM_CMD[algo]! : 'sha1sum';
      const out = await download(r, f, '-', { hash: CHECKSUM_CMD.sha1! });
      const srcSha1 = out.stdout.trim().split(/\s+/)[0] ?? '';
      result.checksum_src = srcSha1;
      if (algo && algo !== 'sha1') {
        const o2 = await download(r, f, '-', { hash: ckCmd });
        if (o2.stdout.trim().split(/\s+/)[0] !== sum) throw new Fail(`The checksum for ${safeUrl(url)} did not match ${sum}: nothing would be written`, result);
      } else if (algo && srcSha1 !== sum) throw new Fail(`The checksum for ${safeUrl(url)} did not match ${sum}: nothing would be written`, result);
      const differs = !(cur.exists && cur.kind === 'file') || result.checksum_dest !== srcSha1;
      const plan = differs ? undefined : await planAttrs(r, cur, want);
      return { ...result, changed: differs || (plan !== undefined && !attrPlanEmpty(plan)), msg: 'OK (check mode: nothing written)' };
    }
    const tmpDir = strArg(args, 'tmp_dest') ? await r.expandUser(strArg(args, 'tmp_dest')!) : parentDir(writePath);
    const tmp = (await r.shOk(`mktemp ${shq(`${tmpDir.replace(/\/+$/, '')}/.burrow-get_url.XXXXXXXX`)}`, `could not create a temp file in ${tmpDir}`)).trim();
    try {
      const timeCond = cur.exists && cur.kind === 'file' && !forceDl ? writePath : undefined;
      const got = await download(r, f, tmp, timeCond ? { timeCond } : {});
      result.elapsed = Math.round((Date.now() - t0) / 1000);
      result.status_code = got.status;
      const st = await r.stat(tmp, { checksum: 'sha1' });
      if (got.status === 304 || (timeCond && st.size === 0 && got.status !== 200)) {
        const plan = await planAttrs(r, cur, want);
        if (!attrPlanEmpty(plan)) await applyAttrs(r, writePath, plan);
        return { ...result, ...pathInfo(cur), changed: !attrPlanEmpty(plan), msg: 'Not Modified' };
      }
      result.checksum_src = st.checksum;
      if (algo) {
        const s = algo === 'sha1' ? st.checksum : (await r.stat(tmp, { checksum: algo as keyof typeof CHECKSUM_CMD })).checksum;
        if (s !== sum) throw new Fail(`The checksum for ${dest} did not match ${sum}; it was ${s}. The download was discarded and ${dest} left as it was`, result);
      }
      let changed = false;
      if (result.checksum_src !== (cur.exists && cur.kind === 'file' ? info!.checksum : null)) {
        const plan = await planWrite(r, cur, want);
        if (backup && cur.exists) result.backup_file = await backupFile(r, writePath);
        const cmds: string[] = [];
        if (plan.uid !== undefined) cmds.push(`chown ${plan.uid} -- ${shq(tmp)}`);
        if (plan.gid !== undefined) cmds.push(`chgrp ${plan.gid} -- ${shq(tmp)}`);
        cmds.push(`chmod ${plan.mode.toString(8)} -- ${shq(tmp)}`, `mv -f -- ${shq(tmp)} ${shq(writePath)}`);
        await r.shOk(cmds.join(' && '), `failed to copy the download to ${dest}`);
        changed = true;
      } else {
        const plan = await planAttrs(r, cur, want);
        if (!attrPlanEmpty(plan)) {
          await applyAttrs(r, writePath, plan);
          changed = true;
        }
      }
      const after = await r.stat(writePath, { checksum: 'md5' });
      return { ...result, ...pathInfo(after), changed, md5sum: after.checksum ?? null, msg: `OK (${after.size} bytes)` };
    } finally {
      await r.sh(`rm -f -- ${shq(tmp)}`);
    }
  },
});
