/**
 * Connections made inside a pod's network namespace (port-forward): the seam between the runtimes' port-forward and
 * the one outside effect it needs — a TCP connection to the sandbox's own loopback. Contract: src/cri/netns/contract.ts.
 */
import type { OnReadOpts, Socket } from 'node:net';

/** A network namespace: its bind-mounted path (CRI: the sandbox's netns file), else a process living in it. */
export interface NetnsTarget {
  /** A netns file, e.g. /var/run/netns/cni-…; preferred when it exists. */
  path?: string;
  /** A process in the namespace (the sandbox's pause process). */
  pid?: number;
}

/** Options of {@link NetnsDialer.dial}. */
export interface DialOptions {
  /** Reads of the socket go into these buffers (net.connect's `onread`): no allocation per read. */
  onread?: OnReadOpts;
  /** Aborting before the connection is made rejects (CANCELLED) and closes the connection should it still arrive. */
  signal: AbortSignal;
  /** Names the target in error messages (e.g. `pod sandbox <id>`). */
  object?: string;
}

/**
 * Makes TCP connections to `localhost:<port>` inside a network namespace — IPv4 first, then IPv6, as containerd's
 * port-forward does — and hands them to this process as sockets. Nothing else in the namespace is reachable through
 * it, and a connection is never made in another namespace (a reused pid is detected).
 */
export interface NetnsDialer {
  /**
   * A connected socket (half-open allowed; paused until resumed or read). Rejects with RUNTIME_ERROR naming the
   * port and both address families' errors when nothing accepts the connection, NOT_FOUND when the namespace is
   * gone, CANCELLED when `signal` aborts first.
   */
  dial(target: NetnsTarget, port: number, options: DialOptions): Promise<Socket>;
  /** Frees every helper process and pending dial (rejected with CANCELLED). Idempotent. */
  close(): void;
}
