/**
 * Contract cases that need real processes in real namespaces (run only with `realKernel: true`): they look at the
 * pod from inside through exec. Test-only.
 */
import { readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ContractContext } from './contract.js';
import { containerConfig, sandboxConfig } from './contract-fixtures.js';
import type { NamespaceOptions } from './types.js';

/** Registers the namespace cases. */
export function kernelCases(ctx: ContractContext): void {
  const startPod = async (
    name: string,
    namespaceOptions: NamespaceOptions,
    count = 1,
  ): Promise<{ ids: string[]; sandboxId: string }> => {
    const sb = sandboxConfig(name, ctx.labels, { namespaceOptions });
    const sandboxId = await ctx.runtime.runPodSandbox(sb);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const cfg = containerConfig(`c${i}`, sb, ctx.labels);
      cfg.linux.securityContext.namespaceOptions = namespaceOptions;
      const id = await ctx.runtime.createContainer(sandboxId, cfg, sb);
      await ctx.runtime.startContainer(id);
      ids.push(id);
    }
    return { ids, sandboxId };
  };
  const sh = async (id: string, script: string): Promise<string> => {
    const r = await ctx.runtime.execSync(id, ['sh', '-c', script], 10);
    expect(r.exitCode, r.stderr).toBe(0);
    return r.stdout.trim();
  };

  describe('namespaces (real kernel)', () => {
    it('shares network and IPC between the containers of a pod; hostname = pod hostname', async () => {
      const { ids } = await startPod('ns-pod', { network: 'pod', pid: 'container', ipc: 'pod' }, 2);
      const [a, b] = ids as [string, string];
      // Docker gives joined containers the sandbox's hostname but their own UTS namespace, so compare names only.
      expect(await sh(a, 'hostname')).toBe('ns-pod');
      expect(await sh(b, 'hostname')).toBe('ns-pod');
      for (const ns of ['net', 'ipc']) {
        expect(await sh(a, `readlink /proc/self/ns/${ns}`)).toBe(await sh(b, `readlink /proc/self/ns/${ns}`));
      }
      // Without pid=pod each container is PID 1 of its own namespace.
      expect(await sh(a, 'cat /proc/1/cmdline | tr "\\0" " "')).toMatch(/^sleep infinity/);
    });

    it('shares the PID namespace with the pause process when pid = pod', async () => {
      const { ids } = await startPod('ns-pid', { network: 'pod', pid: 'pod', ipc: 'pod' }, 2);
      const [a, b] = ids as [string, string];
      expect(await sh(a, 'cat /proc/1/cmdline | tr "\\0" " "')).toMatch(/^\/pause/);
      expect(await sh(a, 'readlink /proc/self/ns/pid')).toBe(await sh(b, 'readlink /proc/self/ns/pid'));
      expect(await sh(b, 'ps -o args | grep -c "^sleep infinity"')).toBe('2');
    });

    it('runs containers of a host-network pod in the node network namespace', async () => {
      const { ids } = await startPod('ns-host', { network: 'node', pid: 'container', ipc: 'node' });
      expect(await sh(ids[0] ?? '', 'readlink /proc/self/ns/net')).toBe(readlinkSync('/proc/self/ns/net'));
    });
  });
}
