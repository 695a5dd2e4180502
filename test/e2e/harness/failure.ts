import { onTestFailed } from 'vitest';
import type { Cluster } from './cluster.js';
import type { NodeletProcess } from './nodelet.js';

/**
 * Call inside a test (or beforeEach): when the test fails, prints the tail of each nodelet log and the cluster's
 * pods, nodes and events, so CI output shows why.
 */
export function dumpOnFailure(cluster: Cluster, processes: () => NodeletProcess[] = () => []): void {
  onTestFailed(async () => {
    for (const p of processes()) {
      const lines = p.logs().split('\n');
      console.error(`--- ${p.logPath} (last 80 lines)\n${lines.slice(-80).join('\n')}`);
    }
    for (const args of [['get', 'nodes,pods,svc,endpointslices', '-A', '-o', 'wide'], ['get', 'events', '-A']]) {
      const r = await cluster.kubectl(args).catch((e: unknown) => ({ stdout: '', stderr: String(e), code: 1 }));
      console.error(`--- kubectl ${args.join(' ')}\n${r.stdout}${r.stderr}`);
    }
  });
}
