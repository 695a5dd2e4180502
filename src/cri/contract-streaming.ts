/**
 * The contract suite of ContainerStreaming (exec, attach, port-forward), run against FakeRuntime
 * (src/cri/fake/streaming.test.ts) and DockerRuntime (test/integration/cri-docker-streaming.test.ts). Test-only:
 * imports vitest. Backends with a real kernel additionally show stderr, a terminal's size after a resize, and that an
 * aborted exec leaves no process behind.
 */
import { Duplex, PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../util/index.js';
import { containerConfig, sandboxConfig, waitFor } from './contract-fixtures.js';
import type { ContainerRuntime, ContainerStreaming, StreamIO } from './types.js';

/** A backend under test. */
export interface StreamingUnderTest {
  runtime: ContainerRuntime & ContainerStreaming;
  cleanup: () => Promise<void>;
}

/** Options for {@link runStreamingContract}. */
export interface StreamingContractOptions {
  testLabel: { key: string; value: string };
  realKernel: boolean;
  /**
   * The backend kills an aborted exec's process itself (Docker: by host PID; containerd, whose streaming server does
   * not notice a gone client: through containerd's Tasks service, src/cri/containerd/exec-reaper.ts).
   */
  killsAbortedExec: boolean;
  /**
   * Makes `port` of the sandbox answer one HTTP GET with body `body` on the pod's loopback only (real backends: a
   * container running httpd bound to 127.0.0.1; the fake: a port handler).
   */
  serveHttp(runtime: ContainerRuntime & ContainerStreaming, sandboxId: string, port: number, body: string): Promise<void>;
}

/** Collects what a writable receives. */
export function sinkText(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _e, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => text };
}

/** Registers the suite (call at the top level of a test file). */
export function runStreamingContract(name: string, make: () => Promise<StreamingUnderTest>, opts: StreamingContractOptions): void {
  describe(`ContainerStreaming contract: ${name}`, () => {
    let under: StreamingUnderTest;
    let rt: ContainerRuntime & ContainerStreaming;
    let sandboxId = '';
    let containerId = '';
    const labels = { [opts.testLabel.key]: opts.testLabel.value };
    const io = (extra: Partial<StreamIO> = {}): { io: StreamIO; out: () => string; err: () => string; abort: () => void } => {
      const o = sinkText();
      const e = sinkText();
      const controller = new AbortController();
      return { io: { tty: false, stdout: o.stream, stderr: e.stream, signal: controller.signal, ...extra }, out: o.text, err: e.text, abort: () => controller.abort() };
    };

    beforeAll(async () => {
      under = await make();
      rt = under.runtime;
      const sb = sandboxConfig('streaming', labels);
      sandboxId = await rt.runPodSandbox(sb);
      containerId = await rt.createContainer(sandboxId, containerConfig('main', sb, labels, { command: ['sleep', '100000'] }), sb);
      await rt.startContainer(containerId);
    }, 60_000);

    afterAll(async () => {
      await rt?.removePodSandbox(sandboxId).catch(() => undefined);
      await rt?.close();
      await under?.cleanup();
    }, 120_000);

    it('exec reports output and the exit code', async () => {
      const s = io();
      const session = await rt.exec(containerId, ['sh', '-c', 'echo out; exit 3'], s.io);
      expect(await session.done).toBe(3);
      expect(s.out()).toBe('out\n');
      const ok = io();
      expect(await (await rt.exec(containerId, ['sh', '-c', 'exit 0'], ok.io)).done).toBe(0);
    });

    it('exec copies stdin until the client closes it', async () => {
      const stdin = new PassThrough();
      const s = io({ stdin });
      const session = await rt.exec(containerId, ['cat'], s.io);
      stdin.write('hello ');
      stdin.end('world');
      expect(await session.done).toBe(0);
      expect(s.out()).toBe('hello world');
    });

    it('exec in a missing container is NOT_FOUND, in a stopped one INVALID', async () => {
      await expect(rt.exec('no-such-container-0123', ['true'], io().io)).rejects.toSatisfy((e: unknown) => hasCode(e, 'NOT_FOUND'));
      const sb = sandboxConfig('streaming-stopped', labels);
      const sid = await rt.runPodSandbox(sb);
      const cid = await rt.createContainer(sid, containerConfig('c', sb, labels, { command: ['sh', '-c', 'exit 0'] }), sb);
      await rt.startContainer(cid);
      await waitFor('container exited', async () => ((await rt.containerStatus(cid)).state === 'exited' ? true : undefined));
      await expect(rt.exec(cid, ['true'], io().io)).rejects.toSatisfy((e: unknown) => hasCode(e, 'INVALID'));
      await expect(rt.attach(cid, io().io)).rejects.toSatisfy((e: unknown) => hasCode(e, 'INVALID'));
      await rt.removePodSandbox(sid);
    }, 30_000);

    it('an aborted exec ends its session (and its process)', async () => {
      const s = io();
      const session = await rt.exec(containerId, ['sleep', '4242'], s.io);
      s.abort();
      await expect(session.done).rejects.toBeDefined();
      if (opts.realKernel && opts.killsAbortedExec) {
        // Killed at once (Docker through its host PID, containerd through Tasks.Kill).
        await waitFor('exec process gone', async () => {
          const ps = io();
          await (await rt.exec(containerId, ['ps'], ps.io)).done;
          return ps.out().includes('4242') ? undefined : true;
        }, 30_000);
      }
    }, 45_000);

    it('attach streams stdin of PID 1 and ends on abort', async () => {
      const stdin = new PassThrough();
      const s = io({ stdin });
      const session = await rt.attach(containerId, s.io);
      s.abort();
      await expect(session.done).rejects.toBeDefined();
    });

    it('port-forward reaches a port bound only on the pod loopback; a closed port fails', async () => {
      await opts.serveHttp(rt, sandboxId, 7080, 'contract-body');
      const roundTrip = async (port: number): Promise<string> => {
        const toPod = new PassThrough();
        const fromPod = sinkText();
        const stream = Duplex.from({ readable: toPod, writable: fromPod.stream });
        toPod.end('GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n');
        await rt.portForward(sandboxId, port, stream, new AbortController().signal);
        return fromPod.text();
      };
      const answer = await waitFor('http answer', async () => {
        const text = await roundTrip(7080).catch(() => '');
        return text.includes('contract-body') ? text : undefined;
      });
      expect(answer).toMatch(/^HTTP\/1\.[01] 200/);
      // A closed port never answers: the runtime reports the dial error (containerd's streaming server may, on a
      // loaded machine, close the streams before its error frame arrives; then the forward ends empty).
      const closed = await roundTrip(7099).then((t) => t, () => 'rejected');
      expect(closed === 'rejected' || closed === '').toBe(true);
    }, 30_000);

    if (opts.realKernel) {
      it('exec separates stderr, and a TTY takes the size it is resized to', async () => {
        const s = io();
        expect(await (await rt.exec(containerId, ['sh', '-c', 'echo out; echo err >&2'], s.io)).done).toBe(0);
        expect(s.out()).toBe('out\n');
        expect(s.err()).toBe('err\n');
        // As `kubectl exec -it`: a terminal with stdin (containerd attaches no terminal output without it).
        const t = io({ tty: true, stdin: new PassThrough() });
        delete t.io.stderr;
        const session = await rt.exec(containerId, ['sh', '-c', 'sleep 1; stty size'], t.io);
        session.resize({ width: 91, height: 23 });
        expect(await session.done).toBe(0);
        expect(t.out()).toContain('23 91');
      }, 30_000);
    }
  });
}
