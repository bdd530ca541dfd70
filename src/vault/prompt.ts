/**
 * Password prompts without echo, on the controlling terminal (like getpass: stdin when it is a terminal,
 * else /dev/tty, so `echo value | ./run vault encrypt-string --ask-vault-pass` still asks on the terminal).
 * Raw mode: nothing typed is echoed; Enter ends, Backspace and Ctrl-U edit, Ctrl-C aborts (exit 99),
 * Ctrl-D on an empty line is end-of-input.
 */
import { closeSync, openSync } from 'node:fs';
import tty from 'node:tty';
import { VaultInterruptedError, VaultPasswordSourceError } from './errors.js';

interface Terminal {
  input: tty.ReadStream;
  output: NodeJS.WritableStream;
  close(): void;
}

function openTerminal(): Terminal | undefined {
  let outFd: number | undefined;
  let output: NodeJS.WritableStream = process.stderr;
  try {
    outFd = openSync('/dev/tty', 'w');
    output = new tty.WriteStream(outFd);
  } catch {
    outFd = undefined;
  }
  const closeOut = (): void => {
    if (outFd !== undefined) (output as tty.WriteStream).destroy();
  };
  if (process.stdin.isTTY) return { input: process.stdin, output, close: closeOut };
  try {
    const inFd = openSync('/dev/tty', 'r');
    let input: tty.ReadStream;
    try {
      input = new tty.ReadStream(inFd);
    } catch (e) {
      closeSync(inFd);
      throw e;
    }
    return {
      input,
      output,
      close: () => {
        input.destroy();
        closeOut();
      },
    };
  } catch {
    closeOut();
    return undefined;
  }
}

/** Is there a terminal to ask on? */
export function canPrompt(): boolean {
  if (process.stdin.isTTY) return true;
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

export type PromptFn = (prompt: string) => Promise<string>;

/** Ask for one hidden line on the terminal. */
export const readHidden: PromptFn = async (prompt) => {
  const term = openTerminal();
  if (!term) {
    throw new VaultPasswordSourceError(`cannot ask '${prompt.trim()}': there is no terminal`, {
      hint: 'give the password another way: --vault-password-file FILE, --vault-id LABEL@FILE, or the RUN_VAULT_* variables / stdin where a command documents them',
    });
  }
  const { input, output } = term;
  const wasRaw = input.isRaw;
  output.write(prompt);
  input.setRawMode(true);
  input.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let buf: string[] = [];
      let escape = 0; // 1 after ESC, 2 inside a CSI sequence (arrow keys): swallowed, never part of the password
      const done = (err?: Error): void => {
        input.off('data', onData);
        input.off('end', onEnd);
        if (err) reject(err);
        else resolve(buf.join(''));
      };
      const onEnd = (): void => done(new VaultPasswordSourceError(`end of input at '${prompt.trim()}'`));
      const onData = (chunk: Buffer | string): void => {
        for (const ch of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
          if (escape === 1) {
            escape = ch === '[' ? 2 : 0;
            continue;
          }
          if (escape === 2) {
            if (ch >= '@' && ch <= '~') escape = 0;
            continue;
          }
          switch (ch) {
            case '\r':
            case '\n':
              return done();
            case '\u0003':
              return done(new VaultInterruptedError('interrupted at the password prompt'));
            case '\u0004':
              if (buf.length === 0) return done(new VaultPasswordSourceError(`end of input (Ctrl-D) at '${prompt.trim()}'`));
              break;
            case '\u007f':
            case '\b':
              buf = buf.slice(0, -1);
              break;
            case '\u0015':
              buf = [];
              break;
            case '\u001b':
              escape = 1;
              break;
            default:
              if (ch >= ' ') buf.push(ch);
          }
        }
      };
      input.on('data', onData);
      input.on('end', onEnd);
    });
  } finally {
    input.setRawMode(wasRaw);
    input.pause();
    output.write('\n');
    term.close();
  }
};

/**
 * Ask for a new secret twice; retry (at most `attempts` times) when empty or when the two entries differ.
 * `strip` trims surrounding whitespace like ansible's prompt does.
 */
export async function readNewSecret(
  prompt: string,
  confirmPrompt: string,
  opts: { ask?: PromptFn; attempts?: number; strip?: boolean; allowEmpty?: boolean } = {},
): Promise<string> {
  const ask = opts.ask ?? readHidden;
  const attempts = opts.attempts ?? 3;
  const tidy = (s: string): string => (opts.strip === false ? s : s.trim());
  for (let i = 1; i <= attempts; i++) {
    const a = tidy(await ask(prompt));
    if (a === '' && !opts.allowEmpty) {
      process.stderr.write('the value must not be empty, try again\n');
      continue;
    }
    const b = tidy(await ask(confirmPrompt));
    if (a === b) return a;
    process.stderr.write('the two entries do not match, try again\n');
  }
  throw new VaultPasswordSourceError(`no matching entries after ${attempts} attempts at '${prompt.trim()}'`);
}

/** Read all of stdin (bounded). */
export async function readStdin(maxBytes = 1 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of process.stdin) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    n += b.length;
    if (n > maxBytes) throw new VaultPasswordSourceError(`stdin is larger than ${maxBytes} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
