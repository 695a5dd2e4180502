/**
 * ContainerStreaming contract on the real Docker engine (shared engine, objects labelled and removed): exec with
 * exit codes, stdin, stderr and a resized TTY; attach; port-forward through a connection made in the sandbox's
 * network namespace to an httpd bound only to the pod's 127.0.0.1.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStreamingContract } from '../../src/cri/contract-streaming.js';
import { containerConfig, sandboxConfig, waitFor } from '../../src/cri/contract-fixtures.js';
import { DockerRuntime } from '../../src/cri/index.js';
import { NsenterDialer } from '../../src/cri/netns/index.js';
import { SpdyConnection, type SpdyStream } from '../../src/spdy/index.js';
import { createLogger } from '../../src/util/index.js';
import { dockerClient, removeLabelled, DOCKER_SOCKET } from '../support/docker.js';

const TEST_LABEL = { key: 'io.nodelet.test', value: 'cri-docker-streaming' };

runStreamingContract(
  'DockerRuntime',
  async () => {
    const docker = dockerClient();
    await removeLabelled(docker, TEST_LABEL.key, TEST_LABEL.value);
    return {
      runtime: new DockerRuntime({ socketPath: DOCKER_SOCKET }),
      cleanup: async () => {
        await removeLabelled(docker, TEST_LABEL.key, TEST_LABEL.value);
      },
    };
  },
  {
    testLabel: TEST_LABEL,
    realKernel: true,
    killsAbortedExec: true,
    serveHttp: async (runtime, sandboxId, port, body) => {
      const status = await runtime.podSandboxStatus(sandboxId);
      const sb = sandboxConfig(status.metadata.name, { [TEST_LABEL.key]: TEST_LABEL.value });
      sb.metadata = status.metadata;
      const script = `mkdir -p /www && printf '%s' '${body}' > /www/index.html && exec httpd -f -p 127.0.0.1:${port} -h /www`;
      const c = containerConfig(`httpd-${port}`, sb, { [TEST_LABEL.key]: TEST_LABEL.value }, { command: ['sh', '-c', script] });
      const id = await runtime.createContainer(sandboxId, c, sb);
      await runtime.startContainer(id);
    },
  },
);

/**
 * Port-forward on Docker through a real SPDY data stream (the path the kubelet API takes): a connection made inside
 * the pod's netns by a helper (src/cri/netns), read into reused buffers that reach the SPDY socket borrowed (no
 * copy). The bytes must arrive intact and in order, and an aborted forward must leave no socket, fd or helper behind.
 */
describe('DockerRuntime port-forward over SPDY', () => {
  const label = { key: TEST_LABEL.key, value: 'cri-docker-portforward' };
  const labels = { [label.key]: label.value };
  const logger = createLogger({ level: 'silent' });
  let rt: DockerRuntime;
  let sandboxId = '';

  beforeAll(async () => {
    await removeLabelled(dockerClient(), label.key, label.value);
    rt = new DockerRuntime({ socketPath: DOCKER_SOCKET, netnsDialer: new NsenterDialer({ idleMs: 300 }) });
    const sb = sandboxConfig('pf', labels);
    sandboxId = await rt.runPodSandbox(sb);
    // A counter file (bytes whose order is visible) and a sparse 1 GiB file, served on the pod's loopback only.
    const script = 'mkdir -p /www && seq 1 1000000 > /www/seq && truncate -s 1073741824 /www/big && exec httpd -f -p 127.0.0.1:7181 -h /www';
    const c = containerConfig('httpd', sb, labels, { command: ['sh', '-c', script] });
    const id = await rt.createContainer(sandboxId, c, sb);
    await rt.startContainer(id);
  }, 60_000);

  afterAll(async () => {
    await rt?.removePodSandbox(sandboxId).catch(() => undefined);
    await rt?.close();
    await removeLabelled(dockerClient(), label.key, label.value);
  }, 60_000);

  /**
   * A server SPDY connection forwarding every data stream through `rt`, and a client connection to it, over real
   * loopback TCP: a buffer handed back to the read pool while the socket still held it would show up as corruption.
   */
  const spdyPair = async (signal: AbortSignal): Promise<{ client: SpdyConnection; forwards: Promise<unknown>[] }> => {
    const forwards: Promise<unknown>[] = [];
    const server = createServer((socket) => {
      server.close();
      new SpdyConnection(socket, {
        logger,
        onStream: (s) => {
          s.on('error', () => undefined);
          forwards.push(rt.portForward(sandboxId, Number(s.headers['port']), s, signal).finally(() => s.end()));
        },
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    return { client: new SpdyConnection(socket, { logger, onStream: (s) => s.reset() }), forwards };
  };

  const get = (client: SpdyConnection, path: string): SpdyStream => {
    const data = client.openStream({ streamtype: 'data', port: '7181', requestid: '1' });
    data.end(`GET ${path} HTTP/1.0\r\nHost: x\r\n\r\n`);
    return data;
  };

  it('carries a response byte for byte, in order', async () => {
    const { client } = await spdyPair(new AbortController().signal);
    const expected = `${Array.from({ length: 1_000_000 }, (_, i) => String(i + 1)).join('\n')}\n`;
    const body = await waitFor('the counter file', async () => {
      const chunks: Buffer[] = [];
      const data = get(client, '/seq');
      // Read only after a while, so that the server's socket holds written-but-unsent frames.
      setTimeout(() => data.on('data', (d: Buffer) => chunks.push(d)), 500);
      await new Promise((r) => data.once('close', r));
      const text = Buffer.concat(chunks).toString('latin1');
      return /^HTTP\/1\.[01] 200/.test(text) ? text : undefined;
    });
    expect(body.slice(body.indexOf('\r\n\r\n') + 4) === expected).toBe(true);
    client.close();
  }, 60_000);

  it('an aborted forward leaves no socket, fd or helper process behind', async () => {
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const helpers = (): number =>
      readdirSync('/proc').filter((p) => /^\d+$/.test(p) && readFileOr(`/proc/${p}/cmdline`).includes('/proc/self/ns/net') && readFileOr(`/proc/${p}/stat`).split(') ')[1]?.split(' ')[1] === String(process.pid)).length;
    const before = fds();
    for (let i = 0; i < 5; i++) {
      const controller = new AbortController();
      const { client, forwards } = await spdyPair(controller.signal);
      const data = get(client, '/big');
      // Read a little of the 1 GiB, then drop the client in the middle of the transfer.
      await new Promise<void>((resolve) => {
        let n = 0;
        data.on('data', (d: Buffer) => {
          n += d.length;
          if (n > 4 * 2 ** 20) resolve();
        });
      });
      if (i % 2 === 0) client.close();
      else controller.abort();
      await Promise.allSettled(forwards);
      client.close();
    }
    await waitFor('helper gone and fds released', async () => (helpers() === 0 && fds() <= before ? true : undefined));
  }, 60_000);
});

function readFileOr(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}
