/**
 * Reading the host: memory, filesystem of the root dir, process ids, identity (machine-id, boot_id, product_uuid),
 * OS and kernel, and the default-route address. The {@link HostReader} seam lets node status be tested with fixed
 * readings.
 */
import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import { goArch, parseDefaultRouteInterface, parseLoadAvgTasks, parseMemInfo, parseOsImage, type MemInfo } from './host-parse.js';

/** Filesystem figures of the root dir's filesystem, in bytes / inodes. */
export interface FsInfo {
  capacityBytes: number;
  availableBytes: number;
  inodes: number;
  inodesFree: number;
}

/** Process id figures. */
export interface PidInfo {
  /** Tasks (processes and threads) that exist now, from /proc/loadavg as upstream counts them against pid_max. */
  running: number;
  /** kernel.pid_max. */
  max: number;
}

/** Facts about the host that do not change while nodelet runs. */
export interface HostIdentity {
  hostname: string;
  machineID: string;
  bootID: string;
  systemUUID: string;
  kernelVersion: string;
  osImage: string;
  operatingSystem: string;
  architecture: string;
  cpuCount: number;
}

/** One reading of everything that changes. */
export interface HostReadings {
  memory: MemInfo;
  fs: FsInfo;
  pids: PidInfo;
}

/** The host seam. Reads never throw: unreadable values come back as 0 / ''. */
export interface HostReader {
  identity(): HostIdentity;
  readings(rootDir: string): HostReadings;
  /** IPv4 address of the default-route interface (falls back to the first non-internal IPv4), or undefined. */
  defaultAddress(): string | undefined;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function fsInfo(path: string): FsInfo {
  try {
    const s = statfsSync(path);
    return {
      capacityBytes: s.blocks * s.bsize,
      availableBytes: s.bavail * s.bsize,
      inodes: s.files,
      inodesFree: s.ffree,
    };
  } catch {
    return { capacityBytes: 0, availableBytes: 0, inodes: 0, inodesFree: 0 };
  }
}

function pidInfo(): PidInfo {
  return { running: parseLoadAvgTasks(read('/proc/loadavg')) ?? 0, max: Number(read('/proc/sys/kernel/pid_max').trim()) || 32768 };
}

/** The real host. */
export function createHostReader(): HostReader {
  let identity: HostIdentity | undefined;
  return {
    identity() {
      identity ??= {
        hostname: os.hostname(),
        machineID: (read('/etc/machine-id') || read('/var/lib/dbus/machine-id')).trim(),
        bootID: read('/proc/sys/kernel/random/boot_id').trim(),
        systemUUID: read('/sys/class/dmi/id/product_uuid').trim(),
        kernelVersion: os.release(),
        osImage: parseOsImage(read('/etc/os-release')),
        operatingSystem: os.platform(),
        architecture: goArch(os.arch()),
        cpuCount: os.availableParallelism(),
      };
      return identity;
    },
    readings(rootDir) {
      return { memory: parseMemInfo(read('/proc/meminfo')), fs: fsInfo(rootDir), pids: pidInfo() };
    },
    defaultAddress() {
      const ifaces = os.networkInterfaces();
      const iface = parseDefaultRouteInterface(read('/proc/net/route'));
      const v4 = (list: os.NetworkInterfaceInfo[] | undefined) => list?.find((a) => a.family === 'IPv4' && !a.internal);
      if (iface !== undefined) {
        const a = v4(ifaces[iface]);
        if (a !== undefined) return a.address;
      }
      for (const list of Object.values(ifaces)) {
        const a = v4(list);
        if (a !== undefined) return a.address;
      }
      return undefined;
    },
  };
}
