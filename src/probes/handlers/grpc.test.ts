import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Server, ServerCredentials, status, type ServiceDefinition, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { createServer, type AddressInfo } from 'node:net';
import {
  HEALTH_CHECK_METHOD,
  decodeHealthCheckRequest,
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  encodeHealthCheckResponse,
} from './grpc-health.js';
import { grpcProbe } from './grpc.js';

const healthService: ServiceDefinition = {
  Check: {
    path: HEALTH_CHECK_METHOD,
    requestStream: false,
    responseStream: false,
    requestSerialize: (v: { service: string }) => encodeHealthCheckRequest(v.service),
    requestDeserialize: (b: Buffer) => decodeHealthCheckRequest(b),
    responseSerialize: (v: { status: number }) => encodeHealthCheckResponse(v.status),
    responseDeserialize: (b: Buffer) => decodeHealthCheckResponse(b),
  },
};

let server: Server;
let bare: Server;
let port = 0;
let barePort = 0;
const agents: string[] = [];

function bind(s: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    s.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
}

beforeAll(async () => {
  server = new Server();
  server.addService(healthService, {
    Check: (call: ServerUnaryCall<{ service: string }, { status: number }>, cb: sendUnaryData<{ status: number }>) => {
      agents.push(String(call.metadata.get('user-agent')[0] ?? ''));
      const svc = call.request.service;
      if (svc === '') return cb(null, { status: 1 });
      if (svc === 'down') return cb(null, { status: 2 });
      if (svc === 'slow') return; // never answers
      cb({ code: status.NOT_FOUND, details: 'unknown service' });
    },
  });
  port = await bind(server);
  bare = new Server();
  barePort = await bind(bare);
});

afterAll(() => {
  server.forceShutdown();
  bare.forceShutdown();
});

const req = (p: number, service = '', timeoutSeconds = 1) => ({ ip: '127.0.0.1', port: p, service, timeoutSeconds, userAgent: 'kube-probe/1.24' });

describe('grpc handler against an in-process grpc.health.v1 server', () => {
  it('SERVING is success and the probe identifies itself', async () => {
    expect(await grpcProbe(req(port))).toEqual({ result: 'success', output: 'service healthy' });
    expect(agents.at(-1)).toMatch(/^kube-probe\/1\.24/);
  });

  it('NOT_SERVING is a failure with the upstream text', async () => {
    expect(await grpcProbe(req(port, 'down'))).toEqual({
      result: 'failure',
      output: 'service unhealthy (responded with "NOT_SERVING")',
    });
  });

  it('errors and missing health service', async () => {
    expect(await grpcProbe(req(port, 'nope'))).toEqual({
      result: 'failure',
      output: 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service',
    });
    const r = await grpcProbe(req(barePort));
    expect(r.result).toBe('failure');
    expect(r.output).toMatch(/^error: this server does not implement the grpc health protocol \(grpc\.health\.v1\.Health\): /);
  });

  it('deadline: a hung server fails at timeoutSeconds', async () => {
    expect(await grpcProbe(req(port, 'slow', 1))).toEqual({
      result: 'failure',
      output: 'timeout: health rpc did not complete within 1s',
    });
  });

  it('a closed port is an Unavailable failure', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const dead = (srv.address() as AddressInfo).port;
    await new Promise((r) => srv.close(r));
    expect(await grpcProbe(req(dead))).toEqual({
      result: 'failure',
      output: `error: health rpc probe failed: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:${dead}: connect: connection refused"`,
    });
  });
});
