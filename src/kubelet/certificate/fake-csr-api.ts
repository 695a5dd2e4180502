/**
 * An in-memory {@link CsrApi} for tests: stores requests, approves or denies them when told (or automatically), and
 * issues certificates through an injected signing function. `waitForChange` resolves on the next change.
 */
import { AlreadyExistsError, NotFoundError } from '../../util/errors.js';
import type { CsrApi } from './csr-api.js';
import type { CertificateSigningRequest } from './csr.js';

/** Signs a request: PEM CSR and requested lifetime in, PEM certificate out. */
export type SignFn = (csrPem: string, expirationSeconds: number | undefined) => string;

/** The fake. */
export class FakeCsrApi implements CsrApi {
  readonly #sign: SignFn;
  readonly #objects = new Map<string, CertificateSigningRequest>();
  #waiters: (() => void)[] = [];
  #next = 1;
  #rv = 1;
  /** Approve (and sign) every request as soon as it is created. */
  autoApprove: boolean;
  /** Every request created, in order. */
  readonly created: CertificateSigningRequest[] = [];

  constructor(o: { sign: SignFn; autoApprove?: boolean }) {
    this.#sign = o.sign;
    this.autoApprove = o.autoApprove ?? true;
  }

  create(csr: CertificateSigningRequest): Promise<CertificateSigningRequest> {
    const name = csr.metadata.name ?? `${csr.metadata.generateName ?? 'csr-'}${this.#next++}`;
    if (this.#objects.has(name)) return Promise.reject(new AlreadyExistsError(`certificatesigningrequests "${name}" already exists`));
    const stored: CertificateSigningRequest = structuredClone({ ...csr, metadata: { name, uid: `uid-${name}`, resourceVersion: String(this.#rv++) } });
    this.#objects.set(name, stored);
    this.created.push(stored);
    if (this.autoApprove) this.approve(name);
    return Promise.resolve(structuredClone(stored));
  }

  get(name: string): Promise<CertificateSigningRequest> {
    const o = this.#objects.get(name);
    return o === undefined ? Promise.reject(new NotFoundError(`certificatesigningrequests "${name}" not found`)) : Promise.resolve(structuredClone(o));
  }

  waitForChange(_name: string, _rv: string | undefined, _timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /** Approves `name` and issues its certificate. */
  approve(name: string): void {
    const o = this.#mustGet(name);
    const pem = Buffer.from(o.spec.request, 'base64').toString('utf8');
    o.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'Test' }], certificate: Buffer.from(this.#sign(pem, o.spec.expirationSeconds)).toString('base64') };
    this.#changed(o);
  }

  /** Denies `name`. */
  deny(name: string, reason = 'Test', message = 'denied by the test'): void {
    const o = this.#mustGet(name);
    o.status = { conditions: [{ type: 'Denied', status: 'True', reason, message }] };
    this.#changed(o);
  }

  #mustGet(name: string): CertificateSigningRequest {
    const o = this.#objects.get(name);
    if (o === undefined) throw new NotFoundError(`certificatesigningrequests "${name}" not found`);
    return o;
  }

  #changed(o: CertificateSigningRequest): void {
    o.metadata.resourceVersion = String(this.#rv++);
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}
