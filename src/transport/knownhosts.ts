/**
 * OpenSSH `known_hosts`: plain and hashed (`|1|salt|hash`) host fields, `[host]:port` for non-22
 * ports, wildcard and negated patterns, `@revoked` lines (`@cert-authority` lines are skipped: host
 * certificates are not used here). Written by hand because ssh2 only hands us the raw key blob and no
 * maintained npm library parses hashed entries and port forms the way OpenSSH does.
 */
import { createHash, createHmac } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../core/fsutil.js';

export type HostKeyMode = 'strict' | 'accept-new' | 'off';

export interface KnownHostEntry {
  file: string;
  line: number;
  marker?: 'revoked' | 'cert-authority';
  hosts: string;
  type: string;
  blob: Buffer;
}

/** OpenSSH's fingerprint form: `SHA256:` + unpadded base64 of the key blob's SHA-256. */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** The key type named inside a public key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa` …). */
export function blobType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** The host field OpenSSH records: `host` for port 22, `[host]:port` otherwise. */
export function hostField(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(p: string): RegExp {
  let re = '';
  for (const c of p) {
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else re += c.replace(/[\\^$.+()[\]{}|]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'i');
}

/** Whether a known_hosts host field (comma list, hashed, wildcards, negation) names this host. */
export function hostsFieldMatches(field: string, host: string, port: number): boolean {
  const name = hostField(host, port);
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const h = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return h === hash;
  }
  let matched = false;
  for (const raw of field.split(',')) {
    const neg = raw.startsWith('!');
    const pat = neg ? raw.slice(1) : raw;
    if (!pat) continue;
    const hit = /[*?]/.test(pat) ? globToRegExp(pat).test(name) : pat.toLowerCase() === name.toLowerCase();
    if (hit && neg) return false;
    if (hit) matched = true;
  }
  return matched;
}

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line || line.startsWith('#')) continue;
    const f = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (f[0] === '@revoked') marker = 'revoked';
    else if (f[0] === '@cert-authority') marker = 'cert-authority';
    else if (f[0]?.startsWith('@')) continue;
    if (marker) f.shift();
    const [hosts, type, b64] = f;
    if (!hosts || !type || !b64) continue;
    const blob = Buffer.from(b64, 'base64');
    if (blob.length === 0) continue;
    out.push({ file, line: i + 1, marker, hosts, type, blob });
  }
  return out;
}

export type HostKeyVerdict =
  | { status: 'ok'; entry: KnownHostEntry }
  | { status: 'new'; otherTypes: KnownHostEntry[] }
  | { status: 'mismatch'; known: KnownHostEntry[] }
  | { status: 'revoked'; entry: KnownHostEntry };

const LOCK_WAIT_MS = 10_000;
const LOCK_STALE_MS = 30_000;

/** One known_hosts file, read once per run (re-read before each append). */
export class KnownHosts {
  readonly file: string;
  private entries: KnownHostEntry[] | undefined;
  private appendChain: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.file = file;
  }

  private load(): KnownHostEntry[] {
    if (!this.entries) {
      let text = '';
      try {
        text = readFileSync(this.file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      this.entries = parseKnownHosts(text, this.file);
    }
    return this.entries;
  }

  lookup(host: string, port: number): KnownHostEntry[] {
    return this.load().filter((e) => e.marker !== 'cert-authority' && hostsFieldMatches(e.hosts, host, port));
  }

  /** Key types already recorded for the host, so the handshake can prefer them (as OpenSSH does). */
  knownTypes(host: string, port: number): string[] {
    return [...new Set(this.lookup(host, port).filter((e) => !e.marker).map((e) => e.type))];
  }

  check(host: string, port: number, blob: Buffer): HostKeyVerdict {
    const entries = this.lookup(host, port);
    const revoked = this.load().find((e) => e.marker === 'revoked' && e.blob.equals(blob));
    if (revoked) return { status: 'revoked', entry: revoked };
    const type = blobType(blob);
    const plain = entries.filter((e) => !e.marker);
    const same = plain.find((e) => e.blob.equals(blob));
    if (same) return { status: 'ok', entry: same };
    const sameType = plain.filter((e) => e.type === type);
    if (sameType.length > 0) return { status: 'mismatch', known: sameType };
    return { status: 'new', otherTypes: plain };
  }

  /**
   * Records a host key: under a lock file (other runs may append at the same time), re-reads the file,
   * appends one line and replaces the file atomically (temp + rename), keeping its mode.
   */
  append(host: string, port: number, blob: Buffer): Promise<void> {
    const run = async () => {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      const lock = `${this.file}.lock`;
      await acquireLock(lock);
      try {
        let text = '';
        let mode = 0o644;
        if (existsSync(this.file)) {
          text = readFileSync(this.file, 'utf8');
          mode = statSync(this.file).mode & 0o777;
        }
        const line = `${hostField(host, port)} ${blobType(blob)} ${blob.toString('base64')}`;
        const current = parseKnownHosts(text, this.file);
        if (!current.some((e) => !e.marker && e.blob.equals(blob) && hostsFieldMatches(e.hosts, host, port))) {
          if (text && !text.endsWith('\n')) text += '\n';
          writeFileAtomic(this.file, `${text}${line}\n`, mode);
          text = `${text}${line}\n`;
        }
        this.entries = parseKnownHosts(text, this.file);
      } finally {
        rmSync(lock, { force: true });
      }
    };
    const p = this.appendChain.then(run);
    this.appendChain = p.catch(() => undefined);
    return p;
  }
}

async function acquireLock(lock: string): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { force: true });
      } catch {
        /* removed meanwhile */
      }
      if (Date.now() > deadline) throw new Error(`could not lock ${lock} within ${LOCK_WAIT_MS / 1000}s (remove it if no other run is active)`);
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
    }
  }
}
