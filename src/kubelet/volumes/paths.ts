/** On-disk layout of a pod under the root dir (upstream kubelet layout). */
import path from 'node:path';
import { PLUGIN_DIRS, type VolumeKind } from './context.js';

/** `<rootDir>/pods/<uid>` */
export function podDir(rootDir: string, uid: string): string {
  return path.join(rootDir, 'pods', uid);
}

/** `<rootDir>/pods/<uid>/volumes/<plugin>/<name>` for every kind but hostPath. */
export function volumeDir(rootDir: string, uid: string, kind: Exclude<VolumeKind, 'hostPath'>, name: string): string {
  return path.join(podDir(rootDir, uid), 'volumes', PLUGIN_DIRS[kind], name);
}

/** `<rootDir>/pods/<uid>/etc-hosts` */
export function etcHostsPath(rootDir: string, uid: string): string {
  return path.join(podDir(rootDir, uid), 'etc-hosts');
}

/** `<rootDir>/pods/<uid>/resolv.conf` (host-network pods that use cluster DNS). */
export function resolvConfPath(rootDir: string, uid: string): string {
  return path.join(podDir(rootDir, uid), 'resolv.conf');
}

/** `<rootDir>/pods/<uid>/containers/<name>` (termination message files). */
export function containerDir(rootDir: string, uid: string, container: string): string {
  return path.join(podDir(rootDir, uid), 'containers', container);
}

/** Pod UIDs are path components: refuse anything that could walk out of `<rootDir>/pods`. */
export function isSafeUID(uid: string): boolean {
  return uid !== '' && uid !== '.' && uid !== '..' && !uid.includes('/') && !uid.includes('\0');
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Volume and container names are path components too: they must be DNS-1123 labels (as API validation requires). */
export function isSafeName(name: string): boolean {
  return name.length <= 63 && DNS1123_LABEL.test(name);
}
