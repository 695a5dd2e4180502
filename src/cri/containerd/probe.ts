import { CriClient } from './client.js';

/**
 * Asks the socket for the CRI v1 `RuntimeService/Version`. Resolves with the runtime name when it answers, or
 * undefined when it does not speak CRI v1 (e.g. a Docker engine socket) or cannot be reached within `timeoutMs`.
 */
export async function probeCri(socketPath: string, timeoutMs = 2000): Promise<string | undefined> {
  const client = new CriClient({ socketPath, timeoutMs });
  try {
    const v = await client.runtime('Version', { version: 'v1' }, { op: 'query version of', object: 'container runtime' });
    return v.runtimeName;
  } catch {
    return undefined;
  } finally {
    client.close();
  }
}
