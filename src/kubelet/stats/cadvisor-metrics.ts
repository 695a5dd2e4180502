/**
 * `/metrics/cadvisor`: cAdvisor's per-cgroup metrics as the kubelet serves them, with cAdvisor's label set
 * (container, id, image, name, namespace, pod; plus cpu/interface/device where cAdvisor has them). Rows: the machine
 * (`id="/"`), each pod sandbox (the pod's network lives there; `container=""`, as with containerd) and each running
 * container. Help texts and types are cAdvisor's; samples carry the reading's timestamp.
 */
import type { CgroupStats } from './cgroup.js';
import type { StatsSnapshot } from './collect.js';
import { renderFamilies, type Family, type Sample } from './expfmt.js';
import type { InterfaceCounters } from './net.js';

/** How containers are named in the `name` label: Docker's `k8s_…` names, or the ID (containerd). */
export type CadvisorNaming = 'docker' | 'cri';

interface Row {
  labels: Record<string, string>;
  stats: CgroupStats | undefined;
  startMs: number | undefined;
  network: InterfaceCounters[] | undefined;
  fs: { device: string; usage: number; limit: number } | undefined;
}

/** Renders `/metrics/cadvisor` from a snapshot. `rootDevice` names the node's root-dir file system. */
export function renderCadvisorMetrics(s: StatsSnapshot, naming: CadvisorNaming, rootDevice: string): string {
  const rows: Row[] = [];
  const n = s.node;
  rows.push({
    labels: { container: '', id: '/', image: '', name: '', namespace: '', pod: '' },
    stats: n.stats,
    startMs: n.bootTimeMs,
    network: n.network,
    fs: n.rootFs === undefined ? undefined : { device: rootDevice, usage: n.rootFs.usedBytes, limit: n.rootFs.capacityBytes },
  });
  for (const p of s.pods) {
    if (p.podCgroup !== undefined) {
      rows.push({ labels: { container: '', id: p.podCgroup, image: '', name: '', namespace: p.namespace, pod: p.name }, stats: p.podStats, startMs: p.startTimeMs, network: undefined, fs: undefined });
    }
    const sbName = naming === 'docker' ? `k8s_POD_${p.name}_${p.namespace}_${p.uid}_0` : p.sandboxId;
    if (p.sandboxCgroup !== undefined) {
      rows.push({
        labels: { container: naming === 'docker' ? 'POD' : '', id: p.sandboxCgroup, image: '', name: sbName, namespace: p.namespace, pod: p.name },
        stats: p.sandboxStats,
        startMs: p.startTimeMs,
        network: p.network,
        fs: undefined,
      });
    }
    for (const c of p.containers) {
      if (c.cgroup === undefined) continue;
      const name = naming === 'docker' ? `k8s_${c.name}_${p.name}_${p.namespace}_${p.uid}_${c.attempt}` : c.id;
      rows.push({ labels: { container: c.name, id: c.cgroup, image: c.image, name, namespace: p.namespace, pod: p.name }, stats: c.stats, startMs: c.createdAtMs, network: undefined, fs: undefined });
    }
  }
  const fam = (name: string, help: string, type: 'counter' | 'gauge'): Family & { samples: Sample[] } => ({ name, help, type, samples: [] });
  const cpu = fam('container_cpu_usage_seconds_total', 'Cumulative cpu time consumed in seconds.', 'counter');
  const memUsage = fam('container_memory_usage_bytes', 'Current memory usage in bytes, including all memory regardless of when it was accessed', 'gauge');
  const memWs = fam('container_memory_working_set_bytes', 'Current working set in bytes.', 'gauge');
  const memRss = fam('container_memory_rss', 'Size of RSS in bytes.', 'gauge');
  const memLimit = fam('container_spec_memory_limit_bytes', 'Memory limit for the container.', 'gauge');
  const pf = fam('container_memory_failures_total', 'Cumulative count of memory allocation failures.', 'counter');
  const start = fam('container_start_time_seconds', 'Start time of the container since unix epoch in seconds.', 'gauge');
  const lastSeen = fam('container_last_seen', 'Last time a container was seen by the exporter', 'gauge');
  const procs = fam('container_processes', 'Number of processes running inside the container.', 'gauge');
  const rxB = fam('container_network_receive_bytes_total', 'Cumulative count of bytes received', 'counter');
  const txB = fam('container_network_transmit_bytes_total', 'Cumulative count of bytes transmitted', 'counter');
  const rxP = fam('container_network_receive_packets_total', 'Cumulative count of packets received', 'counter');
  const txP = fam('container_network_transmit_packets_total', 'Cumulative count of packets transmitted', 'counter');
  const rxE = fam('container_network_receive_errors_total', 'Cumulative count of errors encountered while receiving', 'counter');
  const txE = fam('container_network_transmit_errors_total', 'Cumulative count of errors encountered while transmitting', 'counter');
  const rxD = fam('container_network_receive_packets_dropped_total', 'Cumulative count of packets dropped while receiving', 'counter');
  const txD = fam('container_network_transmit_packets_dropped_total', 'Cumulative count of packets dropped while transmitting', 'counter');
  const fsUsage = fam('container_fs_usage_bytes', 'Number of bytes that are consumed by the container on this filesystem.', 'gauge');
  const fsLimit = fam('container_fs_limit_bytes', 'Number of bytes that can be consumed by the container on this filesystem.', 'gauge');
  const t = s.atMs;
  for (const r of rows) {
    const l = r.labels;
    lastSeen.samples.push({ labels: l, value: Math.floor(t / 1000), timestampMs: t });
    if (r.startMs !== undefined) start.samples.push({ labels: l, value: r.startMs / 1000, timestampMs: t });
    const st = r.stats;
    if (st?.cpuUsageNanos !== undefined) cpu.samples.push({ labels: { ...l, cpu: 'total' }, value: st.cpuUsageNanos / 1e9, timestampMs: t });
    if (st?.memory !== undefined) {
      memUsage.samples.push({ labels: l, value: st.memory.usageBytes, timestampMs: t });
      memWs.samples.push({ labels: l, value: st.memory.workingSetBytes, timestampMs: t });
      memRss.samples.push({ labels: l, value: st.memory.rssBytes, timestampMs: t });
      memLimit.samples.push({ labels: l, value: st.memory.limitBytes ?? 0, timestampMs: t });
      for (const scope of ['container', 'hierarchy']) {
        pf.samples.push({ labels: { ...l, failure_type: 'pgfault', scope }, value: st.memory.pageFaults, timestampMs: t });
        pf.samples.push({ labels: { ...l, failure_type: 'pgmajfault', scope }, value: st.memory.majorPageFaults, timestampMs: t });
      }
    }
    if (st?.pids !== undefined) procs.samples.push({ labels: l, value: st.pids, timestampMs: t });
    for (const i of r.network ?? []) {
      const il = { ...l, interface: i.name };
      rxB.samples.push({ labels: il, value: i.rxBytes, timestampMs: t });
      txB.samples.push({ labels: il, value: i.txBytes, timestampMs: t });
      rxP.samples.push({ labels: il, value: i.rxPackets, timestampMs: t });
      txP.samples.push({ labels: il, value: i.txPackets, timestampMs: t });
      rxE.samples.push({ labels: il, value: i.rxErrors, timestampMs: t });
      txE.samples.push({ labels: il, value: i.txErrors, timestampMs: t });
      rxD.samples.push({ labels: il, value: i.rxDropped, timestampMs: t });
      txD.samples.push({ labels: il, value: i.txDropped, timestampMs: t });
    }
    if (r.fs !== undefined) {
      fsUsage.samples.push({ labels: { ...l, device: r.fs.device }, value: r.fs.usage, timestampMs: t });
      fsLimit.samples.push({ labels: { ...l, device: r.fs.device }, value: r.fs.limit, timestampMs: t });
    }
  }
  return renderFamilies([cpu, memUsage, memWs, memRss, memLimit, pf, start, lastSeen, procs, rxB, txB, rxP, txP, rxE, txE, rxD, txD, fsUsage, fsLimit]);
}

/** The device of the mount holding `path`, from /proc/self/mounts (longest mount-point prefix). */
export function deviceOf(mounts: string | undefined, path: string): string {
  let best = { mp: '', dev: '' };
  for (const line of (mounts ?? '').split('\n')) {
    const [dev, mp] = line.split(' ');
    if (dev === undefined || mp === undefined) continue;
    const inside = mp === '/' || path === mp || path.startsWith(`${mp}/`);
    if (inside && mp.length >= best.mp.length) best = { mp, dev };
  }
  return best.dev;
}
