/**
 * The grpc handler (upstream pkg/probe/grpc): calls grpc.health.v1.Health/Check (plaintext, optional service) with the
 * probe timeout as deadline. SERVING = success (`service healthy`); other answers and errors are failures with
 * upstream's texts. One connection per probe, over src/grpc's small unary client (no @grpc/grpc-js in the agent).
 */
import { isIP } from 'node:net';
import { GrpcStatus, UnaryGrpcClient } from '../../grpc/index.js';
import {
  HEALTH_CHECK_METHOD,
  SERVING,
  SERVING_STATUS_NAMES,
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
} from './grpc-health.js';
import { joinHostPort, type ProbeOutcome } from './types.js';

/** Go's names of gRPC status codes (what `rpc error: code = … desc = …` prints). */
const GO_CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

/** Formats seconds like Go's time.Duration String for whole seconds (`1s`, `30s`). */
function goSeconds(s: number): string {
  return `${s}s`;
}

/** Inputs of one gRPC probe. */
export interface GrpcProbeRequest {
  ip: string;
  port: number;
  service: string;
  timeoutSeconds: number;
  userAgent: string;
}

/** Runs one gRPC health probe; never rejects. */
export async function grpcProbe(req: GrpcProbeRequest): Promise<ProbeOutcome> {
  const addr = joinHostPort(req.ip, req.port);
  const family = isIP(req.ip);
  if (family === 0) return { result: 'failure', output: `error: failed to connect service at ${JSON.stringify(addr)}: not an IP address` };
  const client = new UnaryGrpcClient({ tcp: { host: req.ip, port: req.port }, maxReceiveBytes: 4 * 1024 * 1024, metadata: { 'user-agent': req.userAgent } });
  try {
    const body = await client.call(HEALTH_CHECK_METHOD, encodeHealthCheckRequest(req.service), { timeoutMs: req.timeoutSeconds * 1000 });
    let resp: { status: number };
    try {
      resp = decodeHealthCheckResponse(body);
    } catch (err) {
      return { result: 'failure', output: `error: health rpc probe failed: rpc error: code = Internal desc = response message parsing error: ${(err as Error).message}` };
    }
    if (resp.status !== SERVING) {
      const name = SERVING_STATUS_NAMES[resp.status] ?? String(resp.status);
      return { result: 'failure', output: `service unhealthy (responded with ${JSON.stringify(name)})` };
    }
    return { result: 'success', output: 'service healthy' };
  } catch (err) {
    const e = err as { code?: number; details?: string; message?: string };
    if (e.code === GrpcStatus.UNIMPLEMENTED) {
      return {
        result: 'failure',
        output: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${e.details ?? ''}`,
      };
    }
    if (e.code === GrpcStatus.DEADLINE_EXCEEDED) {
      return { result: 'failure', output: `timeout: health rpc did not complete within ${goSeconds(req.timeoutSeconds)}` };
    }
    const code = typeof e.code === 'number' ? (GO_CODE_NAMES[e.code] ?? `Code(${e.code})`) : 'Unknown';
    let desc = e.details ?? e.message ?? '';
    if (e.code === GrpcStatus.UNAVAILABLE && desc.includes('ECONNREFUSED')) {
      // grpc-go's wording for the same situation.
      desc = `connection error: desc = "transport: Error while dialing: dial tcp ${addr}: connect: connection refused"`;
    }
    return { result: 'failure', output: `error: health rpc probe failed: rpc error: code = ${code} desc = ${desc}` };
  } finally {
    client.close();
  }
}
