/**
 * Checks that `/stats/summary` and `/metrics/resource` bodies carry what metrics-server reads, in the upstream types
 * (statsapi.Summary of k8s.io/kubelet/pkg/apis/stats/v1alpha1; the resource metrics of
 * pkg/kubelet/metrics/collectors/resource_metrics.go): the node and every pod of a namespace with CPU and memory.
 * Pure functions: they return the problems found (empty = valid).
 */

interface Cpu {
  usageNanoCores?: number;
  usageCoreNanoSeconds?: number;
}
interface Mem {
  workingSetBytes?: number;
  usageBytes?: number;
}
interface SummaryLike {
  node?: { nodeName?: string; cpu?: Cpu; memory?: Mem; systemContainers?: { name?: string }[] };
  pods?: { podRef?: { name?: string; namespace?: string; uid?: string }; cpu?: Cpu; memory?: Mem; containers?: { name?: string; cpu?: Cpu; memory?: Mem }[] }[];
}

/** What a valid Summary held. */
export interface SummaryCheck {
  problems: string[];
  /** Pods of the namespace found. */
  pods: number;
  /** Of them, pods whose CPU has a rate (usageNanoCores). */
  podsWithRate: number;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Validates a `/stats/summary` body: node `nodeName` with CPU and memory, `pods` pods of `ns` each with CPU, memory and a `container` with both. */
export function checkSummary(body: string, o: { nodeName: string; ns: string; pods: number; container: string }): SummaryCheck {
  const problems: string[] = [];
  let s: SummaryLike;
  try {
    s = JSON.parse(body) as SummaryLike;
  } catch (err) {
    return { problems: [`not JSON: ${err instanceof Error ? err.message : String(err)}`], pods: 0, podsWithRate: 0 };
  }
  if (s.node?.nodeName !== o.nodeName) problems.push(`node.nodeName ${String(s.node?.nodeName)}`);
  if (!isNum(s.node?.cpu?.usageCoreNanoSeconds)) problems.push('node.cpu.usageCoreNanoSeconds missing');
  if (!isNum(s.node?.memory?.workingSetBytes)) problems.push('node.memory.workingSetBytes missing');
  const mine = (s.pods ?? []).filter((p) => p.podRef?.namespace === o.ns);
  if (mine.length !== o.pods) problems.push(`${mine.length} pods of ${o.ns}, expected ${o.pods}`);
  let podsWithRate = 0;
  for (const p of mine) {
    const name = p.podRef?.name ?? '?';
    if (typeof p.podRef?.uid !== 'string' || p.podRef.uid === '') problems.push(`${name}: no podRef.uid`);
    if (!isNum(p.cpu?.usageCoreNanoSeconds)) problems.push(`${name}: cpu.usageCoreNanoSeconds missing`);
    if (!isNum(p.memory?.workingSetBytes)) problems.push(`${name}: memory.workingSetBytes missing`);
    if (isNum(p.cpu?.usageNanoCores)) podsWithRate++;
    const c = (p.containers ?? []).find((x) => x.name === o.container);
    if (c === undefined) problems.push(`${name}: no container ${o.container}`);
    else if (!isNum(c.cpu?.usageCoreNanoSeconds) || !isNum(c.memory?.workingSetBytes)) problems.push(`${name}/${o.container}: cpu or memory missing`);
  }
  return { problems: problems.slice(0, 10), pods: mine.length, podsWithRate };
}

/** Validates a `/metrics/resource` body: node samples, and one sample per pod (and per container) of `ns` for each family. */
export function checkResourceMetrics(body: string, o: { ns: string; pods: number }): string[] {
  const problems: string[] = [];
  const count = new Map<string, number>();
  let scrapeError: string | undefined;
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? '';
    if (name === 'resource_scrape_error') scrapeError = line.split(' ')[1];
    const key = line.includes(`namespace="${o.ns}"`) ? `${name}@ns` : name;
    count.set(key, (count.get(key) ?? 0) + 1);
  }
  for (const n of ['node_cpu_usage_seconds_total', 'node_memory_working_set_bytes']) if ((count.get(n) ?? 0) !== 1) problems.push(`${n}: ${count.get(n) ?? 0} samples`);
  for (const n of ['container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', 'container_start_time_seconds', 'pod_cpu_usage_seconds_total', 'pod_memory_working_set_bytes']) {
    if ((count.get(`${n}@ns`) ?? 0) !== o.pods) problems.push(`${n}: ${count.get(`${n}@ns`) ?? 0} samples in ${o.ns}, expected ${o.pods}`);
  }
  if (scrapeError !== '0') problems.push(`resource_scrape_error ${String(scrapeError)}`);
  return problems;
}
