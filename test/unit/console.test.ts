import { describe, expect, it } from 'vitest';
import { ConsoleRenderer, banner, pyJson, recapLine } from '../../src/output/console.js';

// Captured from ansible-playbook 2.14 (ANSIBLE_NOCOLOR=1, not a TTY).
const ANSIBLE = [
  '',
  'PLAY [all] *********************************************************************',
  '',
  'TASK [say hi] ******************************************************************',
  'changed: [localhost]',
  '',
  'TASK [skip me] *****************************************************************',
  'skipping: [localhost]',
  '',
  'TASK [fail but ignore] *********************************************************',
  'fatal: [localhost]: FAILED! => {"changed": true, "cmd": ["false"], "msg": "non-zero return code", "rc": 1, "stderr": "", "stderr_lines": [], "stdout": "", "stdout_lines": []}',
  '...ignoring',
  '',
  'TASK [loop] ********************************************************************',
  'ok: [localhost] => (item=a) => {',
  '    "msg": "a"',
  '}',
  '',
  'PLAY RECAP *********************************************************************',
  'localhost                  : ok=3    changed=2    unreachable=0    failed=0    skipped=1    rescued=0    ignored=1   ',
  '',
].join('\n');

describe('Ansible-style console', () => {
  it('prints banners, results and the recap byte for byte like ansible-playbook', () => {
    const out: string[] = [];
    const r = new ConsoleRenderer((l) => out.push(l), { color: false, verbosity: 0 });
    const t = (name: string) => ({ name, action: 'command' });
    r.handle({ type: 'play.start', play: 'all', hosts: ['localhost'], taskCount: 4 });
    r.handle({ type: 'task.start', task: t('say hi'), hosts: ['localhost'] });
    r.handle({ type: 'host.result', task: t('say hi'), host: 'localhost', status: 'changed', result: { changed: true, rc: 0 }, durationMs: 1 });
    r.handle({ type: 'task.start', task: t('skip me'), hosts: ['localhost'] });
    r.handle({ type: 'host.result', task: t('skip me'), host: 'localhost', status: 'skipped', result: {}, durationMs: 0 });
    r.handle({ type: 'task.start', task: t('fail but ignore'), hosts: ['localhost'] });
    r.handle({
      type: 'host.result',
      task: t('fail but ignore'),
      host: 'localhost',
      status: 'failed',
      ignored: true,
      result: { changed: true, cmd: ['false'], msg: 'non-zero return code', rc: 1, stderr: '', stderr_lines: [], stdout: '', stdout_lines: [] },
      durationMs: 1,
    });
    r.handle({ type: 'task.start', task: t('loop'), hosts: ['localhost'] });
    r.handle({ type: 'host.result', task: t('loop'), host: 'localhost', status: 'ok', item: 'a', result: { msg: 'a', _verbose_always: true }, durationMs: 0 });
    r.handle({ type: 'play.recap', stats: { localhost: { ok: 3, changed: 2, unreachable: 0, failed: 0, skipped: 1, rescued: 0, ignored: 1 } } });
    expect(out.join('\n')).toBe(ANSIBLE);
  });

  it('formats JSON like Python json.dumps(sort_keys=True)', () => {
    expect(pyJson({ b: 1, a: ['x', { c: null }], u: 'é' })).toBe('{"a": ["x", {"c": null}], "b": 1, "u": "\\u00e9"}');
    expect(pyJson({ a: [1] }, 4)).toBe('{\n    "a": [\n        1\n    ]\n}');
    expect(banner('TASK [x]')).toBe('\nTASK [x] ' + '*'.repeat(71));
    expect(recapLine('h', { ok: 10, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 })).toMatch(/^h {25} : ok=10 {3}changed=0 /);
  });
});
