/**
 * What a probe handler reports, shaped after upstream `pkg/probe`: a result plus the output users see in events.
 * A handler *throws* only for a prober error (upstream `err != nil`): the worker then throws the result away.
 */

/** Result of one probe action (upstream probe.Result; `warning` counts as success but records a ProbeWarning). */
export type ProbeOutcomeResult = 'success' | 'warning' | 'failure' | 'unknown';

/** One probe action's outcome. */
export interface ProbeOutcome {
  result: ProbeOutcomeResult;
  /** Output shown in Unhealthy / ProbeWarning events (already trimmed and bounded). */
  output: string;
}

/** Most output bytes kept from an exec probe or an HTTP response body (upstream: 10 KiB). */
export const MAX_PROBE_OUTPUT_BYTES = 10 * 1024;

/** Keeps at most `maxBytes` UTF-8 bytes of `s` (never splits inside a character's bytes badly: replacement at worst). */
export function boundOutput(s: string, maxBytes = MAX_PROBE_OUTPUT_BYTES): string {
  const b = Buffer.from(s, 'utf8');
  return b.length <= maxBytes ? s : b.subarray(0, maxBytes).toString('utf8');
}

/** Formats `host:port` like Go's net.JoinHostPort (brackets around IPv6 literals). */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Quotes a string like Go's `%q` for the printable ASCII case (what probe messages contain). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Maps a Node socket error to the text Go's net package prints after `dial tcp <addr>: ` (upstream messages). */
export function goDialErrorText(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connect: connection refused';
    case 'EHOSTUNREACH':
      return 'connect: no route to host';
    case 'ENETUNREACH':
      return 'connect: network is unreachable';
    case 'ETIMEDOUT':
    case 'ABORT_ERR':
      return 'i/o timeout';
    case 'ECONNRESET':
      return 'read: connection reset by peer';
    case 'EADDRNOTAVAIL':
      return 'connect: cannot assign requested address';
    default:
      return err.message;
  }
}
