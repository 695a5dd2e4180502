import { startTestApiServer, type Faults, type TestApiServer, type TestApiServerOptions } from '../../apiserver/index.js';
import { clusterCaFile, identityKubeconfig, kubeProxyIdentity, nodeIdentity } from './identity.js';
import { kubectlOk, runKubectl, type KubectlOptions, type KubectlResult } from './kubectl.js';

/** A cluster to run e2e scenarios against: the test API server, or a real one named by $NODELET_E2E_KUBECONFIG / $KUBECONFIG. */
export interface Cluster {
  /** The admin kubeconfig: for kubectl and the test's own API calls. Never give it to nodelet on a real cluster. */
  kubeconfigPath: string;
  /** True when $NODELET_E2E_KUBECONFIG or $KUBECONFIG named an existing cluster (no fault injection, no direct store access). */
  external: boolean;
  /**
   * The kubeconfig nodelet runs with as node `name` (`--kubeconfig`): on a real cluster the node's own identity
   * `system:node:<name>` (group `system:nodes`; the Node authorizer and NodeRestriction apply), as a kubelet has it —
   * `node-<name>.kubeconfig` beside the admin kubeconfig (up.sh writes them for K8S_NODES) or minted through a CSR.
   * On the test API server the same identity: a client certificate signed by its CA, authorized by its Node
   * authorizer and NodeRestriction.
   */
  nodeKubeconfig(name: string): Promise<string>;
  /** The proxy role's own identity (`system:kube-proxy`, bound to `system:node-proxier`), on a real cluster and on the test API server. */
  proxyKubeconfig(): Promise<string>;
  /** The in-process server (undefined for an external cluster). */
  server: TestApiServer | undefined;
  /** Fault injection (undefined for an external cluster: tests needing it should skip). */
  faults: Faults | undefined;
  /** Runs kubectl against this cluster; never throws on a non-zero exit. */
  kubectl(args: string[], opts?: KubectlOptions): Promise<KubectlResult>;
  /** Runs kubectl and returns stdout; throws with stderr on failure. */
  kubectlOk(args: string[], opts?: KubectlOptions): Promise<string>;
  /**
   * The CA for nodelet's `--client-ca-file` (the kubelet API): the one that signs the API server's kubelet-client
   * certificate — the cluster CA on a real (kubeadm-like) cluster, the test API server's kubelet-client CA otherwise.
   */
  kubeletClientCaFile(): Promise<string>;
  /**
   * Creates namespace `name`, first removing one left by an earlier run (a real cluster outlives test runs: pods
   * of a node whose nodelet is gone stay Terminating, so they are force-deleted and the namespace awaited), and waits
   * for its default ServiceAccount (without it the API server refuses pods).
   */
  freshNamespace(name: string, timeoutMs?: number): Promise<void>;
  /** Stops the in-process server (no-op for an external cluster). */
  stop(): Promise<void>;
}

/** Options of {@link startCluster}. */
export interface StartClusterOptions extends TestApiServerOptions {
  /** Ignore $KUBECONFIG and always start the test API server (for tests that need fault injection). */
  forceLocal?: boolean;
}

/** The real cluster the e2e suite runs against: $NODELET_E2E_KUBECONFIG, else $KUBECONFIG (an admin kubeconfig); undefined for the test API server. */
export function externalKubeconfig(): string | undefined {
  return process.env.NODELET_E2E_KUBECONFIG || process.env.KUBECONFIG || undefined;
}

/**
 * Starts the e2e cluster: when $NODELET_E2E_KUBECONFIG or $KUBECONFIG is set (and `forceLocal` is not), uses that
 * cluster as is (its kubeconfig must be an admin's: nodes' and kube-proxy's identities are derived from it);
 * otherwise starts the test API server on 127.0.0.1 with a kubeconfig in a temp dir. Call `stop()` in afterAll.
 */
async function freshNamespace(kubeconfig: string, name: string, timeoutMs = 90_000): Promise<void> {
  const exists = async (): Promise<boolean> => (await runKubectl(kubeconfig, ['get', 'namespace', name, '-o', 'name'])).code === 0;
  if (await exists()) {
    await runKubectl(kubeconfig, ['-n', name, 'delete', 'pods', '--all', '--grace-period=0', '--force', '--wait=false']);
    await runKubectl(kubeconfig, ['delete', 'namespace', name, '--wait=false']);
    const deadline = Date.now() + timeoutMs;
    while (await exists()) {
      if (Date.now() > deadline) throw new Error(`namespace ${name} left by an earlier run is still there after ${timeoutMs} ms`);
      await runKubectl(kubeconfig, ['-n', name, 'delete', 'pods', '--all', '--grace-period=0', '--force', '--wait=false']);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  await kubectlOk(kubeconfig, ['create', 'namespace', name]);
  // Pods are refused until the controller-manager created the namespace's default ServiceAccount (a moment on a real cluster).
  const deadline = Date.now() + 30_000;
  while ((await runKubectl(kubeconfig, ['-n', name, 'get', 'serviceaccount', 'default', '-o', 'name'])).code !== 0) {
    if (Date.now() > deadline) throw new Error(`namespace ${name}: no default ServiceAccount after 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startCluster(opts: StartClusterOptions = {}): Promise<Cluster> {
  const external = externalKubeconfig();
  if (external && !opts.forceLocal) {
    return {
      kubeconfigPath: external,
      external: true,
      nodeKubeconfig: (name) => identityKubeconfig(external, nodeIdentity(name)),
      proxyKubeconfig: () => identityKubeconfig(external, kubeProxyIdentity()),
      freshNamespace: (name, t) => freshNamespace(external, name, t),
      kubeletClientCaFile: () => clusterCaFile(external),
      server: undefined,
      faults: undefined,
      kubectl: (args, o) => runKubectl(external, args, o),
      kubectlOk: (args, o) => kubectlOk(external, args, o),
      stop: async () => undefined,
    };
  }
  const server = await startTestApiServer(opts);
  return {
    kubeconfigPath: server.kubeconfigPath,
    external: false,
    nodeKubeconfig: (name) => Promise.resolve(server.userKubeconfig(`system:node:${name}`, ['system:nodes'])),
    proxyKubeconfig: () => Promise.resolve(server.userKubeconfig('system:kube-proxy')),
    freshNamespace: (name, t) => freshNamespace(server.kubeconfigPath, name, t),
    kubeletClientCaFile: () => Promise.resolve(server.kubeletClientCaPath),
    server,
    faults: server.faults,
    kubectl: (args, o) => runKubectl(server.kubeconfigPath, args, o),
    kubectlOk: (args, o) => kubectlOk(server.kubeconfigPath, args, o),
    stop: () => server.stop(),
  };
}
