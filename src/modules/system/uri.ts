/**
 * `uri`: an HTTP(S) request made *from the target* (the URL is what the target can reach), with `curl`.
 *
 * Everything about the request — URL, method, headers, body, credentials — goes to curl as a config file on
 * stdin (`curl -K -`), so no secret appears in a command line, a process listing or the -vvv trace.
 * Response headers come back through a temp file, the body on stdout, then a write-out line with a random
 * marker (status, redirects, time, final URL). The result is Ansible's: `status`, `url`, `msg`
 * ("OK (N bytes)" / "HTTP Error 404: Not Found"), `redirected`, `elapsed`, every response header lowercased
 * with `-` → `_`, `cookies`, `json` (JSON responses), `content` (with `return_content`).
 * Failed when the status is not in `status_code` ("Status code was 404 and not [200]: …"), status -1 when
 * no response came (connection refused, DNS, TLS, timeout). `changed` is false unless `dest` was (re)written.
 */
import { STATUS_CODES } from 'node:http';
import { boundedTimeout, defineModule, Fail, marker, sh, shq } from './common.js';

/** A string in curl's config-file syntax (double-quoted, with \\ \" \n \r \t escapes). */
export function curlQuote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

function formEncode(v: unknown): string {
  if (typeof v === 'string') return v;
  const pairs: [string, string][] = [];
  if (Array.isArray(v)) for (const p of v) pairs.push([String((p as unknown[])[0]), String((p as unknown[])[1])]);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) pairs.push([k, x === null || x === undefined ? '' : String(x)]);
  return new URLSearchParams(pairs).toString();
}

function redactUrl(u: string): string {
  try {
    const x = new URL(u);
    if (x.password) x.password = '********';
    return x.toString();
  } catch {
    return u;
  }
}

export interface ParsedResponse {
  statusLine: string;
  status: number;
  reason: string;
  headers: Record<string, string>;
  cookies: Record<string, string>;
}

/** The last header block of a curl `-D` dump (after redirects and 1xx responses). */
export function parseHeaderDump(dump: string): ParsedResponse | undefined {
  const blocks = dump.replace(/\r\n/g, '\n').split(/\n\n+/).filter((b) => /^HTTP\/\S+\s+\d{3}/.test(b.trim()));
  const last = blocks.filter((b) => !/^HTTP\/\S+\s+1\d\d/.test(b.trim())).pop() ?? blocks.pop();
  if (!last) return undefined;
  const lines = last.trim().split('\n');
  const statusLine = lines[0]!;
  const m = /^HTTP\/\S+\s+(\d{3})\s*(.*)$/.exec(statusLine)!;
  const status = Number(m[1]);
  const headers: Record<string, string> = {};
  const cookies: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i <= 0) continue;
    const k = l.slice(0, i).trim();
    const v = l.slice(i + 1).trim();
    headers[k.toLowerCase().replace(/-/g, '_')] = v;
    if (k.toLowerCase() === 'set-cookie') {
      const c = /^([^=;\s]+)=([^;]*)/.exec(v);
      if (c) cookies[c[1]!] = c[2]!;
    }
  }
  return { statusLine, status, reason: m[2]!.trim() || STATUS_CODES[status] || '', headers, cookies };
}

export const uri = defineModule({
  name: 'uri',
  spec: {
    url: { type: 'str', required: true },
    method: { type: 'str', default: 'GET' },
    body: { type: 'raw' },
    body_format: { type: 'str', default: 'raw', choices: ['raw', 'json', 'form-urlencoded'] },
    headers: { type: 'dict', default: {} },
    status_code: { type: 'list', elements: 'int', default: [200] },
    validate_certs: { type: 'bool', default: true },
    url_username: { type: 'str', aliases: ['user'] },
    url_password: { type: 'str', aliases: ['password'] },
    force_basic_auth: { type: 'bool', default: false },
    return_content: { type: 'bool', default: false },
    timeout: { type: 'int', default: 30 },
    dest: { type: 'path' },
    follow_redirects: { type: 'str', default: 'safe', choices: ['all', 'no', 'none', 'safe', 'urllib2', 'yes'] },
    ca_path: { type: 'path' },
    client_cert: { type: 'path' },
    client_key: { type: 'path' },
    unix_socket: { type: 'path' },
    use_proxy: { type: 'bool', default: true },
    http_agent: { type: 'str', default: 'ansible-httpget' },
    creates: { type: 'path' },
    removes: { type: 'path' },
    decompress: { type: 'bool', default: true },
    force: { type: 'bool', default: false },
    mode: { type: 'raw' },
  },
  async run(a, ctx) {
    const url = a.req('url');
    const method = a.str('method')!.toUpperCase();
    if (!/^[A-Z]+$/.test(method)) throw new Fail(`invalid HTTP method '${method}'`);
    const statusCodes = (a.raw('status_code') as number[]).map(Number);
    const timeout = a.int('timeout')!;
    const dest = a.str('dest');

    for (const [k, want] of [['creates', true], ['removes', false]] as const) {
      const p = a.str(k);
      if (!p) continue;
      const r = await sh(ctx, `[ -e ${shq(p)} ]`);
      if ((r.rc === 0) === want) return { changed: false, msg: `skipped, since '${p}' ${want ? 'exists' : 'does not exist'}`, stdout: `skipped, since '${p}' ${want ? 'exists' : 'does not exist'}` };
    }
    if (ctx.check) return { changed: false, skipped: true, msg: 'remote module (uri) does not support check mode' };

    // request as a curl config (stdin): nothing of it on the command line
    const cfg: string[] = [`url = ${curlQuote(url)}`, `user-agent = ${curlQuote(a.str('http_agent')!)}`, `max-time = ${timeout}`, `connect-timeout = ${Math.min(timeout, 30)}`];
    if (method === 'HEAD') cfg.push('head');
    else cfg.push(`request = ${curlQuote(method)}`);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(a.dict('headers') ?? {})) headers[k] = v === null || v === undefined ? '' : String(v);
    const hasHeader = (n: string): boolean => Object.keys(headers).some((k) => k.toLowerCase() === n);
    const body = a.raw('body');
    const fmt = a.str('body_format')!;
    if (body !== undefined && body !== null) {
      let data: string;
      if (fmt === 'json') {
        data = typeof body === 'string' ? body : JSON.stringify(body);
        if (!hasHeader('content-type')) headers['Content-Type'] = 'application/json';
      } else if (fmt === 'form-urlencoded') {
        data = formEncode(body);
        if (!hasHeader('content-type')) headers['Content-Type'] = 'application/x-www-form-urlencoded';
      } else {
        data = typeof body === 'string' ? body : JSON.stringify(body);
      }
      cfg.push(`data-raw = ${curlQuote(data)}`);
    }
    for (const [k, v] of Object.entries(headers)) cfg.push(`header = ${curlQuote(`${k}: ${v}`)}`);
    const user = a.str('url_username');
    if (user !== undefined) cfg.push('basic', `user = ${curlQuote(`${user}:${a.str('url_password') ?? ''}`)}`);
    if (!a.bool('validate_certs')) cfg.push('insecure');
    const fr = a.str('follow_redirects')!;
    if (fr === 'all' || fr === 'yes' || ((fr === 'safe' || fr === 'urllib2') && (method === 'GET' || method === 'HEAD'))) cfg.push('location', 'max-redirs = 50');
    if (a.str('ca_path')) cfg.push(`cacert = ${curlQuote(a.str('ca_path')!)}`);
    if (a.str('client_cert')) cfg.push(`cert = ${curlQuote(a.str('client_cert')!)}`);
    if (a.str('client_key')) cfg.push(`key = ${curlQuote(a.str('client_key')!)}`);
    if (a.str('unix_socket')) cfg.push(`unix-socket = ${curlQuote(a.str('unix_socket')!)}`);
    if (!a.bool('use_proxy')) cfg.push(`noproxy = "*"`);
    if (a.bool('decompress')) cfg.push('compressed');

    const wm = marker('URI');
    const hm = marker('HDR');
    const writeOut = `\n${wm}%{http_code} %{num_redirects} %{time_total} %{url_effective}`;
    const ok = statusCodes.map((c) => String(c)).join('|') || '200';
    const lines = [
      'command -v curl >/dev/null 2>&1 || { echo "uri needs curl on the target" >&2; exit 127; }',
      'h=$(mktemp) || exit 90',
      dest ? `t=$(mktemp ${shq(dest)}.uri.XXXXXX) || { rm -f "$h"; exit 91; }` : 't=',
      `trap 'rm -f "$h" \${t:+"$t"}' EXIT`,
      `curl -q -sS -K - -D "$h" -o ${dest ? '"$t"' : method === 'HEAD' ? '/dev/null' : '-'} -w ${shq(writeOut)}; rc=$?`,
    ];
    if (dest) {
      lines.push(
        `code=$(sed -n 's/^HTTP\\/[^ ]* \\([0-9][0-9][0-9]\\).*/\\1/p' "$h" | tail -n 1)`,
        `if [ $rc -eq 0 ]; then case "$code" in ${ok}) if cmp -s "$t" ${shq(dest)}; then echo; echo ${shq(wm + 'DEST unchanged')}; else chmod 0644 "$t" && mv -f "$t" ${shq(dest)} && t= && { echo; echo ${shq(wm + 'DEST written')}; }; fi;; esac; fi`,
      );
    }
    lines.push(`printf '\\n%s\\n' ${shq(hm)}`, 'cat "$h"', 'exit $rc');
    const start = Date.now();
    const r = await sh(ctx, lines.join('\n'), { stdin: cfg.join('\n') + '\n', timeout: boundedTimeout(ctx, timeout) });
    const elapsed = Math.floor((Date.now() - start) / 1000);
    if (r.rc === 127 && /uri needs curl/.test(r.stderr)) throw new Fail('uri needs curl on the target host', { status: -1, url: redactUrl(url) });
    if (r.rc === 90 || r.rc === 91) throw new Fail(`uri: could not create a temp file on the target: ${r.stderr.trim()}`);

    const hAt = r.stdout.lastIndexOf(`\n${hm}\n`);
    const before = hAt >= 0 ? r.stdout.slice(0, hAt) : r.stdout;
    const dump = hAt >= 0 ? r.stdout.slice(hAt + hm.length + 2) : '';
    const wAt = before.indexOf(`\n${wm}`);
    const content = wAt >= 0 ? before.slice(0, wAt) : before;
    const tailPart = wAt >= 0 ? before.slice(wAt + wm.length + 1) : '';
    const [, , nRedir = '0', , finalUrl = url] = /^(\d+) (\d+) (\S+) (.*)$/.exec(tailPart.split('\n')[0] ?? '') ?? [];
    const destState = /DEST (written|unchanged)/.exec(tailPart)?.[1];
    const resp = parseHeaderDump(dump);
    const base: Record<string, unknown> = { changed: false, elapsed, redirected: Number(nRedir) > 0, url: redactUrl(finalUrl || url) };

    if (r.rc !== 0 || !resp) {
      const why = r.stderr.replace(/^curl: /gm, '').trim().split('\n').pop() || `curl exit code ${r.rc}`;
      throw new Fail(`Status code was -1 and not [${statusCodes.join(', ')}]: Request failed: ${why}`, { ...base, status: -1 });
    }
    const out: Record<string, unknown> = { ...base, ...resp.headers, status: resp.status, cookies: resp.cookies };
    out.cookies_string = Object.entries(resp.cookies).map(([k, v]) => `${k}=${v}`).join('; ');
    out.msg = resp.status >= 400 ? `HTTP Error ${resp.status}: ${resp.reason}` : `OK (${resp.headers.content_length ?? 'unknown'} bytes)`;
    if (!dest) {
      const ct = String(resp.headers.content_type ?? '');
      if (/[/+]json\b/i.test(ct) || /\/json/i.test(ct)) {
        try {
          out.json = JSON.parse(content) as unknown;
        } catch {
          /* not JSON after all: Ansible leaves `json` out too */
        }
      }
      if (a.bool('return_content')) out.content = content;
    } else {
      out.path = dest;
      out.changed = destState === 'written';
    }
    if (!statusCodes.includes(resp.status)) {
      const msg = `Status code was ${resp.status} and not [${statusCodes.join(', ')}]: ${resp.status >= 400 ? `HTTP Error ${resp.status}: ${resp.reason}` : `OK (${resp.headers.content_length ?? 'unknown'} bytes)`}`;
      throw new Fail(msg, out);
    }
    return out as { changed: boolean };
  },
});
