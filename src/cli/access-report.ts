/**
 * Reports RBAC / Node-authorizer denials of a role's identity: each 403 is logged once (error level, with the request
 * and the server's message, which names the user and the resource) and a named health check fails while it lasts.
 */
import { accessDenials, type KubeConfig } from '../api/index.js';
import type { HealthChecks } from '../kubelet/server/index.js';
import type { Logger } from '../util/logger.js';

/**
 * Watches the denials of `kc` (every ApiClient built from that kubeconfig object reports into them): logs each new one
 * once and adds the health check `checkName`. Returns the function that stops the logging.
 */
export function reportAccessDenials(kc: KubeConfig, kubeconfigPath: string | undefined, checkName: string, checks: HealthChecks, logger: Logger): () => void {
  const denials = accessDenials(kc);
  checks.add(checkName, denials.healthCheck());
  return denials.onDenied((d) => {
    logger.error(
      { request: d.request, kubeconfig: kubeconfigPath, reason: d.message },
      `the API server refused this role's identity (403 Forbidden): ${d.message}; grant the RBAC the README lists for this role (retrying, /healthz reports "${checkName}" failed until it is allowed)`,
    );
  });
}
