/**
 * Private key files for ssh auth: read once per run, passphrase asked once per key file (through an
 * injectable prompt function, so tests and non-interactive runs can supply it), shared by all hosts.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { TransportError } from './errors.js';

export type PromptFn = (question: string) => Promise<string>;

export interface LoadedKey {
  path: string;
  data: Buffer;
  passphrase?: string;
  type: string;
  /**
   * ssh2's parsed (and decrypted) key, handed to every connection as is: ssh2 would otherwise parse the
   * file again for each host (for a passphrase-protected key that is a bcrypt KDF run per host).
   */
  parsed: ParsedKey;
}

export interface ParsedKey {
  type: string;
}

type ParseKey = (data: Buffer | string, passphrase?: string) => ParsedKey | ParsedKey[] | Error;
let parseKeyFn: ParseKey | undefined;
function parseKey(data: Buffer, passphrase?: string): ParsedKey | Error {
  // ssh2 is CommonJS and heavy; loaded only when a key is actually needed.
  parseKeyFn ??= (createRequire(import.meta.url)('ssh2') as { utils: { parseKey: ParseKey } }).utils.parseKey;
  const k = parseKeyFn(data, passphrase);
  if (k instanceof Error) return k;
  return Array.isArray(k) ? k[0]! : k;
}

const MAX_PASSPHRASE_TRIES = 3;

export function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? homedir() + p.slice(1) : p;
}

export class KeyStore {
  private readonly cache = new Map<string, Promise<LoadedKey>>();
  private promptChain: Promise<unknown> = Promise.resolve();
  private readonly prompt: PromptFn | undefined;

  constructor(prompt?: PromptFn) {
    this.prompt = prompt;
  }

  /** Loads (and decrypts) a key file once; concurrent callers share the one prompt. */
  load(path: string): Promise<LoadedKey> {
    const abs = expandHome(path);
    let p = this.cache.get(abs);
    if (!p) {
      p = this.doLoad(abs);
      this.cache.set(abs, p);
    }
    return p;
  }

  private async doLoad(path: string): Promise<LoadedKey> {
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (e) {
      throw new TransportError('auth', `cannot read private key file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        hint: 'check ansible_ssh_private_key_file / private_key_file',
      });
    }
    const plain = parseKey(data);
    if (!(plain instanceof Error)) return { path, data, type: plain.type, parsed: plain };
    if (!/passphrase/i.test(plain.message)) {
      throw new TransportError('auth', `${path} is not a usable private key: ${plain.message}`, {
        hint: 'use an OpenSSH or PEM private key (ed25519, ecdsa or rsa)',
      });
    }
    if (!this.prompt) {
      throw new TransportError('auth', `private key ${path} is protected by a passphrase and there is no terminal to ask for it`, {
        hint: 'load the key into ssh-agent (ssh-add) and run again, or run from a terminal',
      });
    }
    // Prompts are serialized: two encrypted keys never ask at the same time.
    const ask = this.promptChain.then(async () => {
      for (let i = 0; i < MAX_PASSPHRASE_TRIES; i++) {
        const pass = await this.prompt!(`Enter passphrase for key '${path}': `);
        const k = parseKey(data, pass);
        if (!(k instanceof Error)) return { path, data, passphrase: pass, type: k.type, parsed: k };
      }
      throw new TransportError('auth', `wrong passphrase for private key ${path} (${MAX_PASSPHRASE_TRIES} tries)`);
    });
    this.promptChain = ask.catch(() => undefined);
    return ask;
  }
}

/**
 * Asks on the controlling terminal without echo. Returns undefined when there is no terminal
 * (cron, CI, a pipe): callers then fail with a hint instead of hanging.
 */
export function terminalPrompt(): PromptFn | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return (question) =>
    new Promise<string>((resolve, reject) => {
      const stdin = process.stdin;
      process.stderr.write(question);
      let buf = '';
      const wasRaw = stdin.isRaw;
      stdin.setRawMode(true);
      stdin.resume();
      const onData = (d: Buffer) => {
        for (const ch of d.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            cleanup();
            process.stderr.write('\n');
            resolve(buf);
            return;
          }
          if (ch === '\u0003') {
            cleanup();
            process.stderr.write('\n');
            reject(new TransportError('auth', 'interrupted while asking for a passphrase'));
            return;
          }
          if (ch === '\u007f' || ch === '\b') buf = buf.slice(0, -1);
          else buf += ch;
        }
      };
      const cleanup = () => {
        stdin.off('data', onData);
        stdin.setRawMode(wasRaw);
        stdin.pause();
      };
      stdin.on('data', onData);
    });
}
