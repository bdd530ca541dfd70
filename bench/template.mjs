/* global console, performance */
// Template rendering speed (the hot path of every task): renders/s of a 30-line template served from the
// cache and of single expressions. A benchmark, not a test: it prints numbers and asserts nothing about time.
// Run: npm run build && node bench/template.mjs
import { renderString, renderText } from '../dist/template/templar.js';

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

function rate(fn, ms = 1500) {
  for (let i = 0; i < 50; i++) fn();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms && n < 1_000_000) {
    fn();
    n++;
  }
  return (n * 1000) / (performance.now() - t0);
}


const out = renderText(TEMPLATE, CTX);
if (!out.includes('server n3 192.0.2.3:6443 check inter 2s backup')) throw new Error('template rendered wrongly:\n' + out);
const text = rate(() => renderText(TEMPLATE, CTX));
const expr = rate(() => renderString('{{ groups[l] | map("extract", hostvars, "ip") | list }}', { ...CTX, l: 'kube' }));
const plain = rate(() => renderString('{{ maxconn * 2 }}', CTX));
console.log(`30-line template: ${text.toFixed(0)} renders/s`);
console.log(`single expression: ${plain.toFixed(0)} evals/s`);
console.log(`map(extract) expression: ${expr.toFixed(0)} evals/s`);
