/**
 * Node certificates: TLS bootstrap of the client certificate (`--bootstrap-kubeconfig`), rotation of the client
 * certificate (`rotateCertificates`) and the kubelet API's serving certificate from a `kubernetes.io/kubelet-serving`
 * CSR (`serverTLSBootstrap`), stored in `--cert-dir` as upstream.
 */
export { bootstrapClientCertificate, kubeconfigStillValid, renderNodeKubeconfig, PENDING_KEY_FILE, type BootstrapOptions } from './bootstrap.js';
export { ApiCsrApi, csrOutcome, requestCertificate, type CsrApi, type CsrOutcome, type RequestCertificateOptions } from './csr-api.js';
export {
  buildCsrPem,
  CLIENT_SIGNER,
  CLIENT_USAGES,
  csrObject,
  digestedCsrName,
  generateKey,
  loadKey,
  nodeSubject,
  SERVING_SIGNER,
  SERVING_USAGES,
  type CertificateSigningRequest,
  type CsrSubject,
  type PrivateKey,
} from './csr.js';
export { CertificateManager, type CertificateManagerOptions } from './manager.js';
export { retryDelayMs, rotationDeadline, UPSTREAM_ROTATION, type RotationPolicy } from './schedule.js';
export { FileCertificateStore, MemoryCertificateStore, parsePair, splitPem, type CertificatePair, type CertificateStore } from './store.js';
export { parseCABundle } from './ca-bundle.js';
export { CertificateFileError, DynamicFileContent, FILE_REFRESH_MS, type CheckResult, type DynamicFileOptions } from './dynamic-file.js';
export { clientCAFromFile, parseServingPair, servingCertificateFromFiles, type FileMaterialOptions, type ServingPair } from './file-material.js';
export { NodeFileWatcher, type FileEvent, type FileWatcher, type FileWatchHandle } from './file-watcher.js';
