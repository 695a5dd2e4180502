/**
 * What the daemon runs: roles with start/stop. Roles receive what they need (config, logger, metrics registry,
 * health checks) from the wiring in src/cli; no role knows about another.
 */

/** A long-running part of the process. */
export interface Role {
  readonly name: string;
  /** Starts the role; resolves once it runs (background loops keep going). Throws when it cannot start. */
  start(): Promise<void>;
  /** Stops the role's loops and servers. Never stops pods/containers (they keep running, as upstream). Idempotent. */
  stop(): Promise<void>;
}

/** Starts roles in order; on a failure, stops the ones already started and rethrows. */
export async function startRoles(roles: readonly Role[]): Promise<void> {
  const started: Role[] = [];
  for (const r of roles) {
    try {
      await r.start();
      started.push(r);
    } catch (err) {
      await stopRoles(started);
      throw err;
    }
  }
}

/** Stops roles in reverse order; errors are collected, never thrown (shutdown must finish). */
export async function stopRoles(roles: readonly Role[]): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (const r of [...roles].reverse()) {
    try {
      await r.stop();
    } catch (err) {
      errors.push(err);
    }
  }
  return errors;
}
