/**
 * Inline vaulted values: `password: !vault |` followed by an indented vault envelope (what
 * `ansible-vault encrypt_string` prints). The YAML custom tag turns each into a `VaultedValue` that stays
 * encrypted until a variable is read: the vars layer calls `value.reveal(secrets)`, so a wrong password only
 * fails a run that needs the value, and the error names file:line, the variable and the vault id.
 *
 * Usage: `parseDocument(text, { version: '1.1', customTags: [vaultTag] })`, then
 * `attachVaultPositions(doc, lineCounter, file)` to record where each value sits and under which name
 * (the tag's resolver sees only the string, not its place).
 */
import { inspect } from 'node:util';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, type Document, type Node } from 'yaml';
import type { ScalarTag } from 'yaml';
import { stringifyString } from 'yaml/util';
import type { SourcePos } from '../core/errors.js';
import { VAULT_HEADER } from './codec.js';
import { registerSecret } from './redact.js';
import { VaultSecrets } from './secrets.js';

export interface RevealContext {
  /** variable name for messages */
  name?: string;
  /** where the value is written, when the caller knows better than the parse-time position */
  pos?: SourcePos;
}

/** What a vaulted value shows when printed, serialised or inspected. */
export const VAULTED_MARKER = '<vaulted>';

export class VaultedValue {
  /** the envelope text (`$ANSIBLE_VAULT;…` and the hex lines, indentation removed) */
  readonly ciphertext: string;
  /** vault id from the header (format 1.2), undefined for 1.1 */
  readonly label?: string;
  /** where the value is written (set by attachVaultPositions) */
  pos: SourcePos;
  /** variable name (dotted path) when known */
  name?: string;
  readonly #cache = new WeakMap<VaultSecrets, string>();
  readonly #bound: VaultSecrets | undefined;

  constructor(ciphertext: string, pos: SourcePos = { file: '<unknown>' }, name?: string, bound?: VaultSecrets) {
    this.ciphertext = ciphertext;
    this.#bound = bound;
    const header = ciphertext.slice(0, ciphertext.indexOf('\n') >>> 0).trim().split(';');
    this.label = header[0] === VAULT_HEADER && header[3] ? header[3].trim() : undefined;
    this.pos = pos;
    this.name = name;
  }

  /**
   * Decrypt (once per VaultSecrets) and return the text. The value is registered with the redactor, so it
   * never shows in rendered output. Throws the vault errors of VaultSecrets.decrypt, naming file:line,
   * the variable and the vault id. `secrets` defaults to the set the tag was made with (makeVaultTag);
   * `ctx` overrides the name / position recorded at parse time.
   */
  reveal(secrets?: VaultSecrets, ctx: RevealContext = {}): string {
    const set = secrets ?? this.#bound ?? VaultSecrets.none();
    const hit = this.#cache.get(set);
    if (hit !== undefined) return hit;
    const pos = ctx.pos ?? this.pos;
    const { plaintext } = set.decrypt(this.ciphertext, { file: pos.file, line: pos.line, col: pos.col, name: ctx.name ?? this.name });
    const text = plaintext.toString('utf8');
    plaintext.fill(0);
    registerSecret(text);
    this.#cache.set(set, text);
    return text;
  }

  toString(): string {
    return VAULTED_MARKER;
  }
  toJSON(): string {
    return VAULTED_MARKER;
  }
  [Symbol.toPrimitive](): string {
    return VAULTED_MARKER;
  }
  [inspect.custom](): string {
    return VAULTED_MARKER;
  }
}

export function isVaultedValue(v: unknown): v is VaultedValue {
  return v instanceof VaultedValue;
}

/**
 * The `!vault` tag for the `yaml` package. With `secrets`, every value it makes is bound to them, so
 * `value.reveal()` needs no argument. Stringifies back as a `!vault |` literal block.
 */
export function makeVaultTag(secrets?: VaultSecrets): ScalarTag {
  return {
    tag: '!vault',
    identify: (v) => v instanceof VaultedValue,
    // No validation here: a malformed value fails when it is read (with its position), like ansible.
    resolve: (str) => new VaultedValue(str, undefined, undefined, secrets),
    stringify(item, ctx, onComment, onChompKeep) {
      const v = item.value as VaultedValue;
      const s = new Scalar(v.ciphertext.endsWith('\n') ? v.ciphertext : `${v.ciphertext}\n`);
      s.type = Scalar.BLOCK_LITERAL;
      return stringifyString(s, ctx, onComment, onChompKeep);
    },
  };
}

/** Unbound `!vault` tag (`customTags: [vaultTag]`): call `value.reveal(secrets)`. */
export const vaultTag: ScalarTag = makeVaultTag();

/** Record file:line:col and the variable name of every VaultedValue in a parsed document. */
export function attachVaultPositions(doc: Document, lineCounter: LineCounter, file: string): VaultedValue[] {
  const found: VaultedValue[] = [];
  const walk = (node: unknown, name: string, depth: number): void => {
    if (depth > 256 || node === null || node === undefined || isAlias(node)) return;
    if (isScalar(node)) {
      if (node.value instanceof VaultedValue) {
        const at = node.range ? lineCounter.linePos(node.range[0]) : undefined;
        node.value.pos = { file, line: at?.line, col: at?.col };
        node.value.name = name || undefined;
        found.push(node.value);
      }
    } else if (isMap(node)) {
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        walk(pair.value, name ? `${name}.${k}` : k, depth + 1);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, `${name}[${i}]`, depth + 1));
    }
  };
  walk(doc.contents as Node | null, '', 0);
  return found;
}

/** Parse YAML 1.1 text with `!vault` values, positions attached. Errors are returned, not thrown. */
export function parseYamlWithVault(text: string, file: string, secrets?: VaultSecrets): { doc: Document.Parsed; lineCounter: LineCounter; vaulted: VaultedValue[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { version: '1.1', customTags: [secrets ? makeVaultTag(secrets) : vaultTag], lineCounter, prettyErrors: false, uniqueKeys: false });
  const vaulted = attachVaultPositions(doc, lineCounter, file);
  return { doc, lineCounter, vaulted };
}

/** `name: !vault |` + the envelope indented by 10, as `ansible-vault encrypt_string` prints it. */
export function formatInlineVault(envelope: string, name?: string, indent = 10): string {
  const lines = envelope.split('\n').filter((l) => l !== '');
  return [`${name ? `${name}: ` : ''}!vault |`, ...lines.map((l) => `${' '.repeat(indent)}${l}`)].join('\n');
}
