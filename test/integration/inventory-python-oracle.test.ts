/**
 * The pieces of Python the inventory layer re-implements, checked against the real thing (Debian's
 * python3 + ansible-core 2.14): ast.literal_eval as Ansible's INI plugin applies it, shlex.split as it
 * splits host lines, Ansible's host pattern expansion, and YAML typing by Ansible's loader (PyYAML).
 * One Python process per group of samples.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { expandHostPattern } from '../../src/inventory/hostpattern.js';
import { pyParseValue } from '../../src/inventory/pyliteral.js';
import { shlexSplit } from '../../src/inventory/pytext.js';
import { parsePyYaml, toPlain } from '../../src/inventory/pyyaml.js';
import { isTuple, UnsafeText, VaultText } from '../../src/inventory/types.js';
import { cleanupOracle, hasAnsibleInventory, pythonJson } from '../support/inventory-oracle.js';

afterAll(() => cleanupOracle());

const nest = (n: number): string => '['.repeat(n) + ']'.repeat(n);

const LITERALS = [
  // numbers
  '0', '00', '0_0', '7', '-7', '+7', '- 7', '--7', '-+7', '1_000', '1__0', '1_', '007', '0x1F', '0X1f', '0x_1f', '0o17', '0O17', '0b101', '0b2',
  '0x', '1.5', '1.', '.5', '1e5', '1E-3', '1.5e+3', '1_0.5', '1._5', '1e', '09.5', '09e1', '1.5.5', '12ab', '1if', '123456789012345678901234567890',
  '-0.0', '1e400', '-1e400', '1j', '2J', '1+2j', '-1-2j', '1+-2j', '2j+1', '1+2', '1 + 2j', '(1+2j)', '-(1)', '-(-1)', '-True', '+None', '~1',
  // constants and names
  'True', 'False', 'None', 'true', 'yes', 'null', 'inf', 'nan', '...', 'Ellipsis', 'print', 'set()', 'set', 'set(1)', 'dict()', 'x.y',
  // strings
  "'a'", '"a"', "'a' 'b'", '"a" \'b\'', "'''tri'''", '"""tri"""', "u'x'", "U'x'", "r'\\d+'", "R'\\n'", "b'abc'", "B'x'", "br'\\x'", "rb'x'",
  "b'\\xff'", "b'é'", "'é'", "'\\xe9'", "'\\u00e9'", "'\\U0001F600'", "'\\N{BULLET}'", "'\\101\\7'", "'\\x4'", "'\\q'", "'a\\tb\\nc'", "'\\''",
  '"\\""', "'unterminated", "'a' b'c'", "f'x'", "F'{1}'", "'a' f'b'", "rf'x'", "'#'", "'a' # comment",
  // containers
  '[]', '[1, 2]', '[1, 2,]', '[1,, 2]', '()', '(1)', '(1,)', '(1, 2)', '1, 2', '1,', ',', '{}', "{'a': 1}", "{'a': 1,}", '{"a": [1, {"b": null}]}',
  '{"a": true}', "{1: 'x', True: 'y'}", "{1.5: 'x'}", "{None: 1}", "{(1, 2): 'tuple key'}", '{[1]: 2}', '{1, 2}', '{1: 2, 3}', '{**x}',
  '[1][0]', '[x for x in y]', '(1, [2, (3,)])', "{'a': (1, 2), 'b': {'c': False}}", nest(199), nest(200), nest(201),
  // whitespace and comments
  '  1', '\t1', '1  ', '1 # c', 'foo # c', '# only', '', ' ', '[1,\t2]', '1;2', 'a=b', '=', '@', '$x', '\\', '1 \\',
  // things people write in inventories
  'http://198.18.0.5:8001/x', '198.18.0.1', '12:30', '0644', '/usr/bin/python3', 'two words', 'a,b', '[a, b]', '{"k": "v"}', '{k: v}',
  'ünïcødé', '服务器', "'服务器'", '1.0.0', 'v1.2', '~', '-', 'True False',
];

const LITERAL_PY = `
import ast, json, sys
def enc(v):
    if isinstance(v, bool): return {"bool": v}
    if v is None: return {"none": True}
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        f = float(v)
        return {"num": f if f == f and abs(f) != float('inf') else repr(f)}
    if isinstance(v, str): return {"str": v}
    if isinstance(v, bytes): return {"str": v.decode('utf-8', 'surrogateescape')}
    if isinstance(v, tuple): return {"tuple": [enc(x) for x in v]}
    if isinstance(v, list): return {"list": [enc(x) for x in v]}
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if not isinstance(k, (str, int, float, bool, type(None))): raise TypeError("key")
            out[json.dumps(k) if not isinstance(k, str) else k] = enc(x)
        return {"dict": out}
    raise TypeError("unjsonable")
res = []
for s in json.load(sys.stdin):
    try:
        v = ast.literal_eval(s)
    except (ValueError, SyntaxError):
        res.append({"raw": s}); continue
    except Exception:
        res.append({"error": True}); continue
    try:
        res.append(enc(v))
    except TypeError:
        res.append({"error": True})
print(json.dumps(res))
`;

function encOurs(s: string): unknown {
  let v: unknown;
  try {
    v = pyParseValue(s);
  } catch {
    return { error: true };
  }
  if (v === s) return { raw: s };
  const enc = (x: unknown): unknown => {
    if (typeof x === 'boolean') return { bool: x };
    if (x === null) return { none: true };
    if (typeof x === 'number') return { num: Number.isFinite(x) ? x : x > 0 ? 'inf' : '-inf' };
    if (typeof x === 'string') return { str: x };
    if (Array.isArray(x)) return isTuple(x) ? { tuple: x.map(enc) } : { list: x.map(enc) };
    const out: Record<string, unknown> = {};
    for (const [k, y] of Object.entries(x as object)) out[k] = enc(y);
    return { dict: out };
  };
  return enc(v);
}

const SHLEX = [
  'host', 'host a=1 b=2', 'h a="x y" b=\'p q\'', 'h a=b#c', 'h a=b #c', 'h "a#b"', "h 'a\\b'", 'h "a\\"b"', 'h "a\\\\b"', 'h "a\\nb"', 'h a\\ b',
  'h \'\'', 'h ""', 'h x""y', 'h "unterminated', "h 'unterminated", 'h trailing\\', 'h\ta=1', 'h a=1\r', 'h ;x', 'h a="#"#c', 'h "ü=ñ"', '"" x=1',
  'h a=b=c', 'h pre"fix "post', 'h # all comment', '#', "h a='' b=\"\"",
];
const SHLEX_PY = `
import json, shlex, sys
res = []
for s in json.load(sys.stdin):
    try: res.append({"tokens": shlex.split(s, comments=True)})
    except ValueError as e: res.append({"error": str(e)})
print(json.dumps(res))
`;

const PATTERNS = [
  'web', 'web:22', 'web[1:3]', 'web[01:10]', 'web[1:10:3]', 'web[a:c]', 'web[a:e:2]', 'web[A:C]', 'pfx-[1:3]', 'r[1:2]-n[a:b]', 'x[:3]', 'x[3:1]', 'x[1:3]:2222',
  '198.18.0.1', '198.18.0.1:22', '198.18.0.[1:3]', '[2001:db8::1]:22', '2001:db8::1', 'fe80::1', '::1', '[::1]', 'a::b:22', 'web[01:100]', 'web[1:]', 'web[c:a]',
  'web[1:x]', 'web[1:5:0]', 'web[1:2:3:4]', 'web[1:2', 'web]1:2[', 'a|b[1:2]', 'web[ab:cd]', 'web[a:z:-1]', 'web[a:c:q]', 'host_', 'host-', '-host', 'ho st',
  'ho_st:22', 'host_:22', 'xn--bcher-kva.example', 'ünïcode', 'h:0', 'h:00022', '[h]:22', '[a:22]:33', 'a.b.c:99999', 'web[001:003]-x', 'web[1_0:1_2]',
];
const PATTERN_PY = `
import json, sys
from ansible.plugins.inventory import BaseInventoryPlugin
p = BaseInventoryPlugin()
res = []
for s in json.load(sys.stdin):
    try:
        names, port = p._expand_hostpattern(s)
        res.append({"names": names, "port": port})
    except Exception as e:
        res.append({"error": str(e)})
print(json.dumps(res))
`;

const SCALARS = [
  'yes', 'Yes', 'YES', 'no', 'on', 'Off', 'true', 'True', 'y', 'n', 'Y', 'N', '~', 'null', 'Null', 'NULL', '', '0', '00', '08', '0644', '-0644', '0o17', '0x1F',
  '0b101', '+12', '-12', '1_000', '1:30', '-1:30', '190:20:30', '1:30.5', '1.5', '1.', '.5', '+.5', '-.5', '1e5', '1.0e+5', '1.0e5', '.inf', '-.Inf', '.NaN',
  '2024-01-31', '2024-1-31', '2024-02-30', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.1234567Z', '2001-12-14 21:59:43', '12:30:00', '198.18.0.1',
  'v1.2', '"quoted"', "'0644'", '!!str 0644', '!!int "42"', '!!float "1"', '!!bool "yes"', '!!null ""', '!unsafe "{{ x }}"', '"a\\tb"', "'it''s'", '{a: 1, b: [x, 2]}',
  '[1, yes, ~]', '=', '<<', '"<<"', 'a=b', 'foo: bar', '- x',
];
const DOCS = [
  'a: 1\na: 2\n',
  'base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n',
  'b1: &b1 {x: 1}\nb2: &b2 {x: 2, z: 2}\nm:\n  <<: [*b1, *b2]\n  w: 0\n',
  'a: &x [1, 2]\nb: *x\n',
  '{"j": 1e5, "k": 1.0, "t": true, "n": null, "s": "yes", "l": [1, "2"]}',
  '? [1, 2]\n: x\n',
  '1: one\n2.5: two\ntrue: three\n~: four\n',
  'x: !!binary aGVsbG8=\n',
  'x: !custom y\n',
  'a: |\n  line1\n  line2\nb: >-\n  folded\n  text\n',
  'a: b\n---\nc: d\n',
  'u: !unsafe\n  k: "{{ v }}"\n  l: ["{{ w }}"]\n',
  'u: !unsafe\n  k: {a: 1, b: [2]}\n  l: [x, [y]]\n  s: str\nv: !unsafe [a, [b], {c: d}]\n',
];
const YAML_PY = `
import json, sys, datetime
from ansible.parsing.yaml.loader import AnsibleLoader
from ansible.utils.unsafe_proxy import AnsibleUnsafe
def norm(v):
    if isinstance(v, AnsibleUnsafe): return {"__unsafe": str(v)}
    if isinstance(v, dict): return {json.dumps(k) if not isinstance(k, str) else k: norm(x) for k, x in v.items()}
    if isinstance(v, list): return [norm(x) for x in v]
    if isinstance(v, (datetime.date, datetime.datetime)): return v.isoformat()
    if isinstance(v, float) and (v != v or abs(v) == float('inf')): return repr(v)
    if isinstance(v, bytes): raise TypeError("bytes cannot be written as JSON by ansible-inventory")
    return v
res = []
for s in json.load(sys.stdin):
    try:
        try:
            v = json.loads(s)
        except ValueError:
            v = AnsibleLoader(s).get_single_data()
        res.append({"value": norm(v)})
    except Exception as e:
        res.append({"error": type(e).__name__})
print(json.dumps(res))
`;

function yamlOurs(s: string): unknown {
  try {
    const r = parsePyYaml(s, 'x.yml');
    const norm = (v: unknown): unknown => {
      if (v instanceof UnsafeText) return { __unsafe: v.text };
      if (v instanceof VaultText) return { __vault: v.ciphertext };
      if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
      if (Array.isArray(v)) return v.map(norm);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
      return v;
    };
    return { value: r.root ? norm(toPlain(r.root)) : null };
  } catch {
    return { error: true };
  }
}

describe.skipIf(!hasAnsibleInventory)('Python semantics re-implemented for the inventory, against real Python', () => {
  it(`ast.literal_eval as Ansible's INI plugin types values (${LITERALS.length} samples)`, async () => {
    const theirs = await pythonJson<unknown[]>(LITERAL_PY, LITERALS);
    LITERALS.forEach((s, i) => {
      // documented gap: \N{NAME} needs Unicode's name table; we refuse the value instead of guessing
      const expected = s.includes('\\N{') ? { error: true } : theirs[i];
      expect(encOurs(s), `value ${JSON.stringify(s)}`).toEqual(expected);
    });
  });

  it(`shlex.split(comments=True) on host lines (${SHLEX.length} samples)`, async () => {
    const theirs = await pythonJson<{ tokens?: string[]; error?: string }[]>(SHLEX_PY, SHLEX);
    SHLEX.forEach((s, i) => {
      let ours: unknown;
      try {
        ours = { tokens: shlexSplit(s).map((t) => t.value) };
      } catch (e) {
        ours = { error: (e as Error).message };
      }
      expect(ours, `line ${JSON.stringify(s)}`).toEqual(theirs[i]);
    });
  });

  it(`host patterns: names, ports, range errors (${PATTERNS.length} samples)`, async () => {
    const theirs = await pythonJson<{ names?: string[]; port?: number | null; error?: string }[]>(PATTERN_PY, PATTERNS);
    PATTERNS.forEach((s, i) => {
      let ours: unknown;
      try {
        const r = expandHostPattern(s);
        ours = { names: r.names, port: r.port ?? null };
      } catch (e) {
        ours = { error: (e as Error).message };
      }
      expect(ours, `pattern ${JSON.stringify(s)}`).toEqual(theirs[i]);
    });
  });

  it(`YAML typing by Ansible's loader (${SCALARS.length} scalars, ${DOCS.length} documents)`, async () => {
    const docs = [...SCALARS.map((s) => `x: ${s}\n`), ...DOCS];
    const theirs = await pythonJson<{ value?: unknown; error?: string }[]>(YAML_PY, docs);
    docs.forEach((d, i) => {
      const t = theirs[i]!;
      const o = yamlOurs(d) as { value?: unknown; error?: boolean };
      if (t.error !== undefined) expect(o.error, `document ${JSON.stringify(d)} should fail (${t.error})`).toBe(true);
      else expect(o, `document ${JSON.stringify(d)}`).toEqual({ value: t.value });
    });
  });
});
