/**
 * The shared runtime contract (src/cri/contract.ts) against a PRIVATE containerd 1.6 speaking CRI v1
 * (scripts/ensure-containerd.sh: own root, state, socket, CNI bridge nlctr0 on 10.213.140.0/24, images copied from
 * the shared Docker engine). The instance is started in beforeAll and stopped by PID afterwards, also on failure.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { runRuntimeContract } from '../../src/cri/contract.js';
import { CriRuntime } from '../../src/cri/containerd/index.js';
import { containerdMissing, importTinyImage, startPrivateContainerd, type PrivateContainerd } from '../../src/cri/containerd/testing.js';

const TEST_LABEL = { key: 'io.nodelet.test', value: 'cri-containerd' };
const missing = containerdMissing();
let instance: PrivateContainerd | undefined;

if (missing !== undefined) {
  describe('ContainerRuntime contract: CriRuntime (containerd)', () => {
    it.skip(`skipped: ${missing}`, () => undefined);
  });
} else {
  runRuntimeContract(
    'CriRuntime (containerd)',
    async () => {
      instance = await startPrivateContainerd({ bridge: 'nlctr0', subnet: '10.213.140.0/24' });
      const inst = instance;
      const runtime = new CriRuntime({ socketPath: inst.socketPath, podLogsRoot: join(inst.dir, 'pods'), eventPollIntervalMs: 200 });
      return {
        runtime,
        cleanup: async () => {
          rmSync(join(inst.dir, 'pods'), { recursive: true, force: true });
          await inst.stop();
        },
      };
    },
    {
      testLabel: TEST_LABEL,
      runtimeName: 'containerd',
      realKernel: true,
      makeUnavailable: () => new CriRuntime({ socketPath: '/tmp/nodelet-no-such-containerd.sock' }),
      makeRemovableImage: async () => {
        if (instance === undefined) throw new Error('containerd is not running');
        return importTinyImage(instance.socketPath, 'localhost/nodelet/cri-contract-tmp:1');
      },
    },
  );
  // Safety net: the contract's own cleanup stops the instance; this covers a failure before the runtime existed.
  afterAll(async () => {
    await instance?.stop();
  });
}
