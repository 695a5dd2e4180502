/**
 * ContainerStreaming contract on a PRIVATE containerd (scripts/ensure-containerd.sh; bridge nl2ctr0 on
 * 10.214.2.0/25): exec and attach go through the CRI Exec/Attach URLs of containerd's streaming server, which nodelet
 * reaches as a SPDY/3.1 client (src/spdy); port-forward connects inside the sandbox's netns (its file from the verbose
 * sandbox status) through src/cri/netns.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStreamingContract } from '../../src/cri/contract-streaming.js';
import { containerConfig, sandboxConfig, waitFor } from '../../src/cri/contract-fixtures.js';
import { CriRuntime } from '../../src/cri/containerd/index.js';
import { containerdMissing, ctr, startPrivateContainerd, type PrivateContainerd } from '../../src/cri/containerd/testing.js';

const TEST_LABEL = { key: 'io.nodelet.test', value: 'cri-containerd-streaming' };
const missing = containerdMissing();
let instance: PrivateContainerd | undefined;

if (missing !== undefined) {
  describe('ContainerStreaming on containerd', () => {
    it.skip(`skipped: ${missing}`, () => undefined);
  });
} else {
  beforeAll(async () => {
    // NL_CTR_STREAMING_BRIDGE/SUBNET let a second engineer run this file next to the first without sharing a bridge.
    instance = await startPrivateContainerd({ bridge: process.env.NL_CTR_STREAMING_BRIDGE ?? 'nl2ctr0', subnet: process.env.NL_CTR_STREAMING_SUBNET ?? '10.214.2.0/25' });
  }, 120_000);
  afterAll(async () => {
    await instance?.stop();
  }, 120_000);

  runStreamingContract(
    'CriRuntime (containerd)',
    async () => {
      if (instance === undefined) throw new Error('containerd is not running');
      return {
        runtime: new CriRuntime({ socketPath: instance.socketPath, podLogsRoot: join(instance.dir, 'pods'), eventPollIntervalMs: 200 }),
        cleanup: async () => undefined,
      };
    },
    {
      testLabel: TEST_LABEL,
      realKernel: true,
      killsAbortedExec: true, // through containerd's Tasks service (src/cri/containerd/exec-reaper.ts)
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
}

/** Host-side view of the exec processes of a container (ctr task ps), as "execId pid" lines. */
async function execsOf(socketPath: string, containerId: string): Promise<string[]> {
  const out = await ctr(socketPath, ['task', 'ps', containerId]);
  return out.split('\n').filter((l) => l.includes('ExecID:')).map((l) => l.trim());
}

if (missing === undefined) {
  describe('aborted execs on containerd: the right process is killed, at once', () => {
    let rt: CriRuntime;
    let sandboxId = '';
    let containerId = '';
    const labels = { [TEST_LABEL.key]: `${TEST_LABEL.value}-reaper` };
    const sink = (): { stream: Writable; text: () => string } => {
      let t = '';
      return { stream: new Writable({ write: (c: Buffer, _e, cb) => ((t += c.toString()), cb()) }), text: () => t };
    };
    const start = async (cmd: string[]): Promise<{ abort: () => void; done: Promise<unknown> }> => {
      const c = new AbortController();
      const o = sink();
      const s = await rt.exec(containerId, cmd, { tty: false, stdout: o.stream, stderr: o.stream, signal: c.signal });
      s.done.catch(() => undefined);
      return { abort: () => c.abort(), done: s.done };
    };
    const running = async (pattern: string): Promise<number> => {
      const o = sink();
      await (await rt.exec(containerId, ['ps', '-o', 'args'], { tty: false, stdout: o.stream, signal: new AbortController().signal })).done;
      return o.text().split('\n').filter((l) => l.trim() === pattern).length;
    };

    beforeAll(async () => {
      if (instance === undefined) throw new Error('containerd is not running');
      rt = new CriRuntime({ socketPath: instance.socketPath, podLogsRoot: join(instance.dir, 'pods'), eventPollIntervalMs: 200 });
      const sb = sandboxConfig('reaper', labels);
      sandboxId = await rt.runPodSandbox(sb);
      containerId = await rt.createContainer(sandboxId, containerConfig('main', sb, labels, { command: ['sleep', '100000'] }), sb);
      await rt.startContainer(containerId);
    }, 60_000);
    afterAll(async () => {
      await rt?.removePodSandbox(sandboxId).catch(() => undefined);
      await rt?.close();
    }, 60_000);

    it('kills the aborted one of two identical execs and leaves the other running', async () => {
      const a = await start(['sleep', '4343']);
      await waitFor('first exec running', async () => ((await running('sleep 4343')) === 1 ? true : undefined));
      const b = await start(['sleep', '4343']);
      await waitFor('second exec running', async () => ((await running('sleep 4343')) === 2 ? true : undefined));
      const t0 = Date.now();
      a.abort();
      await expect(a.done).rejects.toBeDefined();
      // done rejects only after the kill: the process is gone within moments, not ≈ 10 s+.
      await waitFor('one left', async () => ((await running('sleep 4343')) === 1 ? true : undefined), 3_000);
      expect(Date.now() - t0).toBeLessThan(3_000);
      b.abort();
      await expect(b.done).rejects.toBeDefined();
      await waitFor('none left', async () => ((await running('sleep 4343')) === 0 ? true : undefined), 3_000);
      expect(await execsOf(instance!.socketPath, containerId)).toEqual([]);
    }, 45_000);

    it('kills a shell that exec-ed another program (its command line changed)', async () => {
      const a = await start(['sh', '-c', 'exec sleep 4444']);
      await waitFor('exec running', async () => ((await running('sleep 4444')) === 1 ? true : undefined));
      a.abort();
      await expect(a.done).rejects.toBeDefined();
      await waitFor('gone', async () => ((await running('sleep 4444')) === 0 ? true : undefined), 3_000);
    }, 30_000);

    it('frees every session of many aborted execs (no process left behind)', async () => {
      const sessions = await Promise.all(Array.from({ length: 20 }, (_v, i) => start(['sleep', String(5000 + i)])));
      await waitFor('all running', async () => ((await execsOf(instance!.socketPath, containerId)).length === 20 ? true : undefined), 20_000);
      for (const s of sessions) s.abort();
      await Promise.all(sessions.map((s) => s.done.catch(() => undefined)));
      await waitFor('all gone', async () => ((await execsOf(instance!.socketPath, containerId)).length === 0 ? true : undefined), 5_000);
    }, 60_000);
  });
}
