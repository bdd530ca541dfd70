/**
 * Rendering is on the hot path of every task: measure renders/s of a 30-line template (compiled once, then
 * served from the cache) and of single-expression evaluation. Prints the numbers; fails only far below them.
 */
import { describe, expect, it } from 'vitest';
import { renderString, renderText } from '../../src/template/templar.js';

const TEMPLATE = `# managed by burrow
global
    log /dev/log local0
    maxconn {{ maxconn }}
    user {{ user | default('haproxy') }}
defaults
    mode http
    timeout connect {{ timeouts.connect }}s
    timeout client {{ timeouts.client }}s
    timeout server {{ timeouts.server }}s
{% for l in listens %}
listen {{ l.name }}
    bind {{ vip }}:{{ l.port }}
    mode {{ l.mode | default('tcp') }}
    balance {{ l.balance | default('roundrobin') }}
{% if l.check is defined and l.check %}
    option httpchk GET {{ l.check }}
{% endif %}
{% for h in groups[l.group] %}
    server {{ h }} {{ hostvars[h].ip }}:{{ l.port }} check inter 2s{{ ' backup' if not loop.first else '' }}
{% endfor %}
{% endfor %}
frontend stats
    bind {{ vip }}:{{ stats_port | int }}
    stats enable
    stats uri /stats
    stats refresh {{ (refresh * 2) | int }}s
    # {{ listens | map(attribute='name') | join(', ') }}
    # {{ enabled | ternary('on', 'off') }} {{ groups['kube'] | length }}
# end
`;

const CTX = {
  maxconn: 4096,
  timeouts: { connect: 5, client: 30, server: 30 },
  vip: '192.0.2.100',
  listens: [
    { name: 'k8s-api', port: 6443, group: 'kube', check: '/healthz' },
    { name: 'keystone', port: 5000, group: 'ctl', mode: 'http' },
  ],
  groups: { kube: ['n1', 'n2', 'n3'], ctl: ['n1', 'n2'] },
  hostvars: { n1: { ip: '192.0.2.1' }, n2: { ip: '192.0.2.2' }, n3: { ip: '192.0.2.3' } },
  stats_port: '9000',
  refresh: 5,
  enabled: true,
};

function rate(fn: () => void, ms = 1500): number {
  for (let i = 0; i < 50; i++) fn();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms && n < 1_000_000) {
    fn();
    n++;
  }
  return (n * 1000) / (performance.now() - t0);
}

describe('template performance', () => {
  it('renders a 30-line template and evaluates expressions fast enough for the task hot path', () => {
    expect(TEMPLATE.split('\n').length).toBeGreaterThanOrEqual(30);
    const out = renderText(TEMPLATE, CTX);
    expect(out).toContain('server n3 192.0.2.3:6443 check inter 2s backup');
    const text = rate(() => renderText(TEMPLATE, CTX));
    const expr = rate(() => renderString('{{ groups[l] | map("extract", hostvars, "ip") | list }}', { ...CTX, l: 'kube' }));
    const plain = rate(() => renderString('{{ maxconn * 2 }}', CTX));
    process.stdout.write(`template perf: 30-line template ${text.toFixed(0)} renders/s; single expression ${plain.toFixed(0)}/s; map(extract) expression ${expr.toFixed(0)}/s\n`);
    expect(text).toBeGreaterThan(100);
    expect(plain).toBeGreaterThan(300);
  }, 30_000);
});
