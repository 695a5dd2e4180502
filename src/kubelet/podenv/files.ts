/** Kubelet-generated per-pod files mounted into containers: /etc/hosts, resolv.conf and termination message files. */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { DnsConfig, Mount } from '../../cri/types.js';
import { hostNetworkHostsContent, managedHostsContent, podHostnameAndDomain } from '../dns/hosts.js';
import { formatResolvConf } from '../dns/resolvconf.js';
import { DEFAULT_TERMINATION_MESSAGE_PATH } from '../security/labels.js';
import { containerDir, etcHostsPath, resolvConfPath } from '../volumes/paths.js';

/** Inputs for {@link hostsMount}. */
export interface HostsInputs {
  rootDir: string;
  clusterDomain: string;
  hostsFile: string;
  podIPs: readonly string[];
}

/**
 * Writes `<rootDir>/pods/<uid>/etc-hosts` and returns its mount at /etc/hosts, or undefined when upstream would not
 * mount one (pod IP not known yet on the pod network, or the container mounts /etc/hosts itself).
 */
export async function hostsMount(pod: V1Pod, c: V1Container, i: HostsInputs): Promise<Mount | undefined> {
  const hostNetwork = pod.spec?.hostNetwork === true;
  if (!hostNetwork && i.podIPs.length === 0) return undefined;
  if ((c.volumeMounts ?? []).some((m) => m.mountPath === '/etc/hosts')) return undefined;
  const uid = pod.metadata?.uid ?? '';
  const file = etcHostsPath(i.rootDir, uid);
  const aliases = pod.spec?.hostAliases;
  let content: string;
  if (hostNetwork) {
    content = hostNetworkHostsContent(await readFile(i.hostsFile, 'utf8'), aliases);
  } else {
    const { hostname, domain } = podHostnameAndDomain(pod, i.clusterDomain);
    content = managedHostsContent(i.podIPs, hostname, domain, aliases);
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o750 });
  await writeFile(file, content, { mode: 0o644 });
  await chmod(file, 0o644);
  return { containerPath: '/etc/hosts', hostPath: file, readonly: false };
}

/**
 * True when a pod's DNS must come from a kubelet-written resolv.conf mounted at /etc/resolv.conf: host-network pods
 * asking for cluster DNS (`ClusterFirstWithHostNet`) or their own (`None`). A runtime on the host network keeps the
 * node's resolv.conf and ignores the sandbox's dnsConfig (Docker does), so the kubelet provides the file.
 */
export function needsResolvConfMount(pod: V1Pod, c: V1Container): boolean {
  if (pod.spec?.hostNetwork !== true) return false;
  const policy = pod.spec?.dnsPolicy;
  if (policy !== 'ClusterFirstWithHostNet' && policy !== 'None') return false;
  return !(c.volumeMounts ?? []).some((m) => m.mountPath === '/etc/resolv.conf');
}

/** Writes `<rootDir>/pods/<uid>/resolv.conf` from the pod's DNS config and returns its mount at /etc/resolv.conf. */
export async function resolvConfMount(rootDir: string, pod: V1Pod, dns: DnsConfig): Promise<Mount> {
  const file = resolvConfPath(rootDir, pod.metadata?.uid ?? '');
  await mkdir(path.dirname(file), { recursive: true, mode: 0o750 });
  await writeFile(file, formatResolvConf(dns), { mode: 0o644 });
  await chmod(file, 0o644);
  return { containerPath: '/etc/resolv.conf', hostPath: file, readonly: false };
}

/** Creates a fresh, world-writable termination message file for this container instance and returns its mount. */
export async function terminationMessageMount(rootDir: string, pod: V1Pod, c: V1Container): Promise<Mount> {
  const dir = containerDir(rootDir, pod.metadata?.uid ?? '', c.name);
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const file = path.join(dir, randomBytes(4).toString('hex'));
  await writeFile(file, '', { mode: 0o666 });
  await chmod(file, 0o666);
  return { containerPath: c.terminationMessagePath || DEFAULT_TERMINATION_MESSAGE_PATH, hostPath: file, readonly: false };
}
