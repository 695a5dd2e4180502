/**
 * The Node object and its status as pure functions of host facts, readings and settings: labels, addresses,
 * capacity/allocatable (capacity − kubeReserved − systemReserved − hard eviction threshold, as upstream), nodeInfo.
 */
import type { V1Node, V1NodeAddress, V1NodeCondition, V1NodeStatus } from '@kubernetes/client-node';
import { thresholdValue } from '../../config/quantity.js';
import { formatKi, formatMilliCPU } from '../../util/quantity.js';
import type { KubeletSettings } from '../../config/types.js';
import type { HostIdentity, HostReadings } from './host.js';

/** Node-level settings the status needs (a slice of the typed config). */
export type NodeSettings = Pick<
  KubeletSettings,
  'maxPods' | 'kubeReserved' | 'systemReserved' | 'evictionHard' | 'nodeLabels' | 'registerWithTaints'
>;

/** Versions reported in nodeInfo. */
export interface NodeVersions {
  kubeletVersion: string;
  kubeProxyVersion: string;
  /** `docker://20.10.24`, '' while unknown. */
  containerRuntimeVersion: string;
}

/** Inputs of {@link buildNodeStatus}. */
export interface NodeStatusInputs {
  nodeName: string;
  /** The InternalIP (from --node-ip or the default-route interface); undefined = none known. */
  nodeIP: string | undefined;
  identity: HostIdentity;
  readings: HostReadings;
  settings: NodeSettings;
  versions: NodeVersions;
  conditions: V1NodeCondition[];
  /** Port reported in daemonEndpoints.kubeletEndpoint. */
  kubeletPort: number;
}

/** The labels the kubelet sets on its Node (upstream well-known labels + --node-labels). */
export function nodeLabels(nodeName: string, identity: HostIdentity, extra: Record<string, string>): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': identity.architecture,
    'beta.kubernetes.io/os': identity.operatingSystem,
    'kubernetes.io/arch': identity.architecture,
    'kubernetes.io/hostname': nodeName,
    'kubernetes.io/os': identity.operatingSystem,
    ...extra,
  };
}

/** Addresses: InternalIP (when known), then Hostname. */
export function nodeAddresses(nodeName: string, nodeIP: string | undefined): V1NodeAddress[] {
  const out: V1NodeAddress[] = [];
  if (nodeIP !== undefined) out.push({ type: 'InternalIP', address: nodeIP });
  out.push({ type: 'Hostname', address: nodeName });
  return out;
}

/** Capacity and allocatable resource lists. */
export function nodeResources(
  identity: HostIdentity,
  readings: HostReadings,
  settings: NodeSettings,
): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const { kubeReserved: kr, systemReserved: sr, evictionHard: eh } = settings;
  const memCap = readings.memory.totalBytes;
  const fsCap = readings.fs.capacityBytes;
  const memEvict = eh['memory.available'] === undefined ? 0 : thresholdValue(eh['memory.available'], memCap);
  const fsEvict = eh['nodefs.available'] === undefined ? 0 : thresholdValue(eh['nodefs.available'], fsCap);
  const capacity = {
    cpu: String(identity.cpuCount),
    'ephemeral-storage': formatKi(fsCap),
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: formatKi(memCap),
    pods: String(settings.maxPods),
  };
  const allocatable = {
    cpu: formatMilliCPU(identity.cpuCount * 1000 - kr.cpuMilli - sr.cpuMilli),
    'ephemeral-storage': formatKi(fsCap - kr.ephemeralStorageBytes - sr.ephemeralStorageBytes - fsEvict),
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: formatKi(memCap - kr.memoryBytes - sr.memoryBytes - memEvict),
    pods: String(settings.maxPods),
  };
  return { capacity, allocatable };
}

/** The complete status the kubelet reports. */
export function buildNodeStatus(input: NodeStatusInputs): V1NodeStatus {
  const { identity: id } = input;
  return {
    ...nodeResources(id, input.readings, input.settings),
    conditions: input.conditions,
    addresses: nodeAddresses(input.nodeName, input.nodeIP),
    daemonEndpoints: { kubeletEndpoint: { Port: input.kubeletPort } },
    nodeInfo: {
      machineID: id.machineID,
      systemUUID: id.systemUUID,
      bootID: id.bootID,
      kernelVersion: id.kernelVersion,
      osImage: id.osImage,
      containerRuntimeVersion: input.versions.containerRuntimeVersion,
      kubeletVersion: input.versions.kubeletVersion,
      kubeProxyVersion: input.versions.kubeProxyVersion,
      operatingSystem: id.operatingSystem,
      architecture: id.architecture,
    },
  };
}

/** The Node the kubelet creates at registration (status is patched right after). */
export function initialNode(input: NodeStatusInputs): V1Node {
  const taints = input.settings.registerWithTaints.map((t) => ({ ...t }));
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: input.nodeName,
      labels: nodeLabels(input.nodeName, input.identity, input.settings.nodeLabels),
      annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: taints.length > 0 ? { taints } : {},
    status: buildNodeStatus(input),
  };
}

/** A status with heartbeat times removed, to decide whether anything but the heartbeat changed. */
export function statusFingerprint(status: V1NodeStatus): string {
  const conditions = (status.conditions ?? []).map((c) => ({ ...c, lastHeartbeatTime: undefined }));
  return JSON.stringify({ ...status, conditions });
}
