/** Port resolution as upstream `probe.ResolveContainerPort`: a number, a container port name, or a numeric string. */
import type { V1Container } from '@kubernetes/client-node';
import { InvalidError } from '../../util/index.js';

/**
 * Resolves an IntOrString port against the container's named ports. Throws InvalidError with upstream's texts
 * (`port <name> not found` is reported as the strconv error for non-numeric names, `invalid port number: N`).
 */
export function resolveContainerPort(port: number | string | undefined, container: V1Container): number {
  let n: number;
  if (typeof port === 'number') {
    n = port;
  } else if (typeof port === 'string') {
    const named = container.ports?.find((p) => p.name === port);
    if (named !== undefined) {
      n = named.containerPort;
    } else if (/^[+-]?\d+$/.test(port)) {
      n = Number.parseInt(port, 10);
    } else {
      throw new InvalidError(`strconv.Atoi: parsing ${JSON.stringify(port)}: invalid syntax`, { field: 'port' });
    }
  } else {
    throw new InvalidError('intOrString had no kind: port is missing', { field: 'port' });
  }
  if (Number.isInteger(n) && n > 0 && n < 65536) return n;
  throw new InvalidError(`invalid port number: ${n}`, { field: 'port' });
}
