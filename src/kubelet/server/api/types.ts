/**
 * Seams between the kubelet API server (HTTPS on `port`, 10250) and the parts that serve its endpoints. The server
 * (src/kubelet/server/api) owns TLS, authentication, authorization and routing; it calls these only for requests
 * that were authenticated and authorized.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';

/** A container of a pod the kubelet runs, resolved to runtime IDs. */
export interface ResolvedContainer {
  pod: V1Pod;
  /** The container's name in the pod spec (app, init or ephemeral container). */
  containerName: string;
  /** Runtime ID of the newest instance of the container (no `docker://` prefix), when one exists. */
  containerId: string | undefined;
  /** Runtime ID of the newest instance before it (for `previous=true` logs), when one exists. */
  previousContainerId: string | undefined;
  /** Runtime ID of the pod's ready sandbox, when one exists (always undefined when not asked for). */
  sandboxId: string | undefined;
}

/** Finds the pods and containers the kubelet runs (API and static pods), as the kubelet last saw them. */
export interface KubeletPodLookup {
  /** The pods the kubelet runs, with the status it computed. */
  pods(): V1Pod[];
  /** The pod by namespace and name (and UID when given); undefined when the kubelet does not run it. */
  findPod(namespace: string, name: string, uid?: string): V1Pod | undefined;
  /**
   * Resolves `container` of the pod to runtime IDs; undefined when the pod or a container of that name is unknown.
   * An empty `container` means the pod's only container (undefined when the pod has several). With
   * `want.sandbox === false` the sandbox is not looked up (one runtime call less: exec and attach need no sandbox).
   */
  resolveContainer(namespace: string, podName: string, container: string, uid?: string, want?: { sandbox?: boolean }): Promise<ResolvedContainer | undefined>;
}

/** The parsed route of a streaming request: `/exec|attach/{ns}/{pod}[/{uid}]/{container}`, `/portForward/{ns}/{pod}[/{uid}]`. */
export interface StreamRoute {
  kind: 'exec' | 'attach' | 'portForward';
  namespace: string;
  pod: string;
  uid: string | undefined;
  /** Empty for portForward. */
  container: string;
  query: URLSearchParams;
}

/**
 * Serves exec, attach and port-forward (src/kubelet/streaming). Called by the API server after authentication and
 * authorization. Must answer every request it is given (101 and the stream, or an HTTP error with a Status body) and
 * free every resource when the client goes away.
 */
export interface StreamingHandler {
  /** An HTTP Upgrade request (SPDY/3.1 or WebSocket) for one of the streaming routes. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, route: StreamRoute): void;
  /** A plain (non-upgrade) request to a streaming route: answered with an error, as upstream. */
  handleRequest(req: IncomingMessage, res: ServerResponse, route: StreamRoute): void;
}

/**
 * Serves the stats and resource-metrics endpoints (src/kubelet/stats): `/stats/summary`, `/metrics/resource`,
 * `/metrics/cadvisor`. Called after authentication and authorization (subresource `stats` / `metrics`).
 */
export interface StatsHandler {
  /** Answers the request when the path is one of its own and returns true; false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

/**
 * Where the API server's serving certificate comes from: files (`tlsCertFile`/`tlsPrivateKeyFile`), a self-signed
 * pair in `<root-dir>/pki`, or a `kubernetes.io/kubelet-serving` CSR (`serverTLSBootstrap`, src/kubelet/certificate).
 * The server applies a change without dropping connections (`setSecureContext`).
 */
export interface ServingCertificateSource {
  /** The current PEM certificate chain and key, or undefined while none is available yet (CSR not approved). */
  current(): { certPem: string; keyPem: string } | undefined;
  /** Calls `listener` after the certificate changed (first issue or rotation). Returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/** A parsed client CA bundle: the PEM certificates (for the TLS context) and their SHA-256 fingerprints. */
export interface ClientCABundle {
  /** One PEM block per certificate, in file order. */
  certificates: readonly string[];
  /** `X509Certificate.fingerprint256` of each (colon-separated upper-case hex, as `getPeerCertificate()` reports). */
  fingerprints: ReadonlySet<string>;
}

/**
 * Where the client CA of the API server comes from: `--client-ca-file` (`authentication.x509.clientCAFile`), re-read
 * when it changes (src/kubelet/certificate/dynamic-file.ts). New TLS handshakes verify client certificates against
 * the current bundle, and a request's certificate counts only while its verified chain still reaches a certificate
 * of the current bundle (so a CA removed from the file stops authenticating connections that were kept open).
 */
export interface ClientCASource {
  /** The current bundle; undefined while none was loaded. */
  current(): ClientCABundle | undefined;
  /** Calls `listener` after the bundle changed. Returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}
