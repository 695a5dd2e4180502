/**
 * ContainerStreaming contract on a PRIVATE containerd (scripts/ensure-containerd.sh; bridge nl2ctr0 on
 * 10.214.2.0/25): exec, attach and port-forward go through the CRI Exec/Attach/PortForward URLs of containerd's
 * streaming server, which nodelet reaches as a SPDY/3.1 client (src/spdy).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runStreamingContract } from '../../src/cri/contract-streaming.js';
import { containerConfig, sandboxConfig } from '../../src/cri/contract-fixtures.js';
import { CriRuntime } from '../../src/cri/containerd/index.js';
import { containerdMissing, startPrivateContainerd, type PrivateContainerd } from '../../src/cri/containerd/testing.js';

const TEST_LABEL = { key: 'io.nodelet.test', value: 'cri-containerd-streaming' };
const missing = containerdMissing();
let instance: PrivateContainerd | undefined;

if (missing !== undefined) {
  describe('ContainerStreaming on containerd', () => {
    it.skip(`skipped: ${missing}`, () => undefined);
  });
} else {
  beforeAll(async () => {
    instance = await startPrivateContainerd({ bridge: 'nl2ctr0', subnet: '10.214.2.0/25' });
  }, 120_000);
  afterAll(async () => {
    await instance?.stop();
  }, 60_000);

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
      killsAbortedExec: false,
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
