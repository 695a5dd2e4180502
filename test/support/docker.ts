/**
 * Helpers for integration tests against the shared Docker engine: a dockerode client and cleanup of containers
 * carrying a test label (only ever those: never touch other suites' containers).
 */
import Docker from 'dockerode';

/** The shared engine's socket. */
export const DOCKER_SOCKET = '/var/run/docker.sock';

/** A dockerode client on the shared engine. */
export function dockerClient(): Docker {
  return new Docker({ socketPath: DOCKER_SOCKET });
}

/** Force-removes every container carrying `key=value` (idempotent); returns how many were removed. */
export async function removeLabelled(docker: Docker, key: string, value: string): Promise<number> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${key}=${value}`] } });
  await Promise.all(
    list.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  return list.length;
}
