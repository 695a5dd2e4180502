/** The e2e harness: a cluster (test API server or $KUBECONFIG), kubectl, the nodelet daemon, waits, the service-CIDR sink. */
export { startCluster, externalKubeconfig, type Cluster, type StartClusterOptions } from './cluster.js';
export { identityKubeconfig, nodeIdentity, kubeProxyIdentity, clusterCaFile } from './identity.js';
export { runKubectl, kubectlOk, spawnKubectl, type KubectlOptions, type KubectlResult, type KubectlStream } from './kubectl.js';
export { runNodelet, REPO_ROOT, E2E_LOG_DIR, type NodeletProcess, type RunNodeletOptions } from './nodelet.js';
export { waitFor, waitForWatch, type WaitOptions, type WatchWaitOptions, type WatchEventLike } from './wait.js';
export { installServiceCidrSink, withServiceCidrSink, isRouted, SERVICE_CIDR } from './sink.js';
export { dumpOnFailure } from './failure.js';
export { testPodLogsDir, withPrivatePodLogsDir } from './pod-logs.js';
