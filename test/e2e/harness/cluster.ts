import { startTestApiServer, type Faults, type TestApiServer, type TestApiServerOptions } from '../../apiserver/index.js';
import { kubectlOk, runKubectl, type KubectlOptions, type KubectlResult } from './kubectl.js';

/** A cluster to run e2e scenarios against: the test API server, or a real one named by $KUBECONFIG. */
export interface Cluster {
  kubeconfigPath: string;
  /** True when $KUBECONFIG named an existing cluster (no fault injection, no direct store access). */
  external: boolean;
  /** The in-process server (undefined for an external cluster). */
  server: TestApiServer | undefined;
  /** Fault injection (undefined for an external cluster: tests needing it should skip). */
  faults: Faults | undefined;
  /** Runs kubectl against this cluster; never throws on a non-zero exit. */
  kubectl(args: string[], opts?: KubectlOptions): Promise<KubectlResult>;
  /** Runs kubectl and returns stdout; throws with stderr on failure. */
  kubectlOk(args: string[], opts?: KubectlOptions): Promise<string>;
  /** Stops the in-process server (no-op for an external cluster). */
  stop(): Promise<void>;
}

/** Options of {@link startCluster}. */
export interface StartClusterOptions extends TestApiServerOptions {
  /** Ignore $KUBECONFIG and always start the test API server (for tests that need fault injection). */
  forceLocal?: boolean;
}

/**
 * Starts the e2e cluster: when $KUBECONFIG is set (and `forceLocal` is not), uses that cluster as is; otherwise
 * starts the test API server on 127.0.0.1 with a kubeconfig in a temp dir. Call `stop()` in afterAll.
 */
export async function startCluster(opts: StartClusterOptions = {}): Promise<Cluster> {
  const external = process.env.KUBECONFIG;
  if (external && !opts.forceLocal) {
    return {
      kubeconfigPath: external,
      external: true,
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
    server,
    faults: server.faults,
    kubectl: (args, o) => runKubectl(server.kubeconfigPath, args, o),
    kubectlOk: (args, o) => kubectlOk(server.kubeconfigPath, args, o),
    stop: () => server.stop(),
  };
}
