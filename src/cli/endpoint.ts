/** Parsing of --container-runtime-endpoint (`unix:///var/run/docker.sock`, or a bare absolute socket path). */
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
    `flag --container-runtime-endpoint: "${endpoint}" is not supported (allowed: unix:///<absolute socket path>, e.g. unix:///var/run/docker.sock)`,
    { field: '--container-runtime-endpoint' },
  );
}
