import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha512Crypt, verifySha512Crypt } from '../../src/template/crypt.js';
import { ipaddrFilter, networkInUsable } from '../../src/template/ipaddr.js';
import { guardChains } from '../../src/template/engine.js';
import { parseHeader, scan, templateNames } from '../../src/template/lexer.js';
import { literalEval, pyFloat, pyRepr } from '../../src/template/pyvalue.js';
import { pyRegex, pyReplacement } from '../../src/template/pyregex.js';
import {
  ansibleConvert, evalExpression, extendTemplates, fsLookupContext, isTemplate, OMIT_PLACEHOLDER, referencedNames, removeOmit,
  renderString, renderTemplateFile, renderText, singleExpression, TemplateError,
} from '../../src/template/templar.js';

function err(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  throw new Error('expected a TemplateError');
}

describe('native typing (renderString)', () => {
  const ctx = { n: 3, l: [1, 'a'], d: { k: true }, s: '5', nul: null };
  it('returns native values for a lone expression', () => {
    expect(renderString('{{ n }}', ctx)).toBe(3);
    expect(renderString('{{ n + 1 }}', ctx)).toBe(4);
    expect(renderString('{{ l }}', ctx)).toEqual([1, 'a']);
    expect(renderString('{{ d }}', ctx)).toEqual({ k: true });
    expect(renderString('{{ nul }}', ctx)).toBeNull();
    expect(renderString('{{ s }}', ctx)).toBe('5');
    expect(renderString('{{ n > 2 }}', ctx)).toBe(true);
    expect(renderString('{{ s | int }}', ctx)).toBe(5);
  });
  it('converts list/dict/bool-looking text like ansible-core 2.14, but not after string-type filters', () => {
    expect(renderString('[{{ n }}, 2]', ctx)).toEqual([3, 2]);
    expect(renderString("{{ '[1, 2]' }}", ctx)).toEqual([1, 2]);
    expect(renderString("{{ 'True' }}", ctx)).toBe(true);
    expect(renderString('{{ l | to_json }}', ctx)).toBe('[1, "a"]');
    expect(renderString('{{ n }}.{{ n }}', ctx)).toBe('3.3');
    expect(renderString('[broken', ctx)).toBe('[broken');
    expect(ansibleConvert('{"a": true, "b": null}')).toEqual({ a: true, b: null });
  });
  it('leaves non-templates alone and detects single expressions', () => {
    expect(renderString('plain', ctx)).toBe('plain');
    expect(isTemplate('a {# c #}')).toBe(true);
    expect(singleExpression('{{ a }}')).toBe('a');
    expect(singleExpression('{{ a }} {{ b }}')).toBeUndefined();
    expect(singleExpression("{{ {'a': {'b': 1}} }}")).toBe("{'a': {'b': 1}}");
    expect(singleExpression('x{{ a }}')).toBeUndefined();
  });
  it('evaluates bare expressions', () => {
    expect(evalExpression("l | length == 2 and d.k", ctx)).toBe(true);
    expect(evalExpression('nul', ctx)).toBeNull();
  });
});

describe('printing like Python str()', () => {
  it('prints booleans, None, containers, floats as Python does', () => {
    expect(renderText('{{ true }}|{{ none }}|{{ [1, "a", none] }}|{{ {"k": false} }}|{{ 2.0 }}|{{ 1e20 }}|{{ 1e-7 }}', {})).toBe(
      "True||[1, 'a', None]|{'k': False}|2.0|1e+20|1e-07",
    );
    expect(renderText('{{ ["it\'s"] }} {{ ["a\\nb"] }}', {})).toBe('["it\'s"] [\'a\\nb\']');
  });
  it('formats floats and reprs like Python', () => {
    expect(pyFloat(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(pyFloat(1e16)).toBe('1e+16');
    expect(pyFloat(123456789012345.6)).toBe('123456789012345.6');
    expect(pyFloat(0.0001)).toBe('0.0001');
    expect(pyFloat(-0)).toBe('-0.0');
    expect(pyRepr(['\x01', 'é', "a'b\"c"])).toBe("['\\x01', 'é', 'a\\'b\"c']");
  });
});

describe('omit', () => {
  it('evaluates to the placeholder and is removed from arguments', () => {
    expect(renderString('{{ x | default(omit) }}', {})).toBe(OMIT_PLACEHOLDER);
    expect(removeOmit({ a: 1, b: OMIT_PLACEHOLDER, c: { d: OMIT_PLACEHOLDER, e: [OMIT_PLACEHOLDER, 2] } })).toEqual({ a: 1, c: { e: [2] } });
  });
});

describe('#jinja2: header and whitespace', () => {
  it('overrides lstrip/trim/keep_trailing_newline and strips the header line', () => {
    expect(renderText('#jinja2: lstrip_blocks: True\n  {% if true %}\nA\n  {% endif %}\n', {})).toBe('A\n');
    expect(renderText('#jinja2: trim_blocks: False\n{% if true %}\nA\n{% endif %}\n', {})).toBe('\nA\n');
    expect(renderText('#jinja2: lstrip_blocks:True, trim_blocks :True\n  {% if 1 %}\nx\n  {% endif %}', {})).toBe('x\n');
  });
  it('supports custom delimiters; standard ones become text', () => {
    const t = "#jinja2: variable_start_string: '[%', variable_end_string: '%]', block_start_string: '<%', block_end_string: '%>'\n[% a %] {{ a }} <% if a %>yes<% endif %> {% x %}";
    expect(renderText(t, { a: 1 })).toBe('1 {{ a }} yes {% x %}');
  });
  it('reports a malformed header', () => {
    expect(err(() => renderText('#jinja2: trim_blocks True\nx', {})).kind).toBe('header');
    expect(err(() => renderText("#jinja2: trim_blocks: 'yes'\nx", {})).kind).toBe('header');
    expect(parseHeader('#jinja2: foo: 1\nbody', literalEval)).toEqual({ overrides: {}, body: 'body' });
  });
  it('keeps as many trailing newlines as the source (Ansible), unless told not to', () => {
    expect(renderText('a\n\n', {})).toBe('a\n\n');
    expect(renderText('a\n\n', {}, { preserveTrailingNewlines: false })).toBe('a\n');
    expect(renderText('a {{ x }}', { x: 1 })).toBe('a 1');
    expect(renderText('{% raw %}\n{{ x }}{% endraw %}\n', {})).toBe('\n{{ x }}\n');
  });
});

describe('undefined variables are named', () => {
  it('names a plain variable with line and column', () => {
    const e = err(() => renderText('line1\nvalue: {{ nope }}', {}));
    expect(e.kind).toBe('undefined');
    expect(e.variable).toBe('nope');
    expect(e.undefinedName).toBe('nope');
    expect(e.line).toBe(2);
    expect(e.col).toBe(11);
    expect(e.message).toContain("'nope' is undefined");
  });
  it('names attribute and item misses and the missing key', () => {
    const e = err(() => renderString("{{ hv['n1']['ansible_' + iface].ipv4 }}", { hv: { n1: {} }, iface: 'eth1' }));
    expect(e.kind).toBe('undefined');
    expect(e.undefinedName).toBe('hv');
    expect(e.message).toContain("has no attribute 'ansible_eth1'");
    const e2 = err(() => renderText('{{ d.a.b }}', { d: { a: {} } }));
    expect(e2.variable).toBe('d.a.b');
    expect(e2.message).toContain("'d.a' has no attribute 'b'");
  });
  it('names misses inside loops and conditions, and in single expressions', () => {
    expect(err(() => renderText('{% for h in l %}{{ h.ip }}{% endfor %}', { l: [{}] })).variable).toBe('h.ip');
    expect(err(() => renderText('{% if flag %}x{% endif %}', {})).variable).toBe('flag');
    expect(err(() => renderString('{{ missing }}', {})).variable).toBe('missing');
    expect(err(() => evalExpression('missing_thing', {})).variable).toBe('missing_thing');
  });
  it('keeps the template line when a header is removed', () => {
    expect(err(() => renderText('#jinja2: lstrip_blocks: True\nok\n{{ nope }}', {})).line).toBe(3);
  });
  it('reports syntax errors', () => {
    const e = err(() => renderText('a\n{{ 1 + }}', {}));
    expect(e.kind).toBe('syntax');
    expect(e.line).toBe(2);
    expect(err(() => renderText('{% if x %}', { x: 1 })).kind).toBe('syntax');
    expect(err(() => renderText('{{ unclosed', {})).kind).toBe('syntax');
  });
});

describe('chained undefined (AnsibleUndefined)', () => {
  const ctx = { a: {}, n: null, hv: { n1: { ansible_eth0: { ipv4: { address: '192.0.2.1' } } } }, h: 'n1', iface: 'eth1' };
  it('lets default, d, defined, undefined and type tests see an undefined chain', () => {
    expect(renderText("{{ a.b.c | default('x') }} {{ a.b.c | d('y') }} {{ a['b'].c[0] | default(8) }} {{ zz.b.c | default(9) }}", ctx)).toBe('x y 8 9');
    expect(renderText('{{ a.b.c is defined }} {{ a.b.c is undefined }} {{ a.b.c is not defined }} {{ n.x.y is none }}', ctx)).toBe('False True True False');
    expect(renderText("{{ (a.b.c | default({})).d | default(1) }} {{ (a.b.c is defined) | ternary('y', 'n') }}", ctx)).toBe('1 n');
    expect(renderText("[{{ hv[h]['ansible_' + iface].ipv4.address | default('') }}]", ctx)).toBe('[]');
    expect(renderText("{{ hv[h]['ansible_' + 'eth0'].ipv4.address | default('') }}", ctx)).toBe('192.0.2.1');
    expect(renderString('{{ a.b.c | default(omit) }}', ctx)).toBe(OMIT_PLACEHOLDER);
    expect(renderString('{{ a.b.port | default(80) | int }}', ctx)).toBe(80);
    expect(evalExpression('a.b.c is defined or n.x is defined', ctx)).toBe(false);
    expect(renderText("{% if a.b.c is defined and a.b.c %}y{% else %}n{% endif %}{% for p in a.b.ps | default([1, 2]) %}{{ p }}{% endfor %}", ctx)).toBe('n12');
  });
  it('still fails on every other use, naming the access', () => {
    for (const t of ['{{ a.b.c }}', '{% if a.b.c %}y{% endif %}', '{% for x in a.b.c %}{% endfor %}', '{{ a.b.c == 1 }}', '{{ a.b.c + 1 }}', "{{ a.b.c ~ 'x' }}", '{{ a.b.c | ternary(1, 2) }}', '{{ a.b.c | length }}', '{{ a.b.c.upper() | default(1) }}']) {
      const e = err(() => renderText(t, ctx));
      expect([t, e.kind, e.variable, e.undefinedName]).toEqual([t, 'undefined', 'a.b.c', 'a']);
      expect(e.message).toContain("'a' has no attribute 'b'");
    }
    expect(err(() => renderString('{{ a.b.c }}', ctx)).variable).toBe('a.b.c');
    expect(err(() => evalExpression('a.b.c == 1', ctx)).variable).toBe('a.b.c');
  });
  it('single expressions give the same value whether the guarded form is remembered or not', () => {
    const e = "x.y.z | default('d')";
    expect(evalExpression(e, { x: { y: { z: 1 } } })).toBe(1);
    expect(evalExpression(e, { x: {} })).toBe('d');
    expect(evalExpression(e, { x: { y: { z: 2 } } })).toBe(2);
    expect(evalExpression(e, {})).toBe('d');
    const bad = "x.y.z | default('d') ~ w.v.u";
    for (let i = 0; i < 2; i++) {
      const er = err(() => evalExpression(bad, { x: {}, w: {} }));
      expect([er.variable, er.col]).toEqual(['w.v.u', 28]);
    }
  });
  it('mandatory names the chain', () => {
    const e = err(() => renderText('{{ a.b.c | mandatory }}', ctx));
    expect(e.message).toBe("Mandatory variable 'a.b.c' not defined.");
    expect(err(() => renderText("{{ a.b.c | mandatory('need it') }}", ctx)).message).toContain('need it');
    expect(renderText('{{ a.b | mandatory }}', { a: { b: 0 } })).toBe('0');
  });
  it('reports columns and text of the template as written, not of the rewrite', () => {
    const e = err(() => renderText("{{ a.b.c | default('x') }} {{ d.e.f }}", { ...ctx, d: {} }));
    expect([e.variable, e.line, e.col, e.sourceLine]).toEqual(['d.e.f', 1, 32, "{{ a.b.c | default('x') }} {{ d.e.f }}"]);
    expect(err(() => renderText('{{ d.e.f }}', { d: {} })).col).toBe(5);
    const e2 = err(() => renderText("x\n{{ x[a.k | default('m')].y.z }}", { a: {}, x: { m: {} } }));
    expect([e2.variable, e2.line, e2.col]).toEqual(["x[a.k | default('m')].y.z", 2, 25]);
    const e3 = err(() => renderString("{{ (a.b | default('q')) ~ d.e.f }}", { ...ctx, d: {} }));
    expect([e3.variable, e3.col]).toEqual(['d.e.f', 28]);
    expect(err(() => renderText('{{ a.b.c | default(1) + }}', ctx)).col).toBe(25);
  });
  it('rewrites only chains that a guard consumes', () => {
    expect(guardChains('a.b.c | default(1)', true).out).toBe('((a | default(none)).b | default(none)).c | default(1)');
    expect(guardChains("not h[k]['x' + i] is defined", true).out).toBe("not ((h | default(none))[k] | default(none))['x' + i] is defined");
    expect(guardChains('a.m(1).c is undefined', true).out).toBe('(a.m(1) | default(none)).c is undefined');
    expect(guardChains('(x.y | f).z | d', true).out).toBe('((x.y | f) | default(none)).z | d');
    expect(guardChains('((a.b).c) is defined', true).out).toBe('((((a | default(none)).b) | default(none)).c) is defined');
    for (const same of ['a.b.c', 'a.b | f | default(1)', 'a.b[1:] | default(1)', 'x | default(a.b.c)', 'a.b.c is iterable', 'n | default(1)']) expect(guardChains(same, true).out).toBe(same);
    const m = guardChains('a.b | mandatory', false);
    expect(m.out).toBe('a.b | default("\\u0001undefined\\u0001a.b") | mandatory');
    expect(m.inserts).toEqual([[4, m.out.length - 'a.b | mandatory'.length]]);
  });
});

describe('guarded plugins', () => {
  it('turns a throwing filter into a TemplateError and keeps the engine usable', () => {
    extendTemplates((env) => env.addFilter('boom', () => {
      throw new Error('kaboom');
    }));
    const e = err(() => renderText('{{ 1 | boom }}', {}));
    expect(e.kind).toBe('filter');
    expect(e.message).toContain('kaboom');
    expect(renderText('{{ 1 + 1 }}', {})).toBe('2');
    expect(err(() => renderText("{{ 'x' | b64decode }}", {})).message).toContain('b64decode');
    expect(renderText('{{ 2 * 3 }}', {})).toBe('6');
  });
});

describe('filters: edge cases', () => {
  const r = (t: string, ctx: Record<string, unknown> = {}): string => renderText(t, ctx);
  it('int, float, round, pow', () => {
    expect(r("{{ '0x1A' | int(0, 16) }} {{ '0b11' | int(0, 0) }} {{ 'x' | int(7) }} {{ '-3.9' | int }} {{ none | int }}")).toBe('26 3 7 -3 0');
    expect(r("{{ 'abc' | float }} {{ '1e3' | float }} {{ 2 | float }}")).toBe('0.0 1000.0 2.0');
    expect(r('{{ 2.5 | round }} {{ 3.5 | round }} {{ 0.125 | round(2) }} {{ 2.675 | round(2) }} {{ -2.5 | round }} {{ 2.1 | round(0, "ceil") }}')).toBe('2.0 4.0 0.12 2.67 -2.0 3.0');
    expect(r('{{ 2 | pow(3) }} {{ (2 | pow(3)) | int }}')).toBe('8.0 8');
  });
  it('join, string, split, indent, replace', () => {
    expect(r("{{ [true, none, 1] | join(',') }} {{ [1] | string }}")).toBe('True,None,1 [1]');
    expect(r("{{ ' a  b ' | split }} {{ 'a,b,c' | split(',', 1) }}")).toBe("['a', 'b'] ['a', 'b,c']");
    expect(r("{{ 'a\nb\n\nc' | indent(2) }}")).toBe('a\n  b\n\n  c');
    expect(r("{{ 'a\nb' | indent(width='> ', first=true) }}")).toBe('> a\n> b');
    expect(r("{{ 'aaaa' | replace('a', 'b', 2) }}")).toBe('bbaa');
  });
  it('ternary, bool, basename/dirname', () => {
    expect(r("{{ none | ternary(1, 2, 3) }} {{ none | ternary(1, 2) }} {{ [] | ternary('y', 'n') }}")).toBe('3 2 n');
    expect(renderString("{{ 'on' | bool }}", {})).toBe(true);
    expect(renderString('{{ none | bool }}', {})).toBeNull();
    expect(r("{{ '/a/b/' | basename }}|{{ '//x' | dirname }}|{{ 'x' | dirname }}")).toBe('|//|');
  });
  it('regex filters translate Python syntax', () => {
    expect(r("{{ 'k=v' | regex_replace('(?P<a>\\\\w)=(?P<b>\\\\w)', '\\\\g<b>=\\\\g<a>') }}")).toBe('v=k');
    expect(r("{{ 'abc' | regex_search('B', ignorecase=true) }}")).toBe('b');
    expect(pyRegex('\\Afoo\\Z').test('foo')).toBe(true);
    expect(pyRegex('\\Afoo\\Z').test('foo\n')).toBe(false);
    expect('ab'.replace(pyRegex('(a)(b)', { global: true }), pyReplacement('\\2\\1'))).toBe('ba');
    expect(() => pyReplacement('\\q')).toThrow();
  });
  it('set operations, flatten, combine, dict2items', () => {
    expect(r('{{ [1, [2, [3, [4]]]] | flatten(levels=2) }}')).toBe('[1, 2, 3, [4]]');
    expect(r("{{ [1, 2, 2] | union([2, 3]) }} {{ [{'a': 1}] | intersect([{'a': 1}]) }}")).toBe("[1, 2, 3] [{'a': 1}]");
    expect(renderString("{{ {'a': {'x': 1}} | combine({'a': {'y': 2}}, recursive=true) }}", {})).toEqual({ a: { x: 1, y: 2 } });
    expect(renderString("{{ {'l': [1]} | combine({'l': [2]}, list_merge='prepend') }}", {})).toEqual({ l: [2, 1] });
    expect(renderString('{{ d | dict2items | items2dict }}', { d: { a: 1 } })).toEqual({ a: 1 });
    expect(err(() => renderText("{{ 'x' | dict2items }}", {})).message).toContain('dict2items requires a dictionary');
  });
  it('json, yaml, json_query', () => {
    expect(r("{{ {'b': 1, 'a': 'é'} | to_json }}")).toBe('{"a": "\\u00e9", "b": 1}');
    expect(r("{{ {'b': [1, {'c': 2}]} | to_nice_yaml }}")).toBe('b:\n- 1\n-   c: 2\n');
    expect(renderString("{{ 'a: yes\nb: y' | from_yaml }}", {})).toEqual({ a: true, b: 'y' });
    expect(renderString("{{ d | json_query('a[?x>`1`].x') }}", { d: { a: [{ x: 1 }, { x: 2 }] } })).toEqual([2]);
  });
  it('mandatory, hash, quote, comment, b64', () => {
    const m = err(() => renderText('{{ nope | mandatory }}', {}));
    expect(m.message).toContain("Mandatory variable 'nope' not defined");
    expect([m.kind, m.variable, m.undefinedName]).toEqual(['undefined', 'nope', 'nope']);
    expect(err(() => renderText("{{ nope | mandatory('set nope') }}", {})).message).toContain('set nope');
    expect(r('{{ n | mandatory }}', { n: null })).toBe('');
    expect(r("{{ 'abc' | hash('sha256') }}")).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(r("{{ \"a'b\" | quote }}")).toBe("'a'\"'\"'b'");
    expect(r("{{ 'x' | comment }}")).toBe('#\n# x\n#');
    expect(r("{{ 'é' | b64encode | b64decode }}")).toBe('é');
  });
  it('dict.get with a default', () => {
    expect(r("{{ d.get('x', 'dflt') }} {{ d['y'].get('z', [1]) | length }}", { d: { y: {} } })).toBe('dflt 1');
  });
});

describe('password_hash', () => {
  it('produces crypt(3) $6$ hashes that verify', () => {
    // reference values from Python's crypt module (glibc)
    expect(sha512Crypt('secret', 'saltsalt')).toBe('$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1');
    expect(sha512Crypt('secret', 'saltsalt', 1000)).toBe('$6$rounds=1000$saltsalt$LAV5VE5Y7w1d73x1mFNspYWUpazfmwv2SoepNXNKJ/otop/Zok96Hr8Q13LEv0DRY/x8v0/crpIjl8NJSAqXV/');
    const h = renderText("{{ 'pw' | password_hash('sha512') }}", {});
    expect(h).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    expect(verifySha512Crypt('pw', h)).toBe(true);
    expect(verifySha512Crypt('other', h)).toBe(false);
    expect(err(() => renderText("{{ 'pw' | password_hash('sha512', 'bad salt!') }}", {})).kind).toBe('filter');
  });
});

describe('ipaddr', () => {
  it('validates and queries like ansible.utils', () => {
    expect(ipaddrFilter('198.18.0.1')).toBe('198.18.0.1');
    expect(ipaddrFilter('198.18.0')).toBe('198.18.0.0');
    expect(ipaddrFilter('256.1.1.1')).toBe(false);
    expect(ipaddrFilter('198.18.0.0/15', 'net')).toBe('198.18.0.0/15');
    expect(ipaddrFilter('198.18.0.5/15', 'net')).toBeNull();
    expect(ipaddrFilter('198.18.3.7/22', 'network')).toBe('198.18.0.0');
    expect(ipaddrFilter('198.18.3.7/255.255.252.0', 'prefix')).toBe(22);
    expect(ipaddrFilter(['198.18.0.1', 'x', '2001:db8::1'], 'ipv4')).toEqual(['198.18.0.1']);
    expect(ipaddrFilter('198.18.0.9', '198.18.0.0/24')).toBe('198.18.0.9');
    expect(() => ipaddrFilter('198.18.0.1', 'bogus')).toThrow(/unknown filter type/);
    expect(networkInUsable('198.18.0.0/24', '198.18.0.1')).toBe(true);
    expect(networkInUsable('198.18.0.0/24', '198.18.0.255')).toBe(false);
  });
});

describe('lookups', () => {
  const d = mkdtempSync(join(tmpdir(), 'tlk-'));
  mkdirSync(join(d, 'role', 'files'), { recursive: true });
  writeFileSync(join(d, 'role', 'files', 'a.txt'), 'from role\n');
  writeFileSync(join(d, 'b.txt'), 'from play');
  const lookup = fsLookupContext([join(d, 'role'), d], { HOME: '/home/x' });
  it('file, first_found, env, random_string use the given search path', () => {
    expect(renderText("{{ lookup('file', 'a.txt') }}|{{ lookup('file', 'b.txt') }}", {}, { lookup })).toBe('from role|from play');
    expect(renderText("{{ lookup('first_found', ['nope', 'b.txt']) }}", {}, { lookup })).toBe(join(d, 'b.txt'));
    expect(renderText("{{ lookup('env', 'HOME') }}|{{ lookup('env', 'NOPE', default='d') }}", {}, { lookup })).toBe('/home/x|d');
    expect(renderString("{{ query('community.general.random_string', length=20, special=false) }}", {}, { lookup })).toEqual([expect.stringMatching(/^[A-Za-z0-9]{20}$/)]);
    const e = err(() => renderText("{{ lookup('file', 'missing.txt') }}", {}, { lookup }));
    expect(e.kind).toBe('lookup');
    expect(e.message).toContain('could not locate file in lookup: missing.txt');
    expect(err(() => renderText("{{ lookup('nope', 'x') }}", {}, { lookup })).message).toContain('lookup plugin (nope) not found');
  });
  it('renders template files with the header and trailing newlines; errors carry the file', () => {
    const f = join(d, 't.j2');
    writeFileSync(f, "#jinja2: lstrip_blocks: True\n  {% for i in l %}\n{{ i }}\\n\n  {% endfor %}\n\n");
    expect(renderTemplateFile(f, { l: [1, 2] })).toBe('1\\n\n2\\n\n\n');
    writeFileSync(f, 'ok\n{{ nope }}\n');
    const e = err(() => renderTemplateFile(f, {}));
    expect(e.file).toBe(f);
    expect(e.line).toBe(2);
  });
});

describe('scanner and names', () => {
  it('splits tags honouring strings and brackets', () => {
    const segs = scan("a{{ '}}' }}b{{ {'x': {'y': 1}} }}{% raw %}{{ z }}{% endraw %}");
    expect(segs.map((s) => s.kind)).toEqual(['text', 'var', 'text', 'var', 'raw']);
  });
  it('finds referenced names', () => {
    expect([...referencedNames("{{ a.b | default(c) | map('x', attribute='y') }}{% for i in items if i is defined %}{{ hostvars[h]['k'] }}{% endfor %}")].sort()).toEqual(
      ['a', 'c', 'h', 'hostvars', 'i', 'items'],
    );
    expect(templateNames('{{ "not_a_name" ~ x }}')).toEqual(new Set(['x']));
  });
  it('parses Python literals', () => {
    expect(literalEval("{'a': [1, 2.5, -3], 'b': (True, None), 'c': 'x' \"y\", 'd': 0x10}")).toEqual({ a: [1, 2.5, -3], b: [true, null], c: 'xy', d: 16 });
    expect(() => literalEval('foo()')).toThrow();
    expect(literalEval("'\\n\\x41'")).toBe('\nA');
  });
});

describe('whitespace control at the very start of a template', () => {
  it('keeps the first character when the template opens with {%- / {{- / {#- (as Jinja2 does)', () => {
    // Expected values from Python Jinja2 3.1 with trim_blocks=True.
    expect(renderText('{%- if true %}{{ x }}{% endif %}', { x: 'hello' })).toBe('hello');
    expect(renderText('  {%- if true %}{{ x }}{% endif %}', { x: 'hello' })).toBe('hello');
    expect(renderText('{{- x }}!', { x: 'hello' })).toBe('hello!');
    expect(renderText('\n{%- if true %}{{ x }}{% endif %}', { x: 'hello' })).toBe('hello');
    expect(renderText('{{ x }}', { x: 'hello' })).toBe('hello');
  });
});

describe('variable names that are Jinja keywords only inside include/import', () => {
  it('finds missing, context, ignore and without as the variables they are elsewhere', () => {
    expect([...templateNames('{{ missing.rc }} {{ context }} {% if without or ignore %}x{% endif %}')].sort()).toEqual(['context', 'ignore', 'missing', 'without']);
  });
});
