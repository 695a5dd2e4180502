/** The CRI sandbox config of a pod (upstream kuberuntime generatePodSandboxConfig). */
import type { V1Pod } from '@kubernetes/client-node';
import type { PodSandboxConfig, PortMapping } from '../../cri/types.js';
import type { DnsConfig } from '../../cri/types.js';
import { sandboxHostname } from '../dns/hosts.js';
import { sandboxLabels } from '../security/labels.js';
import { podNamespaceOptions } from '../security/namespaces.js';
import { podSysctls } from '../security/sysctls.js';

/** Host port mappings of every app container port with a hostPort (protocol defaults to TCP). Pure. */
export function podPortMappings(pod: V1Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.hostPort === undefined || p.hostPort <= 0) continue;
      const m: PortMapping = {
        protocol: (p.protocol ?? 'TCP') as PortMapping['protocol'],
        containerPort: p.containerPort,
        hostPort: p.hostPort,
      };
      if (p.hostIP) m.hostIp = p.hostIP;
      out.push(m);
    }
  }
  return out;
}

/** Inputs of {@link buildSandboxConfig} besides the pod. */
export interface SandboxInputs {
  attempt: number;
  clusterDomain: string;
  podInfraImage: string;
  podLogsDir: string;
  dnsConfig: DnsConfig;
  allowedUnsafeSysctls: readonly string[];
}

/** The sandbox config. Pure; throws InvalidError (naming the field) for a bad hostname or forbidden sysctl. */
export function buildSandboxConfig(pod: V1Pod, s: SandboxInputs): PodSandboxConfig {
  const md = pod.metadata;
  const name = md?.name ?? '';
  const namespace = md?.namespace ?? '';
  const uid = md?.uid ?? '';
  const privileged = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].some(
    (c) => c.securityContext?.privileged === true,
  );
  return {
    metadata: { name, namespace, uid, attempt: s.attempt },
    hostname: sandboxHostname(pod, s.clusterDomain),
    logDirectory: `${s.podLogsDir}/${namespace}_${name}_${uid}`,
    dnsConfig: s.dnsConfig,
    portMappings: podPortMappings(pod),
    labels: sandboxLabels(pod),
    annotations: { ...(md?.annotations ?? {}) },
    linux: {
      namespaceOptions: podNamespaceOptions(pod),
      sysctls: podSysctls(pod, s.allowedUnsafeSysctls),
      privileged,
    },
    image: s.podInfraImage,
  };
}
