/** Parsing of --container-runtime-endpoint (`unix:///var/run/docker.sock`, or a bare absolute socket path). */
import { basename } from 'node:path';
import { ConfigError } from '../util/errors.js';

/** The socket path of a runtime endpoint; throws ConfigError for anything but a unix socket. */
export function socketPath(endpoint: string): string {
  if (endpoint.startsWith('unix://')) {
    const p = endpoint.slice('unix://'.length);
    if (p.startsWith('/')) return p;
  } else if (endpoint.startsWith('/')) {
    return endpoint;
  }
  throw new ConfigError(
    `flag --container-runtime-endpoint: "${endpoint}" is not supported (allowed: unix:///<absolute socket path>, e.g. unix:///var/run/docker.sock or unix:///run/containerd/containerd.sock, or fake:// for simulation)`,
    { field: '--container-runtime-endpoint' },
  );
}

/** Which protocol a runtime socket speaks: the Docker Engine API or CRI v1 gRPC; or the in-memory fake runtime. */
export type RuntimeKind = 'docker' | 'cri' | 'fake';

/** The endpoint of the in-memory fake runtime (simulation: hollow nodes, no containers run). */
export const FAKE_ENDPOINT = 'fake://';

/**
 * The protocol of an endpoint, decided by its name: a socket named `docker.sock` is the Docker engine (the default
 * endpoint), every other socket is a CRI runtime (containerd, CRI-O, cri-dockerd), as with upstream kubelet since
 * dockershim was removed. `probeCri` (src/cri/containerd) can confirm a CRI socket at start-up.
 */
export function runtimeKind(endpoint: string): RuntimeKind {
  if (endpoint === FAKE_ENDPOINT) return 'fake';
  return basename(socketPath(endpoint)) === 'docker.sock' ? 'docker' : 'cri';
}
