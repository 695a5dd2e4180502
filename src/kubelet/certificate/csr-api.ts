/**
 * The CertificateSigningRequest API (certificates.k8s.io/v1) as the kubelet uses it: create a request, then wait for
 * it to be approved and issued (or denied/failed). {@link ApiCsrApi} talks to the API server; tests use a fake that
 * implements the same small interface.
 */
import { isRetryable, type ApiTransport } from '../../api/client.js';
import { NodeletError, hasCode } from '../../util/errors.js';
import type { Clock } from '../../util/clock.js';
import { csrPublicKey, type CertificateSigningRequest } from './csr.js';

const PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

/** Access to CertificateSigningRequests. */
export interface CsrApi {
  /** Creates `csr`. Throws ALREADY_EXISTS when an object of that name exists. */
  create(csr: CertificateSigningRequest): Promise<CertificateSigningRequest>;
  /** Reads the CSR `name`. Throws NOT_FOUND. */
  get(name: string): Promise<CertificateSigningRequest>;
  /**
   * Resolves when the CSR `name` may have changed after `resourceVersion` (a watch event), or after `timeoutMs`
   * without one. Never throws for a dropped watch: callers re-read with {@link CsrApi.get}.
   */
  waitForChange(name: string, resourceVersion: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<void>;
}

/** The CSR API over an API client. */
export class ApiCsrApi implements CsrApi {
  readonly #api: ApiTransport;

  constructor(api: ApiTransport) {
    this.#api = api;
  }

  create(csr: CertificateSigningRequest): Promise<CertificateSigningRequest> {
    return this.#api.request<CertificateSigningRequest>({ method: 'POST', path: PATH, body: csr });
  }

  get(name: string): Promise<CertificateSigningRequest> {
    return this.#api.request<CertificateSigningRequest>({ path: `${PATH}/${encodeURIComponent(name)}` });
  }

  async waitForChange(name: string, resourceVersion: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      await this.#api.stream(
        {
          path: PATH,
          query: { watch: 'true', fieldSelector: `metadata.name=${name}`, resourceVersion, timeoutSeconds: Math.max(1, Math.ceil(timeoutMs / 1000)) },
          signal: ac.signal,
        },
        () => ac.abort(),
        timeoutMs + 5000,
      );
    } catch {
      // A failed watch only means "look again"; the caller re-reads the object.
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** What a CSR's status says. */
export type CsrOutcome = { state: 'pending' } | { state: 'issued'; certPem: string } | { state: 'denied' | 'failed'; reason: string; message: string };

/** Reads the outcome from a CSR's status (pure). Approved without a certificate yet is still pending. */
export function csrOutcome(csr: CertificateSigningRequest): CsrOutcome {
  for (const c of csr.status?.conditions ?? []) {
    if (c.type === 'Denied' && c.status !== 'False') return { state: 'denied', reason: c.reason ?? '', message: c.message ?? '' };
    if (c.type === 'Failed' && c.status !== 'False') return { state: 'failed', reason: c.reason ?? '', message: c.message ?? '' };
  }
  const approved = (csr.status?.conditions ?? []).some((c) => c.type === 'Approved' && c.status !== 'False');
  const cert = csr.status?.certificate;
  if (approved && cert !== undefined && cert !== '') return { state: 'issued', certPem: Buffer.from(cert, 'base64').toString('utf8') };
  return { state: 'pending' };
}

/**
 * Creates the CSR, retrying while the API server is unreachable or answers 5xx/429 (a node started before its
 * control plane), 1 s doubling to 30 s, until `deadline`.
 */
async function createRetrying(o: RequestCertificateOptions, deadline: number): Promise<CertificateSigningRequest> {
  for (let delay = 1000; ; delay = Math.min(30_000, delay * 2)) {
    try {
      return await o.api.create(o.csr);
    } catch (err) {
      if (!isRetryable(err) || hasCode(err, 'ALREADY_EXISTS') || o.clock.now() + delay > deadline || o.signal?.aborted === true) throw err;
      o.onRetry?.(err, delay);
      await o.clock.sleep(delay, o.signal);
    }
  }
}

/** Options of {@link requestCertificate}. */
export interface RequestCertificateOptions {
  api: CsrApi;
  csr: CertificateSigningRequest;
  clock: Clock;
  /** Give up after this long (upstream TLS bootstrap: 1 hour). */
  timeoutMs: number;
  /** Called once the CSR exists, with its name (for logs). */
  onCreated?: (name: string) => void;
  /** Called before a create is retried (API server unreachable or 5xx). */
  onRetry?: (err: unknown, delayMs: number) => void;
  signal?: AbortSignal;
}

/**
 * Creates the CSR (reusing an existing one of the same name, as TLS bootstrap does after a restart) and waits until a
 * certificate is issued; returns it as PEM. Throws NodeletError API_ERROR when the request is denied or failed (the
 * message carries the reason) and TIMEOUT after `timeoutMs`.
 */
export async function requestCertificate(o: RequestCertificateOptions): Promise<string> {
  const deadline = o.clock.now() + o.timeoutMs;
  let csr: CertificateSigningRequest;
  try {
    csr = await createRetrying(o, deadline);
  } catch (err) {
    const name = o.csr.metadata.name;
    if (!hasCode(err, 'ALREADY_EXISTS') || name === undefined) throw err;
    csr = await o.api.get(name);
    // ECDSA signatures differ per signing: compare what matters (upstream ensureCompatible): key, signer, usages.
    const key = (c: CertificateSigningRequest): string => csrPublicKey(Buffer.from(c.spec.request, 'base64').toString('utf8'))?.toString('base64') ?? '';
    if (key(csr) !== key(o.csr) || csr.spec.signerName !== o.csr.spec.signerName || csr.spec.usages.join() !== o.csr.spec.usages.join()) {
      throw new NodeletError('API_ERROR', `certificate signing request ${name} exists with another request`, { object: `csr ${name}`, cause: err });
    }
  }
  const name = csr.metadata.name ?? '';
  o.onCreated?.(name);
  for (;;) {
    const out = csrOutcome(csr);
    if (out.state === 'issued') return out.certPem;
    if (out.state !== 'pending') {
      throw new NodeletError('API_ERROR', `certificate signing request ${name} was ${out.state === 'denied' ? 'denied' : 'failed'}, reason: ${out.reason}, message: ${out.message}`, { object: `csr ${name}` });
    }
    const left = deadline - o.clock.now();
    if (left <= 0) throw new NodeletError('TIMEOUT', `timed out waiting for certificate signing request ${name} to be approved and issued`, { object: `csr ${name}` });
    await o.api.waitForChange(name, csr.metadata.resourceVersion, Math.min(left, 60_000), o.signal);
    if (o.signal?.aborted) throw new NodeletError('CANCELLED', `stopped waiting for certificate signing request ${name}`);
    csr = await o.api.get(name);
  }
}
