/**
 * Pod hostname/domain and the kubelet-managed /etc/hosts content (upstream GeneratePodHostNameAndDomain,
 * managedHostsFileContent, nodeHostsFileContent).
 */
import type { V1HostAlias, V1Pod } from '@kubernetes/client-node';
import { InvalidError } from '../../util/errors.js';

const HOSTNAME_MAX = 63;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Header of a managed hosts file. */
export const MANAGED_HOSTS_HEADER = '# Kubernetes-managed hosts file.\n';
/** Header of a managed hosts file of a hostNetwork pod (a copy of the node's). */
export const MANAGED_HOSTS_HEADER_HOST_NETWORK = '# Kubernetes-managed hosts file (host network).\n';

/** Cuts a hostname to 63 characters without a trailing '-' or '.'. */
export function truncateHostname(podName: string, hostname: string): string {
  if (hostname.length <= HOSTNAME_MAX) return hostname;
  const t = hostname.slice(0, HOSTNAME_MAX).replace(/[-.]+$/, '');
  if (t === '') throw new InvalidError(`hostname for pod "${podName}" was invalid: "${hostname}"`, { field: 'spec.hostname' });
  return t;
}

/**
 * The pod's short hostname and its domain (`<subdomain>.<ns>.svc.<clusterDomain>`, or '' without subdomain).
 * Throws InvalidError naming the field for an invalid hostname/subdomain.
 */
export function podHostnameAndDomain(pod: V1Pod, clusterDomain: string): { hostname: string; domain: string } {
  const name = pod.metadata?.name ?? '';
  let hostname = name;
  const h = pod.spec?.hostname;
  if (h !== undefined && h !== '') {
    if (h.length > HOSTNAME_MAX || !DNS1123_LABEL.test(h)) {
      throw new InvalidError(`pod Hostname "${h}" is not a valid DNS label`, { field: 'spec.hostname' });
    }
    hostname = h;
  }
  hostname = truncateHostname(name, hostname);
  let domain = '';
  const sub = pod.spec?.subdomain;
  if (sub !== undefined && sub !== '') {
    if (sub.length > HOSTNAME_MAX || !DNS1123_LABEL.test(sub)) {
      throw new InvalidError(`pod Subdomain "${sub}" is not a valid DNS label`, { field: 'spec.subdomain' });
    }
    domain = `${sub}.${pod.metadata?.namespace ?? ''}.svc.${clusterDomain}`;
  }
  return { hostname, domain };
}

/**
 * The hostname the sandbox gets: the short name, or the FQDN with setHostnameAsFQDN (upstream refuses FQDNs
 * longer than 64 characters).
 */
export function sandboxHostname(pod: V1Pod, clusterDomain: string): string {
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
  if (pod.spec?.setHostnameAsFQDN === true && domain !== '') {
    const fqdn = `${hostname}.${domain}`;
    if (fqdn.length > 64) {
      throw new InvalidError(`failed to construct FQDN from pod hostname and cluster domain, FQDN ${fqdn} is too long (64 characters is the max, ${fqdn.length} characters requested)`, { field: 'spec.setHostnameAsFQDN' });
    }
    return fqdn;
  }
  return hostname;
}

function aliasLines(aliases: readonly V1HostAlias[] | undefined): string {
  if (aliases === undefined || aliases.length === 0) return '';
  let s = '\n# Entries added by HostAliases.\n';
  for (const a of aliases) s += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  return s;
}

/** /etc/hosts of a pod on the pod network. Pure. */
export function managedHostsContent(
  podIPs: readonly string[],
  hostname: string,
  domain: string,
  aliases?: readonly V1HostAlias[],
): string {
  let s = MANAGED_HOSTS_HEADER;
  s += '127.0.0.1\tlocalhost\n';
  s += '::1\tlocalhost ip6-localhost ip6-loopback\n';
  s += 'fe00::0\tip6-localnet\n';
  s += 'fe00::0\tip6-mcastprefix\n';
  s += 'fe00::1\tip6-allnodes\n';
  s += 'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs) s += domain !== '' ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  return s + aliasLines(aliases);
}

/** /etc/hosts of a hostNetwork pod: the node's file plus hostAliases. Pure. */
export function hostNetworkHostsContent(nodeHosts: string, aliases?: readonly V1HostAlias[]): string {
  return MANAGED_HOSTS_HEADER_HOST_NETWORK + nodeHosts + aliasLines(aliases);
}
