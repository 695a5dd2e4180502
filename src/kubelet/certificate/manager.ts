/**
 * The certificate manager (client-go's `certificate.Manager`): keeps a certificate in a {@link CertificateStore}
 * current. When there is none, or its rotation deadline (70–84% of its lifetime, jittered) has passed, it makes a new
 * ECDSA P-256 key and CSR, waits for the certificate, stores it and tells its listeners. One manager per kind: the
 * client certificate (`kubernetes.io/kube-apiserver-client-kubelet`) and the serving certificate
 * (`kubernetes.io/kubelet-serving`, {@link ServingCertificateSource}).
 */
import type { Clock, TimerHandle } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import type { ServingCertificateSource } from '../server/api/types.js';
import { requestCertificate, type CsrApi } from './csr-api.js';
import { buildCsrPem, csrObject, generateKey, type CsrSubject } from './csr.js';
import { retryDelayMs, rotationDeadline, UPSTREAM_ROTATION, type RotationPolicy } from './schedule.js';
import type { CertificatePair, CertificateStore } from './store.js';

/** Least time between two successful rotations. */
export const MIN_ROTATION_INTERVAL_MS = 10_000;

/** Options of {@link CertificateManager}. */
export interface CertificateManagerOptions {
  /** `client` or `serving` (logs). */
  kind: string;
  store: CertificateStore;
  /**
   * The CSR API to use for the next request, given the current pair (undefined when there is none or it expired):
   * the client manager falls back to the bootstrap credentials then.
   */
  api: (current: CertificatePair | undefined) => CsrApi;
  /** The subject and SANs of the next request (serving certificates follow the node's addresses). */
  subject: () => CsrSubject;
  signerName: string;
  usages: readonly string[];
  clock: Clock;
  logger: Logger;
  /** In [0, 1); default Math.random. */
  random?: () => number;
  /** Default: upstream (70% + up to 20% jitter of it). */
  policy?: RotationPolicy;
  /** `spec.expirationSeconds` of each request (≥ 600); default unset (the signer's duration). */
  expirationSeconds?: number;
  /** How long one request waits for approval before it is retried (default 15 min). */
  requestTimeoutMs?: number;
}

/**
 * Keeps one certificate current. `step()` does one check (and rotation when due) and returns the delay until the
 * next; `start()` runs it on the clock. Listeners are called after every new certificate. Safe to call `current()`
 * at any time.
 */
export class CertificateManager implements ServingCertificateSource {
  readonly #o: CertificateManagerOptions;
  readonly #listeners = new Set<() => void>();
  readonly #random: () => number;
  #deadline: { notAfter: number; at: number } | undefined;
  #failures = 0;
  #timer: TimerHandle | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  #abort = new AbortController();

  constructor(o: CertificateManagerOptions) {
    this.#o = o;
    this.#random = o.random ?? Math.random;
  }

  current(): { certPem: string; keyPem: string } | undefined {
    const p = this.#o.store.current();
    return p === undefined || p.notAfter <= this.#o.clock.now() ? undefined : { certPem: p.certPem, keyPem: p.keyPem };
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The rotation deadline of the current certificate (ms since the epoch), undefined when there is none. */
  deadline(): number | undefined {
    const p = this.#o.store.current();
    if (p === undefined) return undefined;
    // One jitter draw per certificate, so repeated checks do not move the deadline.
    if (this.#deadline?.notAfter !== p.notAfter) {
      this.#deadline = { notAfter: p.notAfter, at: rotationDeadline(p.notBefore, p.notAfter, this.#random, this.#o.policy ?? UPSTREAM_ROTATION) };
    }
    return this.#deadline.at;
  }

  /** Requests a new certificate now (one attempt). Throws what the request threw. */
  async rotate(): Promise<CertificatePair> {
    const o = this.#o;
    const cur = o.store.current();
    const key = generateKey();
    const subject = o.subject();
    const csr = csrObject({ csrPem: buildCsrPem(key.key, subject), signerName: o.signerName, usages: o.usages, expirationSeconds: o.expirationSeconds });
    const certPem = await requestCertificate({
      api: o.api(cur !== undefined && cur.notAfter > o.clock.now() ? cur : undefined),
      csr,
      clock: o.clock,
      timeoutMs: o.requestTimeoutMs ?? 15 * 60_000,
      signal: this.#abort.signal,
      onCreated: (name) => o.logger.info({ csr: name, signer: o.signerName }, 'certificate signing request created, waiting for approval'),
    });
    const pair = o.store.update(certPem, key.pem);
    o.logger.info({ kind: o.kind, notBefore: new Date(pair.notBefore).toISOString(), notAfter: new Date(pair.notAfter).toISOString() }, 'certificate rotated');
    for (const l of [...this.#listeners]) l();
    return pair;
  }

  /** One check: rotates when there is no certificate or its deadline passed. Returns the delay until the next check. */
  async step(): Promise<number> {
    const deadline = this.deadline();
    const now = this.#o.clock.now();
    if (deadline !== undefined && now < deadline) return deadline - now;
    try {
      await this.rotate();
      this.#failures = 0;
      // A certificate whose deadline has already passed (a signer issuing very short lifetimes) must not make the
      // loop request certificates back to back.
      return Math.max(MIN_ROTATION_INTERVAL_MS, (this.deadline() ?? now) - this.#o.clock.now());
    } catch (err) {
      this.#failures++;
      const delay = retryDelayMs(this.#failures);
      this.#o.logger.error({ kind: this.#o.kind, err: errorMessage(err), retryInMs: delay }, 'certificate rotation failed');
      return delay;
    }
  }

  /** Starts the rotation loop (first check at once). Idempotent. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#abort = new AbortController();
    const d = this.deadline();
    if (d !== undefined) this.#o.logger.info({ kind: this.#o.kind, rotationDeadline: new Date(d).toISOString() }, 'certificate rotation scheduled');
    this.#schedule(0);
  }

  /** Stops the loop and abandons a request in flight. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #schedule(ms: number): void {
    // Timers are capped so a long deadline is re-checked daily (clock jumps, replaced files).
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.step().then((next) => {
        this.#running = undefined;
        if (!this.#stopped) this.#schedule(next);
      });
    }, Math.min(ms, 86_400_000));
  }
}
