/**
 * The install steps in run order, when each applies, and the gate: a step starts only when every earlier
 * step that applies to this site has succeeded for the same configuration (fingerprint) on all its hosts.
 * The reference installer leaves this check to the operator at 2 a.m.; the runner enforces it.
 */
import type { Journal, StepRecord } from '../state/journal.js';

export interface SiteFacts {
  storageBackends: string[];
  offline: boolean;
  /** non-empty inventory groups, for the PowerFlex variant */
  groups: Set<string>;
}

export interface StepDef {
  name: string;
  summary: string;
  /** playbook under playbooks/ */
  playbook: string;
  /** undefined when the step applies, else why it does not */
  skipReason(site: SiteFacts): string | undefined;
}

const has = (sb: string[], b: string): boolean => sb.includes(b);

export const STEPS: readonly StepDef[] = [
  { name: 'preflight', summary: 'check every host (hardware, addresses, interfaces, clocks, disks), local repo, chrony, SSH keys', playbook: 'preflight.yml', skipReason: () => undefined },
  { name: 'ha', summary: 'haproxy + keepalived on the control nodes: the VIP and the API server load balancer', playbook: 'ha.yml', skipReason: () => undefined },
  {
    name: 'ceph',
    summary: 'Ceph cluster with cephadm (mons, mgrs, osds, rgws) and client config',
    playbook: 'ceph.yml',
    skipReason: (s) => (has(s.storageBackends, 'ceph') ? undefined : 'ceph is not in storage_backends'),
  },
  {
    name: 'powerflex_pfmp',
    summary: 'PowerFlex Management Platform VMs / nodes (PowerFlex HCI)',
    playbook: 'powerflex_pfmp.yml',
    skipReason: (s) =>
      !has(s.storageBackends, 'powerflex')
        ? 'powerflex is not in storage_backends'
        : s.groups.has('pfmp') || s.groups.has('pfmp_node') || s.groups.has('pfmp_installer') || s.groups.has('pfmp_mvm')
          ? undefined
          : 'no pfmp / pfmp_node hosts in the inventory',
  },
  { name: 'k8s', summary: 'Kubernetes (kubespray-equivalent): etcd, control plane, nodes, calico, cert-manager CA issuer', playbook: 'k8s.yml', skipReason: () => undefined },
  { name: 'storage', summary: 'CSI drivers and storage classes for every backend in storage_backends', playbook: 'storage.yml', skipReason: () => undefined },
  {
    name: 'powerflex_csi',
    summary: 'PowerFlex CSI driver (after the PFMP import of the PowerFlex system)',
    playbook: 'powerflex_csi.yml',
    skipReason: (s) => (has(s.storageBackends, 'powerflex') ? undefined : 'powerflex is not in storage_backends'),
  },
  { name: 'patch', summary: 'cluster patches: kube-system pods and the registry ready', playbook: 'patch.yml', skipReason: () => undefined },
  {
    name: 'registry',
    summary: 'fill the in-cluster registry with every image from the ISO (offline only)',
    playbook: 'registry.yml',
    skipReason: (s) => (s.offline ? undefined : 'online install (offline is false)'),
  },
  {
    name: 'landing',
    summary: 'genesis registry + local repo move into the cluster behind haproxy (offline only)',
    playbook: 'landing.yml',
    skipReason: (s) => (s.offline ? undefined : 'online install (offline is false)'),
  },
  { name: 'burrito', summary: 'OpenStack on Kubernetes (helm charts) and the final health check', playbook: 'burrito.yml', skipReason: () => undefined },
];

export function findStep(name: string): StepDef | undefined {
  return STEPS.find((s) => s.name === name);
}

export interface GateProblem {
  step: string;
  status: StepRecord['status'];
  why: string;
}

/** Which earlier applicable steps block `step`. Empty when it may start. */
export function gateProblems(step: string, site: SiteFacts, journal: Journal, fingerprint: string): GateProblem[] {
  const idx = STEPS.findIndex((s) => s.name === step);
  const out: GateProblem[] = [];
  for (const s of STEPS.slice(0, idx)) {
    if (s.skipReason(site)) continue;
    const rec = journal.step(s.name);
    if (rec.status === 'never-run') out.push({ step: s.name, status: rec.status, why: 'has not run' });
    else if (rec.status !== 'succeeded') {
      const pend = Object.keys(rec.pending ?? {});
      out.push({ step: s.name, status: rec.status, why: `is ${rec.status}${pend.length ? ` (hosts: ${pend.slice(0, 5).join(', ')}${pend.length > 5 ? ', …' : ''})` : ''}` });
    } else if (rec.fingerprint !== fingerprint) out.push({ step: s.name, status: rec.status, why: 'succeeded, but the inventory or variables changed since' });
  }
  return out;
}
