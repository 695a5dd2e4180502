/**
 * Versions nodelet reports. The kubelet/kube-proxy version is the Kubernetes release whose behaviour nodelet follows,
 * with a `-nodelet` pre-release tag so it is never mistaken for an upstream build: `v1.33.0-nodelet`.
 */
import pkg from '../../package.json' with { type: 'json' };

/** nodelet's own version (package.json). */
export const NODELET_VERSION: string = pkg.version;

/** The version reported as nodeInfo.kubeletVersion and kubeProxyVersion. */
export const KUBELET_VERSION = 'v1.33.0-nodelet';

/** Text of `nodelet --version`. */
export function versionText(): string {
  return `nodelet ${NODELET_VERSION} (Kubernetes ${KUBELET_VERSION})`;
}
