/**
 * `vault get /path`: BOSH `int --path` style lookup (go-patch pointer syntax) into a decrypted document.
 *
 *   /key             map key               /list/0    array index (negative counts from the end)
 *   /list/name=foo   the array element whose `name` is `foo`
 *   /key?            optional: if missing, the result is "nothing" (and every later segment is optional too)
 *   ~1 and ~0        escape `/` and `~` inside a segment;  `/` alone is the whole document
 *
 * Missing non-optional segments raise VaultPathNotFoundError naming the keys that do exist (names only).
 */
import { UsageError } from '../core/errors.js';
import { VaultPathNotFoundError } from './errors.js';

export interface PathSegment {
  raw: string;
  key: string;
  optional: boolean;
}

export function parsePath(path: string): PathSegment[] {
  if (!path.startsWith('/')) throw new UsageError(`path '${path}' must start with '/'`, { hint: 'for example: /vault_keystone_password, /list/0, /optional_key?' });
  if (path === '/') return [];
  let optional = false;
  return path
    .slice(1)
    .split('/')
    .map((raw) => {
      let key = raw;
      if (key.endsWith('?')) {
        optional = true;
        key = key.slice(0, -1);
      }
      return { raw, key: key.replace(/~1/g, '/').replace(/~0/g, '~'), optional };
    });
}

export type LookupResult = { found: true; value: unknown } | { found: false };

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'a map' : `a ${typeof v}`);

export function lookupPath(doc: unknown, path: string, file: string): LookupResult {
  const segs = parsePath(path);
  let cur: unknown = doc;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    const at = '/' + segs.slice(0, i + 1).map((s) => s.raw).join('/');
    const missing = (why: string): LookupResult => {
      if (seg.optional) return { found: false };
      throw new VaultPathNotFoundError(`${why} for path '${at}'`, { pos: { file }, hint: "append '?' to a segment to make it optional (empty output, exit 0)" });
    };
    if (Array.isArray(cur)) {
      const eq = seg.key.indexOf('=');
      if (/^-?\d+$/.test(seg.key)) {
        const n = Number(seg.key);
        const idx = n < 0 ? cur.length + n : n;
        if (idx < 0 || idx >= cur.length) return missing(`expected to find an array index ${seg.key} (the array has ${cur.length} items)`);
        cur = cur[idx];
      } else if (eq > 0) {
        const k = seg.key.slice(0, eq);
        const v = seg.key.slice(eq + 1);
        const hit = cur.find((x) => x !== null && typeof x === 'object' && !Array.isArray(x) && String((x as Record<string, unknown>)[k]) === v);
        if (hit === undefined) return missing(`expected to find an array item with key '${k}' and the given value`);
        cur = hit;
      } else {
        return missing(`expected an array index or KEY=VALUE, got '${seg.key}'`);
      }
    } else if (cur !== null && typeof cur === 'object') {
      const map = cur as Record<string, unknown>;
      if (!Object.prototype.hasOwnProperty.call(map, seg.key)) {
        const keys = Object.keys(map);
        const shown = keys.slice(0, 30).map((k) => `'${k}'`).join(', ') + (keys.length > 30 ? ', …' : '');
        return missing(`expected to find a map key '${seg.key}' (found map keys: ${shown || 'none'})`);
      }
      cur = map[seg.key];
    } else {
      return missing(`expected a map or an array at '${seg.key}', found ${describe(cur)}`);
    }
  }
  return { found: true, value: cur };
}
