/**
 * In-memory {@link PodObjectSource} for tests: objects are set and removed directly; token requests are counted and
 * answered with `token-<n>` valid for the requested lifetime from the injected clock.
 */
import type { V1ConfigMap, V1Secret, V1Service } from '@kubernetes/client-node';
import type { Clock } from '../util/clock.js';
import { NodeletError } from '../util/errors.js';
import type { IssuedToken, PodObjectSource, TokenRequestSpec } from './objects.js';

/** A recorded token request. */
export interface TokenRequestRecord {
  namespace: string;
  serviceAccount: string;
  spec: TokenRequestSpec;
}

/** The fake object source. */
export class FakeObjectSource implements PodObjectSource {
  readonly configMaps = new Map<string, V1ConfigMap>();
  readonly secrets = new Map<string, V1Secret>();
  readonly services: V1Service[] = [];
  readonly tokenRequests: TokenRequestRecord[] = [];
  /** When set, token requests fail with this message. */
  failTokens: string | undefined;
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Adds or replaces a ConfigMap (`namespace/name` from its metadata). */
  setConfigMap(cm: V1ConfigMap): void {
    this.configMaps.set(`${cm.metadata?.namespace}/${cm.metadata?.name}`, cm);
  }

  /** Adds or replaces a Secret; `data` given as plain strings is base64-encoded. */
  setSecret(namespace: string, name: string, data: Record<string, string>): void {
    const enc = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    this.secrets.set(`${namespace}/${name}`, { metadata: { namespace, name }, data: enc });
  }

  async getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined> {
    return this.configMaps.get(`${namespace}/${name}`);
  }

  async getSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    return this.secrets.get(`${namespace}/${name}`);
  }

  async listServices(namespace: string): Promise<V1Service[]> {
    return this.services.filter((s) => s.metadata?.namespace === namespace);
  }

  async requestToken(namespace: string, serviceAccount: string, spec: TokenRequestSpec): Promise<IssuedToken> {
    if (this.failTokens !== undefined) throw new NodeletError('API_ERROR', this.failTokens);
    this.tokenRequests.push({ namespace, serviceAccount, spec });
    return { token: `token-${this.tokenRequests.length}`, expiresAt: this.#clock.now() + spec.expirationSeconds * 1000 };
  }
}
