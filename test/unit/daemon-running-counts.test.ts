import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDaemon } from '../../src/cli/daemon.js';
import { resolveConfig } from '../../src/config/index.js';
import { containerConfig, sandboxConfig } from '../../src/cri/contract-fixtures.js';
import { FakeRuntime } from '../../src/cri/index.js';
import { ownerLabels } from '../../src/kubelet/pods/index.js';
import { silentLogger } from '../../src/util/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'nl6-counts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A ready sandbox with one running container, labelled as agent `node` made it. */
async function podOf(rt: FakeRuntime, node: string, name: string): Promise<void> {
  const sb = sandboxConfig(name, ownerLabels(node));
  const sbId = await rt.runPodSandbox(sb);
  const id = await rt.createContainer(sbId, containerConfig('c', sb, ownerLabels(node)), sb);
  await rt.startContainer(id);
}

describe('kubelet_running_pods / kubelet_running_containers through the daemon', () => {
  it('count only this agent\'s own pods and containers, not those of other agents on the same engine', async () => {
    const runtime = new FakeRuntime();
    await podOf(runtime, 'nl6-me', 'mine');
    await podOf(runtime, 'nl6-other', 'theirs-1');
    await podOf(runtime, 'nl6-other', 'theirs-2');
    const config = resolveConfig({ flags: { 'root-dir': join(dir, 'root'), 'healthz-port': '20620', 'hostname-override': 'nl6-me', 'fail-swap-on': 'false', roles: 'kubelet' }, hostname: 'x', readConfig: () => [] as never });
    const daemon = await startDaemon(config, { createRuntime: () => runtime }, silentLogger(), 0);
    try {
      const body = await (await fetch(`http://127.0.0.1:${daemon.healthPort}/metrics`)).text();
      expect(body).toContain('kubelet_running_pods 1');
      expect(body).toContain('kubelet_running_containers{container_state="running"} 1');
    } finally {
      await daemon.shutdown('test');
    }
  });
});
