import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, errorMessage } from '../util/index.js';

/**
 * Loads a kubeconfig: from `path` when given, else from $KUBECONFIG (first file of a colon list), else the
 * in-cluster service account when running in a pod, else ~/.kube/config. Throws ConfigError naming the file when it
 * cannot be read or has no current cluster.
 */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  const file = path ?? process.env.KUBECONFIG?.split(':').find((p) => p !== '');
  try {
    if (file !== undefined) kc.loadFromFile(file);
    else kc.loadFromDefault();
  } catch (err) {
    throw new ConfigError(`cannot load kubeconfig: ${errorMessage(err)}`, { cause: err, object: `file ${file ?? '~/.kube/config'}` });
  }
  if (kc.getCurrentCluster() === null) {
    throw new ConfigError('kubeconfig has no current cluster (check current-context)', { object: `file ${file ?? '~/.kube/config'}`, field: 'current-context' });
  }
  return kc;
}
