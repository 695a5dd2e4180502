/**
 * A minimal PodEnvironment used until/unless the real one (src/kubelet/podenv) is given: command/args, literal env
 * values, host ports, host networking and CPU/memory cgroup settings; no volumes, no DNS config, no security settings.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { ContainerConfig, PodSandboxConfig, PortMapping } from '../../cri/types.js';
import type { ContainerContext, PodEnvironment } from '../podenv/types.js';
import { desiredCpuMemory } from '../allocation/resize.js';

function ports(pod: V1Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (p.hostPort === undefined || p.hostPort === 0) continue;
      out.push({
        protocol: (p.protocol ?? 'TCP') as PortMapping['protocol'],
        containerPort: p.containerPort,
        hostPort: p.hostPort,
        hostIp: p.hostIP,
      });
    }
  }
  return out;
}

/** The minimal environment (see module comment). */
export function minimalPodEnvironment(podInfraImage: string): PodEnvironment {
  return {
    async prepareVolumes(): Promise<void> {},
    async sandboxConfig(pod: V1Pod, attempt: number): Promise<PodSandboxConfig> {
      const hostNet = pod.spec?.hostNetwork === true;
      return {
        metadata: {
          name: pod.metadata?.name ?? '',
          namespace: pod.metadata?.namespace ?? 'default',
          uid: pod.metadata?.uid ?? '',
          attempt,
        },
        hostname: pod.spec?.hostname ?? pod.metadata?.name ?? '',
        portMappings: ports(pod),
        labels: {},
        annotations: {},
        linux: { namespaceOptions: { network: hostNet ? 'node' : 'pod', pid: 'container', ipc: 'pod' } },
        image: podInfraImage,
      };
    },
    async containerConfig(pod: V1Pod, c: V1Container, ctx: ContainerContext): Promise<ContainerConfig> {
      const hostNet = pod.spec?.hostNetwork === true;
      return {
        metadata: { name: c.name, attempt: ctx.attempt },
        image: c.image ?? '',
        command: c.command ?? [],
        args: c.args ?? [],
        workingDir: c.workingDir,
        envs: (c.env ?? []).filter((e) => e.value !== undefined).map((e) => ({ key: e.name, value: e.value ?? '' })),
        mounts: [],
        labels: {},
        annotations: {},
        logPath: `${c.name}/${ctx.attempt}.log`,
        linux: {
          resources: desiredCpuMemory(c, true),
          securityContext: { namespaceOptions: { network: hostNet ? 'node' : 'pod', pid: 'container', ipc: 'pod' } },
        },
      };
    },
    async cleanupPod(): Promise<void> {},
  };
}
