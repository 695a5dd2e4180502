import type { V1Pod } from '@kubernetes/client-node';
import type { NamespaceOptions } from '../../cri/types.js';

/**
 * Linux namespaces of a pod (shared by its sandbox and containers): hostNetwork/hostPID/hostIPC use the node's;
 * the PID namespace is the pod's only with shareProcessNamespace, otherwise each container has its own.
 */
export function podNamespaceOptions(pod: V1Pod): NamespaceOptions {
  const s = pod.spec;
  return {
    network: s?.hostNetwork === true ? 'node' : 'pod',
    pid: s?.hostPID === true ? 'node' : s?.shareProcessNamespace === true ? 'pod' : 'container',
    ipc: s?.hostIPC === true ? 'node' : 'pod',
  };
}
