/** Facts about the machine a benchmark ran on, recorded with every result (the machine is shared). */
import os from 'node:os';

/** Machine facts at one moment. */
export interface MachineFacts {
  date: string;
  cpuModel: string;
  nproc: number;
  memGiB: number;
  kernel: string;
  node: string;
  load: [number, number, number];
}

/** The 1/5/15-minute load averages formatted as `a b c`. */
export function loadText(load: readonly number[] = os.loadavg()): string {
  return load.map((l) => l.toFixed(2)).join(' ');
}

/** Reads nproc (CPUs this process may use), memory, kernel, Node version and the load average now. */
export function machineFacts(): MachineFacts {
  const cpus = os.cpus();
  const l = os.loadavg();
  return {
    date: new Date().toISOString(),
    cpuModel: (cpus[0]?.model ?? 'unknown CPU').trim(),
    nproc: os.availableParallelism(),
    memGiB: os.totalmem() / 2 ** 30,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    load: [l[0] ?? 0, l[1] ?? 0, l[2] ?? 0],
  };
}

/** One line describing the machine, e.g. for the docs. */
export function machineLine(m: MachineFacts): string {
  return `${m.date} on ${m.cpuModel} (nproc ${m.nproc}), ${m.memGiB.toFixed(1)} GiB RAM, ${m.kernel}, Node ${m.node}; load average at start ${loadText(m.load)}`;
}
