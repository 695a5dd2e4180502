/**
 * Reports RBAC / Node-authorizer denials of a role's identity: each 403 is logged once (error level, with the request
 * and the server's message, which names the user and the resource) and a named health check fails while it lasts.
 */
import { X509Certificate } from 'node:crypto';
import type { RequestOptions } from 'node:https';
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
    void describeIdentity(kc).then((identity) => logger.error(
      { request: d.request, identity, kubeconfig: kubeconfigPath, reason: d.message },
      `the API server refused this role's identity (403 Forbidden): ${d.message}; grant the RBAC the README lists for this role (retrying, /healthz reports "${checkName}" failed until it is allowed)`,
    ));
  });
}

/**
 * Who `kc` authenticates as, for the log: the client certificate's subject (`CN=system:node:n1, O=system:nodes` →
 * `system:node:n1 (groups system:nodes)`), else `bearer token` / `basic auth` / `anonymous`.
 */
export async function describeIdentity(kc: KubeConfig): Promise<string> {
  try {
    const opts: RequestOptions = { headers: {} };
    await kc.applyToHTTPSOptions(opts);
    const cert = Array.isArray(opts.cert) ? opts.cert[0] : opts.cert;
    if (cert !== undefined) {
      const subject = new X509Certificate(typeof cert === 'string' ? cert : Buffer.from(cert)).subject.split('\n');
      const cn = subject.find((l) => l.startsWith('CN='))?.slice(3) ?? '?';
      const groups = subject.filter((l) => l.startsWith('O=')).map((l) => l.slice(2));
      return groups.length === 0 ? cn : `${cn} (groups ${groups.join(', ')})`;
    }
    const auth = String((opts.headers as Record<string, unknown> | undefined)?.authorization ?? (opts.headers as Record<string, unknown> | undefined)?.Authorization ?? '');
    if (auth.startsWith('Bearer ')) return 'bearer token';
    if (auth.startsWith('Basic ')) return 'basic auth';
    return 'anonymous';
  } catch {
    return 'unknown';
  }
}
