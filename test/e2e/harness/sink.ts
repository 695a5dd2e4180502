import { execFileSync } from 'node:child_process';

/** Service CIDR of the test API server (and kubeadm's default). */
export const SERVICE_CIDR = '10.96.0.0/12';

const HOST_END = 'nle2e-sink0';
const FAR_END = 'nle2e-sink1';

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function routeExists(cidr: string): boolean {
  return ip(['-4', 'route', 'show', 'exact', cidr]).trim() !== '';
}

let refs = 0;
let owned = false;

/**
 * Routes `cidr` (default the service CIDR) into a sink so that no packet to a service IP can leave the machine,
 * whatever the proxy rules do: a veth pair `nle2e-sink0`/`nle2e-sink1` whose far end has no address (this kernel has
 * no dummy module); packets sent there find no ARP answer and are dropped. If a route for exactly that CIDR
 * already exists (another suite's sink), it is left alone and relied upon. Reference-counted within the process;
 * returns the function that undoes it. Needs root.
 */
export function installServiceCidrSink(cidr = SERVICE_CIDR): () => void {
  if (refs === 0 && routeExists(cidr) && ip(['-4', 'route', 'show', 'exact', cidr]).includes(`dev ${HOST_END}`)) {
    owned = true; // our own sink left behind by a killed run: adopt it, so it is removed at the end
  } else if (refs === 0 && !routeExists(cidr)) {
    try {
      ip(['link', 'del', HOST_END]); // a leftover from a killed run
    } catch {
      // not there: the normal case
    }
    try {
      ip(['link', 'add', HOST_END, 'type', 'veth', 'peer', 'name', FAR_END]);
      ip(['link', 'set', HOST_END, 'up']);
      ip(['link', 'set', FAR_END, 'up']);
      ip(['route', 'add', cidr, 'dev', HOST_END]);
    } catch (err) {
      try {
        ip(['link', 'del', HOST_END]);
      } catch {
        // nothing was created
      }
      throw new Error(`cannot route ${cidr} into a sink (needs root): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    owned = true;
  }
  refs++;
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    refs--;
    if (refs === 0 && owned) {
      owned = false;
      try {
        ip(['link', 'del', HOST_END]); // removes the peer and the route with it
      } catch {
        // already gone
      }
    }
  };
}

/** Runs `fn` with the service CIDR routed into a sink, removing the sink afterwards (also when `fn` throws). */
export async function withServiceCidrSink<T>(fn: () => Promise<T>, cidr = SERVICE_CIDR): Promise<T> {
  const undo = installServiceCidrSink(cidr);
  try {
    return await fn();
  } finally {
    undo();
  }
}

/** True when a route for `cidr` goes to a sink device (or any device): for assertions before sending traffic. */
export function isRouted(cidr = SERVICE_CIDR): boolean {
  return routeExists(cidr);
}
