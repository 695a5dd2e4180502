/**
 * At start, reads the API server's version (`GET /version`, retried in the background until it answers): logs it,
 * warns clearly when it is outside the version skew upstream supports for nodelet's Kubernetes version, and records
 * it in the kubeconfig's server profile so fields the server does not know are never sent. Fields learned later
 * from the server's errors are logged once each.
 */
import { ApiClient, parseServerVersion, serverProfile, skewProblem, type KubeConfig } from '../api/index.js';
import type { Clock } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

/** Starts the check for `kc`; returns the function that stops it (and its listener). */
export function checkServerVersion(kc: KubeConfig, agentVersion: string, clock: Clock, logger: Logger): () => void {
  const profile = serverProfile(kc);
  const off = profile.onLearned((field, stripped) => {
    logger.warn({ field, stripped }, `the API server does not know the field ${field}: it is no longer sent to it`);
  });
  const ac = new AbortController();
  void (async () => {
    const client = new ApiClient(kc);
    let delay = 1000;
    while (!ac.signal.aborted) {
      try {
        const body = await client.request({ path: '/version', signal: ac.signal, timeoutMs: 10_000 });
        const v = parseServerVersion(body);
        const gitVersion = typeof body === 'object' && body !== null ? String((body as { gitVersion?: unknown }).gitVersion ?? '') : '';
        profile.setVersion(v);
        const problem = skewProblem(v, agentVersion, gitVersion);
        if (problem === undefined) logger.info({ serverVersion: v?.gitVersion, agentVersion }, 'API server version is inside the supported version skew');
        else logger.warn({ serverVersion: gitVersion, agentVersion, notSent: [...profile.unknownFields] }, `API server version outside the supported skew: ${problem}`);
        break;
      } catch (err) {
        if (ac.signal.aborted) break;
        logger.debug({ err: errorMessage(err), delayMs: delay }, 'cannot read the API server version yet; retrying');
        try {
          await clock.sleep(delay, ac.signal);
        } catch {
          break;
        }
        delay = Math.min(delay * 2, 30_000);
      }
    }
    client.close();
  })();
  return () => {
    ac.abort();
    off();
  };
}
