/** Sandbox housekeeping of the benchmarks that run agents on a private containerd (test-only code). */
import { CriRuntime } from '../../src/cri/containerd/index.js';

/** How many ready sandboxes the containerd at `socketPath` has. */
export async function readySandboxes(socketPath: string): Promise<number> {
  const rt = new CriRuntime({ socketPath });
  try {
    return (await rt.listPodSandboxes({ state: 'ready' })).length;
  } finally {
    await rt.close();
  }
}

/** Stops and removes every sandbox (containerd runs CNI DEL); returns their ids. Never throws for one sandbox. */
export async function removeSandboxes(socketPath: string): Promise<string[]> {
  const ids: string[] = [];
  const rt = new CriRuntime({ socketPath });
  try {
    for (const s of await rt.listPodSandboxes().catch(() => [])) {
      ids.push(s.id);
      await rt.stopPodSandbox(s.id).catch(() => undefined);
      await rt.removePodSandbox(s.id).catch(() => undefined);
    }
  } finally {
    await rt.close();
  }
  return ids;
}
