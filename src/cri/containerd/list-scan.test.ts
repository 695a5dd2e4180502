import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ContainerEvent } from '../types.js';
import { loadCriServices } from '../proto/services.js';
import { CriRuntime } from './cri-runtime.js';
import { ListScanError, scanContainerList, scanSandboxList } from './list-scan.js';

const { RuntimeService } = loadCriServices();
const encode = (method: 'ListPodSandbox' | 'ListContainers', res: unknown): Buffer => RuntimeService.service[method].responseSerialize(res);

const big = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`io.kubernetes.label-${i}`, 'x'.repeat(200)]));
const sandboxes = {
  items: [
    { id: 'sb-ready', metadata: { name: 'p', uid: 'u1', namespace: 'ns', attempt: 3 }, state: 'SANDBOX_READY', createdAt: '1796207607575000000', labels: big, annotations: big, runtimeHandler: 'runc' },
    { id: 'sb-down', state: 'SANDBOX_NOTREADY', labels: { a: 'b' } },
  ],
};
const containers = {
  containers: [
    { id: 'c-created', podSandboxId: 'sb-ready', metadata: { name: 'app', attempt: 1 }, image: { image: 'img', annotations: big }, imageRef: 'sha256:1', state: 'CONTAINER_CREATED', createdAt: '9007199254740993', labels: big },
    { id: 'c-running', podSandboxId: 'sb-ready', state: 'CONTAINER_RUNNING', annotations: big },
    { id: 'c-exited', podSandboxId: 'sb-down', state: 'CONTAINER_EXITED' },
    { id: 'c-unknown', podSandboxId: 'sb-down', state: 'CONTAINER_UNKNOWN' },
  ],
};

describe('scanSandboxList / scanContainerList', () => {
  it('reads id, sandbox id and phase of every item and skips all other fields', () => {
    expect(scanSandboxList(encode('ListPodSandbox', sandboxes))).toEqual([
      { id: 'sb-ready', podSandboxId: 'sb-ready', isSandbox: true, phase: 1 },
      { id: 'sb-down', podSandboxId: 'sb-down', isSandbox: true, phase: 2 },
    ]);
    expect(scanContainerList(encode('ListContainers', containers))).toEqual([
      { id: 'c-created', podSandboxId: 'sb-ready', isSandbox: false, phase: 0 },
      { id: 'c-running', podSandboxId: 'sb-ready', isSandbox: false, phase: 1 },
      { id: 'c-exited', podSandboxId: 'sb-down', isSandbox: false, phase: 2 },
      { id: 'c-unknown', podSandboxId: 'sb-down', isSandbox: false, phase: 2 },
    ]);
  });

  it('returns nothing for an empty response', () => {
    expect(scanSandboxList(Buffer.alloc(0))).toEqual([]);
    expect(scanContainerList(encode('ListContainers', { containers: [] }))).toEqual([]);
  });

  it('rejects a truncated response with a typed error', () => {
    const buf = encode('ListContainers', containers);
    expect(() => scanContainerList(buf.subarray(0, buf.length - 7))).toThrow(ListScanError);
    expect(() => scanSandboxList(Buffer.from([0x0a, 0x05, 0x0a]))).toThrow(expect.objectContaining({ code: 'CRI_LIST_DECODE' }) as Error);
  });
});

describe('CriRuntime event polling through the lean list calls', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nlctr-scan-'));
  const server = new Server();
  const filters: unknown[] = [];
  afterAll(() => {
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends an unfiltered list request and turns the listed states into events', async () => {
    type Handler = (call: ServerUnaryCall<Record<string, unknown>, unknown>, cb: sendUnaryData<unknown>) => void;
    const handlers: Record<string, Handler> = {
      ListPodSandbox: (c, cb) => {
        filters.push(c.request['filter']);
        cb(null, sandboxes);
      },
      ListContainers: (c, cb) => {
        filters.push(c.request['filter']);
        cb(null, containers);
      },
    };
    server.addService(RuntimeService.service, handlers);
    const sock = join(dir, 'cri.sock');
    await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${sock}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    const rt = new CriRuntime({ socketPath: sock, eventPollIntervalMs: 20, killAbortedExecs: false });
    const events: ContainerEvent[] = [];
    const unsubscribe = rt.subscribeEvents((e) => events.push(e));
    try {
      // The first poll learns the state; objects appear as events only after that, so change the answer.
      await new Promise((r) => setTimeout(r, 100));
      containers.containers.push({ id: 'c-new', podSandboxId: 'sb-ready', state: 'CONTAINER_RUNNING' });
      for (let i = 0; i < 100 && !events.some((e) => e.containerId === 'c-new' && e.type === 'started'); i++) await new Promise((r) => setTimeout(r, 20));
    } finally {
      unsubscribe();
      await rt.close();
    }
    expect(events.filter((e) => e.containerId === 'c-new').map((e) => e.type)).toEqual(['created', 'started']);
    expect(events.find((e) => e.containerId === 'c-new')).toMatchObject({ podSandboxId: 'sb-ready', isSandbox: false });
    expect(filters.length).toBeGreaterThan(0);
    expect(filters.every((f) => f === null || f === undefined)).toBe(true);
  });
});
