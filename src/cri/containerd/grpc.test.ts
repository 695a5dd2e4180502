import { Server, ServerCredentials, status, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode, isAlreadyExists, isNotFound, isRuntimeUnavailable } from '../../util/index.js';
import { loadCriServices } from '../proto/services.js';
import { CriRuntime } from './cri-runtime.js';
import { probeCri } from './probe.js';

const dir = mkdtempSync(join(tmpdir(), 'nlctr-probe-'));
const criSock = join(dir, 'cri.sock');
const httpSock = join(dir, 'http.sock');
const server = new Server();
const http = createServer((_req, res) => res.end('{"message":"page not found"}'));
const removed: string[] = [];
const runtimeConfigs: unknown[] = [];

type Handler = (call: ServerUnaryCall<Record<string, unknown>, unknown>, cb: sendUnaryData<unknown>) => void;
const fail = (code: number, details: string): Handler => (_c, cb) => cb({ code, details, name: 'Error', message: details, metadata: undefined as never });

beforeAll(async () => {
  const { RuntimeService } = loadCriServices();
  const handlers: Record<string, Handler> = {
    Version: (_c, cb) => cb(null, { version: '0.1.0', runtimeName: 'fakecri', runtimeVersion: '9.9', runtimeApiVersion: 'v1' }),
    StopContainer: fail(status.NOT_FOUND, 'an error occurred when try to find container: not found'),
    RemoveContainer: (c, cb) => {
      removed.push(String(c.request['containerId']));
      cb(null, {});
    },
    ContainerStatus: fail(status.NOT_FOUND, 'not found'),
    CreateContainer: fail(status.UNKNOWN, 'failed to reserve container name "x": name "x" is reserved for "abc"'),
    UpdateRuntimeConfig: (c, cb) => {
      runtimeConfigs.push(c.request);
      cb(null, {});
    },
  };
  server.addService(RuntimeService.service, handlers);
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${criSock}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  await new Promise<void>((r) => http.listen(httpSock, r));
});

afterAll(async () => {
  server.forceShutdown();
  await new Promise<void>((r) => http.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('CRI over a fake gRPC server', () => {
  it('probes: a CRI socket answers Version, an HTTP (Docker-like) socket and a missing one do not', async () => {
    expect(await probeCri(criSock)).toBe('fakecri');
    expect(await probeCri(httpSock, 1000)).toBeUndefined();
    expect(await probeCri(join(dir, 'missing.sock'), 1000)).toBeUndefined();
  });

  it('maps answers and errors: version, idempotent stop, NotFound status, reserved name', async () => {
    const rt = new CriRuntime({ socketPath: criSock });
    try {
      expect(await rt.version()).toEqual({ runtimeName: 'fakecri', runtimeVersion: '9.9', runtimeApiVersion: 'v1' });
      await rt.stopContainer('gone', 5);
      await rt.removeContainer('c1');
      expect(removed).toEqual(['c1']);
      await expect(rt.containerStatus('gone')).rejects.toSatisfy(isNotFound);
      // Unimplemented methods surface as runtime errors, not crashes.
      await expect(rt.status()).rejects.toThrow(/does not implement/);
    } finally {
      await rt.close();
    }
    const down = new CriRuntime({ socketPath: join(dir, 'missing.sock') });
    await expect(down.listContainers()).rejects.toSatisfy(isRuntimeUnavailable);
    await down.close();
    expect(isAlreadyExists(await probeReserved())).toBe(true);
  });

  it('sends the pod CIDRs as the kubelet does: UpdateRuntimeConfig{runtimeConfig: {networkConfig: {podCidr: comma-joined}}}', async () => {
    const rt = new CriRuntime({ socketPath: criSock });
    try {
      await rt.updatePodCIDR(['10.244.1.0/24', 'fd00:10:244:1::/64']);
      expect(runtimeConfigs).toEqual([{ runtimeConfig: { networkConfig: { podCidr: '10.244.1.0/24,fd00:10:244:1::/64' } } }]);
      // A malformed CIDR is refused before anything is sent.
      await expect(rt.updatePodCIDR(['10.244.1.0'])).rejects.toSatisfy((e: unknown) => hasCode(e, 'INVALID'));
      expect(runtimeConfigs).toHaveLength(1);
    } finally {
      await rt.close();
    }
  });
});

async function probeReserved(): Promise<unknown> {
  const { CriClient } = await import('./client.js');
  const c = new CriClient({ socketPath: criSock });
  try {
    await c.runtime('CreateContainer', { podSandboxId: 's', config: {} as never, sandboxConfig: {} as never }, { op: 'create', object: 'container x' });
    return undefined;
  } catch (e) {
    return e;
  } finally {
    c.close();
  }
}
