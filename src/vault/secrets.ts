/**
 * Vault passwords and where they come from, as ansible does it:
 *
 *   order: run.cfg vault_identity_list, --vault-id …, --vault-password-file …, run.cfg vault_password_file,
 *          --ask-vault-pass
 *   --vault-id LABEL@SOURCE    SOURCE = a file, an executable (its stdout), or `prompt`; no `@` → label `default`
 *   --vault-password-file F    = --vault-id default@F
 *   a file's content is trimmed; an executable's stdout loses its surrounding CR/LF; a `*-client[.ext]`
 *   executable is called with `--vault-id LABEL` (exit 2 = "no secret for that id").
 *
 * Sources named on the command line must work now (a missing file is an error at once). Sources from run.cfg
 * are only needed when something is encrypted: a missing `.vaultpass` is fine for a run that reads no vault,
 * and becomes the error "password file missing" the moment a vault must be opened.
 *
 * Decryption tries the secrets whose label matches the file's vault id first, then all others in order.
 * (ansible 2.14 tries every secret in list order: the label only matters with vault_id_match. The outcome is
 * the same — the HMAC decides — but label-first needs one key derivation instead of several.)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, isAbsolute, resolve } from 'node:path';
import { inspect } from 'node:util';
import type { RunConfig } from '../config/config.js';
import { UsageError } from '../core/errors.js';
import { DEFAULT_VAULT_ID, checkLabel, decryptEnvelope, encryptVault, isVaultText, parseEnvelope, VaultFormatError } from './codec.js';
import {
  ctxPos,
  VaultCorruptError,
  VaultPasswordSourceError,
  VaultUnknownIdError,
  VaultWrongPasswordError,
  what,
  type VaultContext,
  type VaultError,
} from './errors.js';
import { debug } from './log.js';
import { registerSecret } from './redact.js';
import { readHidden, readNewSecret, type PromptFn } from './prompt.js';

export type SecretKind = 'file' | 'script' | 'client-script' | 'prompt' | 'literal';

const SCRIPT_TIMEOUT_MS = 120_000;

/** One vault password. The password itself is a private field: printing or serialising the object shows none. */
export class VaultSecret {
  readonly #password: Buffer;
  constructor(
    readonly label: string,
    password: Buffer,
    readonly kind: SecretKind,
    /** file or script path for file/script kinds */
    readonly path: string | undefined,
    /** where the source was named: `--vault-id`, `run.cfg:9 (vault_password_file)`, … */
    readonly origin: string,
    readonly fromCommandLine: boolean,
  ) {
    this.#password = password;
    // Defence in depth: a password that slipped into some output is redacted like a vault value.
    registerSecret(password.toString('utf8'));
  }

  /** `'prod' (file /x/prod.pass, from --vault-id)` — for messages; no secret in it. */
  describe(): string {
    const src = this.kind === 'prompt' ? 'prompt' : this.kind === 'literal' ? 'given in code' : `${this.kind} ${this.path}`;
    return `'${this.label}' (${src}, from ${this.origin})`;
  }

  /** Encrypt with this password; label defaults to this secret's label. */
  encrypt(plaintext: string | Buffer, label: string = this.label): string {
    return encryptVault(plaintext, this.#password, { label });
  }

  /** @internal */
  tryEnvelope(env: ReturnType<typeof parseEnvelope>): ReturnType<typeof decryptEnvelope> {
    return decryptEnvelope(env, this.#password);
  }

  toString(): string {
    return `VaultSecret(${this.describe()})`;
  }
  toJSON(): string {
    return this.toString();
  }
  [inspect.custom](): string {
    return this.toString();
  }
}

/** A source that could not be loaded; its error is raised only if a vault actually needs it. */
interface Unavailable {
  label: string;
  describe: string;
  error: VaultError;
}

export interface DecryptResult {
  plaintext: Buffer;
  /** the vault id in the file's header (`default` for 1.1) */
  fileLabel: string;
  /** the secret that opened it (re-encrypt with it to keep the vault id and password) */
  secret: VaultSecret;
}

export interface LoadVaultSecretsOptions {
  /** run.cfg: supplies vault_identity_list and vault_password_file (lazy sources) */
  config?: RunConfig;
  /** --vault-id LABEL@SOURCE (repeatable) */
  vaultIds?: string[];
  /** --vault-password-file FILE (repeatable) */
  passwordFiles?: string[];
  /** --ask-vault-pass */
  askVaultPass?: boolean;
  /** prompts ask for a *new* password (twice), as for encrypt / encrypt-string / rekey's new password */
  newPassword?: boolean;
  /** skip the run.cfg sources (rekey's new-password set) */
  ignoreConfig?: boolean;
  /** base for relative paths on the command line (default: process cwd) */
  cwd?: string;
  /** prompt implementation (tests) */
  prompt?: PromptFn;
}

/** Split `label@source` like ansible: no `@` → label `default`; split at the first `@`. */
export function parseVaultId(spec: string): { label: string; source: string } {
  const at = spec.indexOf('@');
  if (at < 0) return { label: DEFAULT_VAULT_ID, source: spec };
  return { label: spec.slice(0, at) || DEFAULT_VAULT_ID, source: spec.slice(at + 1) };
}

interface SourceSpec {
  label: string;
  source: string; // path, 'prompt' or 'prompt_ask_vault_pass'
  origin: string;
  fromCommandLine: boolean;
  baseDir: string;
}

export class VaultSecrets {
  /** Prefer VaultSecrets.load / fromPasswords / none. */
  constructor(
    private readonly secrets: VaultSecret[],
    private readonly unavailable: Unavailable[],
  ) {}

  /** Empty set (no vault available). */
  static none(): VaultSecrets {
    return new VaultSecrets([], []);
  }

  /** Programmatic / test construction. */
  static fromPasswords(entries: { label?: string; password: string | Buffer }[]): VaultSecrets {
    return new VaultSecrets(
      entries.map(
        (e, i) =>
          new VaultSecret(e.label ?? DEFAULT_VAULT_ID, typeof e.password === 'string' ? Buffer.from(e.password) : e.password, 'literal', undefined, `entry ${i + 1}`, true),
      ),
      [],
    );
  }

  /** Load every configured source (prompts happen now, like ansible asks before the run starts). */
  static async load(opts: LoadVaultSecretsOptions = {}): Promise<VaultSecrets> {
    const cwd = opts.cwd ?? process.cwd();
    const specs: SourceSpec[] = [];
    const cfg = opts.ignoreConfig ? undefined : opts.config;
    if (cfg) {
      for (const id of cfg.get('vault_identity_list')) {
        specs.push({ ...parseVaultId(id), origin: `${cfg.source('vault_identity_list')} (vault_identity_list)`, fromCommandLine: false, baseDir: cfg.projectDir });
      }
    }
    for (const id of opts.vaultIds ?? []) specs.push({ ...parseVaultId(id), origin: '--vault-id', fromCommandLine: true, baseDir: cwd });
    for (const f of opts.passwordFiles ?? []) {
      specs.push({ label: DEFAULT_VAULT_ID, source: f, origin: '--vault-password-file', fromCommandLine: true, baseDir: cwd });
    }
    const cfgFile = cfg?.get('vault_password_file');
    if (cfg && cfgFile) {
      specs.push({ label: DEFAULT_VAULT_ID, source: cfgFile, origin: `${cfg.source('vault_password_file')} (vault_password_file)`, fromCommandLine: false, baseDir: cfg.projectDir });
    }
    if (opts.askVaultPass) specs.push({ label: DEFAULT_VAULT_ID, source: 'prompt_ask_vault_pass', origin: '--ask-vault-pass', fromCommandLine: true, baseDir: cwd });

    const secrets: VaultSecret[] = [];
    const unavailable: Unavailable[] = [];
    const seen = new Set<string>();
    for (const spec of specs) {
      const bad = checkLabel(spec.label);
      if (bad) throw new UsageError(bad, { hint: `in ${spec.origin}: use --vault-id LABEL@SOURCE` });
      const isPrompt = spec.source === 'prompt' || spec.source === 'prompt_ask_vault_pass';
      const path = isPrompt ? spec.source : isAbsolute(spec.source) ? spec.source : resolve(spec.baseDir, spec.source);
      const key = `${spec.label}\0${path}`;
      if (!isPrompt && seen.has(key)) continue;
      seen.add(key);
      try {
        const s = isPrompt ? await loadPrompt(spec, opts) : loadFileSource(spec, path, secrets);
        debug(`vault secret ${s.describe()} loaded`);
        secrets.push(s);
      } catch (e) {
        if (spec.fromCommandLine || !(e instanceof VaultPasswordSourceError)) throw e;
        debug(`vault secret '${spec.label}' from ${spec.origin} unavailable: ${e.message}`);
        unavailable.push({ label: spec.label, describe: `'${spec.label}' (${path}, from ${spec.origin})`, error: e });
      }
    }
    return new VaultSecrets(secrets, unavailable);
  }

  /** Labels of the usable secrets, in order. */
  get labels(): string[] {
    return this.secrets.map((s) => s.label);
  }

  get size(): number {
    return this.secrets.length;
  }

  /** Human lines describing every source (usable or not). No secrets. */
  describe(): string[] {
    return [...this.secrets.map((s) => s.describe()), ...this.unavailable.map((u) => `${u.describe}: unavailable (${u.error.message})`)];
  }

  private noSecretError(ctx?: VaultContext): VaultError {
    if (this.unavailable.length) {
      const first = this.unavailable[0]!;
      const more = this.unavailable.length > 1 ? ` (and ${this.unavailable.length - 1} more unavailable source(s))` : '';
      return new VaultPasswordSourceError(`${ctx ? what(ctx) : ''}no vault password available: ${first.error.message}${more}`, {
        pos: ctx ? ctxPos(ctx) : undefined,
        hint: first.error.hint ?? 'create the password file, or pass --vault-password-file / --vault-id / --ask-vault-pass',
      });
    }
    return new VaultPasswordSourceError(`${ctx ? what(ctx) : ''}no vault password given`, {
      pos: ctx ? ctxPos(ctx) : undefined,
      hint: 'pass --vault-password-file FILE, --vault-id LABEL@SOURCE or --ask-vault-pass, or set vault_password_file in run.cfg',
    });
  }

  /**
   * Decrypt a vault envelope. Errors name ctx.file (:line for inline values), the variable and the vault id:
   * - VaultCorruptError: malformed envelope, or a password decrypts to text but the HMAC fails (altered file)
   * - VaultUnknownIdError: the file's vault id has no password here and none of the others fits
   * - VaultWrongPasswordError: intact envelope, no password fits
   * - VaultPasswordSourceError: no password at all (e.g. .vaultpass missing)
   */
  decrypt(text: string, ctx: VaultContext): DecryptResult {
    const lineOf = (envLine?: number): number | undefined =>
      envLine === undefined ? ctx.line : ctx.line !== undefined ? ctx.line + envLine : envLine;
    let env;
    try {
      env = parseEnvelope(text);
    } catch (e) {
      if (!(e instanceof VaultFormatError)) throw e;
      throw new VaultCorruptError(`${what(ctx)}damaged vault data: ${e.message}`, {
        pos: { file: ctx.file, line: lineOf(e.envLine), col: e.envLine !== undefined && ctx.line === undefined ? e.envCol : undefined },
        hint: 'the file was changed after it was encrypted; restore it from version control or a backup',
      });
    }
    const fileLabel = env.label ?? DEFAULT_VAULT_ID;
    const pos = ctxPos(ctx);
    const idText = env.label ? `vault id '${env.label}'` : `vault id '${DEFAULT_VAULT_ID}' (format 1.1, no id in the header)`;
    if (this.secrets.length === 0) throw this.noSecretError(ctx);

    const matching = this.secrets.filter((s) => s.label === fileLabel);
    const ordered = [...matching, ...this.secrets.filter((s) => s.label !== fileLabel)];
    const plausible: VaultSecret[] = [];
    for (const s of ordered) {
      const t0 = performance.now();
      debug(`trying vault secret ${s.describe()} on ${ctx.file}${ctx.line ? `:${ctx.line}` : ''} (${idText})`);
      const r = s.tryEnvelope(env);
      if (r.ok) {
        debug(`decrypted ${ctx.file}${ctx.line ? `:${ctx.line}` : ''} with vault id '${s.label}' in ${(performance.now() - t0).toFixed(1)} ms`);
        return { plaintext: r.plaintext, fileLabel, secret: s };
      }
      if (r.plausible) plausible.push(s);
    }
    const tried = ordered.map((s) => s.describe()).join(', ');
    const unavailableNote = this.unavailable.length ? `; unavailable: ${this.unavailable.map((u) => u.describe).join(', ')}` : '';
    if (plausible.length) {
      throw new VaultCorruptError(
        `${what(ctx)}damaged vault data (${idText}): the HMAC check fails, yet the password ${plausible[0]!.describe()} decrypts it to readable text — the password is right and the file was altered after it was encrypted`,
        { pos, hint: 'restore the file from version control or a backup; re-encrypting the damaged text would keep the damage' },
      );
    }
    if (env.oddities.length) {
      throw new VaultCorruptError(
        `${what(ctx)}no password fits (${idText}) and the envelope looks edited: ${env.oddities.join('; ')}. Either the file was damaged or the password is wrong (tried ${tried}${unavailableNote})`,
        { pos, hint: 'compare the file with version control; if it is intact, check the password source' },
      );
    }
    const missingForId = matching.length === 0 ? this.unavailable.find((u) => u.label === fileLabel) : undefined;
    if (missingForId) {
      throw new VaultPasswordSourceError(
        `${what(ctx)}the password for ${idText} is unavailable: ${missingForId.error.message}; none of the other passwords fits (tried ${tried})`,
        { pos, hint: missingForId.error.hint ?? 'fix that password source' },
      );
    }
    if (matching.length === 0 && env.label !== undefined) {
      throw new VaultUnknownIdError(
        `${what(ctx)}encrypted for ${idText}, but no password for '${env.label}' was given, and none of the others fits (tried ${tried}${unavailableNote})`,
        { pos, hint: `pass --vault-id ${env.label}@FILE (or ${env.label}@prompt), or add it to vault_identity_list in run.cfg` },
      );
    }
    throw new VaultWrongPasswordError(
      `${what(ctx)}wrong vault password for ${idText}: no password fits (tried ${tried}${unavailableNote})`,
      {
        pos,
        hint: 'the envelope is intact, so the password is most likely wrong; if you are sure it is right, the ciphertext was altered (compare with version control)',
      },
    );
  }

  /**
   * The secret to encrypt with: --encrypt-vault-id picks by label; else the one source named on the command
   * line; else the one configured in run.cfg. Several candidates with different labels → ask for
   * --encrypt-vault-id (as ansible-vault does).
   */
  encryptionSecret(encryptVaultId?: string): VaultSecret {
    if (encryptVaultId) {
      const s = this.secrets.find((x) => x.label === encryptVaultId);
      if (!s) {
        throw new VaultUnknownIdError(`no password for --encrypt-vault-id '${encryptVaultId}'`, {
          hint: `available vault ids: ${this.labels.join(', ') || '(none)'}; pass --vault-id ${encryptVaultId}@SOURCE`,
        });
      }
      return s;
    }
    if (this.secrets.length === 0) throw this.noSecretError();
    const cli = this.secrets.filter((s) => s.fromCommandLine);
    const pool = cli.length ? cli : this.secrets;
    const labels = [...new Set(pool.map((s) => s.label))];
    if (labels.length > 1) {
      throw new UsageError(`the vault ids ${labels.join(', ')} are available to encrypt with`, { hint: 'pick one with --encrypt-vault-id LABEL' });
    }
    return pool[0]!;
  }
}

async function loadPrompt(spec: SourceSpec, opts: LoadVaultSecretsOptions): Promise<VaultSecret> {
  const ask = opts.prompt ?? readHidden;
  const legacy = spec.source === 'prompt_ask_vault_pass';
  let pw: string;
  if (opts.newPassword) {
    pw = legacy
      ? await readNewSecret('New Vault password: ', 'Confirm New Vault password: ', { ask })
      : await readNewSecret(`New vault password (${spec.label}): `, `Confirm new vault password (${spec.label}): `, { ask });
  } else {
    pw = (await ask(legacy ? 'Vault password: ' : `Vault password (${spec.label}): `)).trim();
    if (pw === '') throw new UsageError(`empty vault password at the prompt for '${spec.label}'`);
  }
  return new VaultSecret(spec.label, Buffer.from(pw, 'utf8'), 'prompt', undefined, spec.origin, spec.fromCommandLine);
}

function loadFileSource(spec: SourceSpec, path: string, earlier: VaultSecret[]): VaultSecret {
  const where = `from ${spec.origin}`;
  if (!existsSync(path)) {
    throw new VaultPasswordSourceError(`the vault password file ${path} (${where}) was not found`, {
      hint: basename(path) === '.vaultpass' ? 'run ./run vault to create it, or restore it from where you keep it' : 'check the path',
    });
  }
  const st = statSync(path);
  if (!st.isFile()) throw new VaultPasswordSourceError(`the vault password file ${path} (${where}) is not a regular file`);
  if (st.mode & 0o111) {
    const client = basename(path, extname(path)).endsWith('-client');
    const pw = runScript(path, spec.label, client, where);
    return new VaultSecret(spec.label, pw, client ? 'client-script' : 'script', path, spec.origin, spec.fromCommandLine);
  }
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    throw new VaultPasswordSourceError(`cannot read the vault password file ${path} (${where}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let text = data.toString('utf8').trim();
  if (isVaultText(text)) {
    // A password file may itself be vaulted with a password loaded earlier (ansible allows this).
    const prior = new VaultSecrets([...earlier], []);
    text = prior.decrypt(text, { file: path }).plaintext.toString('utf8');
  }
  text = text.replace(/^[\r\n]+|[\r\n]+$/g, '');
  if (text === '') throw new VaultPasswordSourceError(`the vault password file ${path} (${where}) is empty`);
  return new VaultSecret(spec.label, Buffer.from(text, 'utf8'), 'file', path, spec.origin, spec.fromCommandLine);
}

function runScript(path: string, label: string, client: boolean, where: string): Buffer {
  const args = client ? ['--vault-id', label] : [];
  debug(`running vault password ${client ? 'client ' : ''}script ${path}${client ? ` --vault-id ${label}` : ''}`);
  try {
    const out = execFileSync(path, args, {
      // A plain script may prompt on the terminal (stderr, and stdin when it is one), as with ansible.
      stdio: [process.stdin.isTTY ? 'inherit' : 'ignore', 'pipe', client ? 'pipe' : 'inherit'],
      timeout: SCRIPT_TIMEOUT_MS,
      maxBuffer: 1 << 20,
    });
    const pw = out.toString('utf8').replace(/^[\r\n]+|[\r\n]+$/g, '');
    if (pw === '') throw new VaultPasswordSourceError(`the vault password script ${path} (${where}) printed an empty password`);
    return Buffer.from(pw, 'utf8');
  } catch (e) {
    if (e instanceof VaultPasswordSourceError) throw e;
    const err = e as NodeJS.ErrnoException & { status?: number | null; signal?: string | null; stderr?: Buffer };
    const stderr = err.stderr ? err.stderr.toString('utf8').trim().split('\n')[0]?.slice(0, 200) : '';
    if (err.code === 'ETIMEDOUT') throw new VaultPasswordSourceError(`the vault password script ${path} (${where}) did not finish within ${SCRIPT_TIMEOUT_MS / 1000} s`);
    if (client && err.status === 2) {
      throw new VaultPasswordSourceError(`the vault password client script ${path} (${where}) has no secret for vault id '${label}'${stderr ? `: ${stderr}` : ''}`);
    }
    if (typeof err.status === 'number') {
      throw new VaultPasswordSourceError(`the vault password script ${path} (${where}) exited with ${err.status}${stderr ? `: ${stderr}` : ''}`);
    }
    throw new VaultPasswordSourceError(
      `cannot run the vault password script ${path} (${where}): ${err.signal ? `killed by ${err.signal}` : (err.code ?? err.message)}`,
      { hint: 'if it is not a script, remove its executable bit (chmod a-x)' },
    );
  }
}
