/**
 * Cgroup names as upstream builds them (pkg/kubelet/cm/cgroup_manager_linux.go): a name is a list of components
 * (`['kubepods', 'burstable', 'pod<uid>']`) rendered for the driver — `cgroupfs`: `/kubepods/burstable/pod<uid>`;
 * `systemd`: nested slices `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_with_underscores>.slice`.
 */
import type { QOSClass } from '../security/qos.js';

/** A cgroup name: its components below the root, outermost first. */
export type CgroupName = readonly string[];

/** The cgroup driver (KubeletConfiguration cgroupDriver). */
export type CgroupDriver = 'cgroupfs' | 'systemd';

/** Splits a `cgroupRoot` such as `/` or `/nodelet` into components. */
export function parseCgroupRoot(root: string): CgroupName {
  return root.split('/').filter((c) => c !== '');
}

/** `kubepods` under the root. */
export function kubepodsName(root: CgroupName): CgroupName {
  return [...root, 'kubepods'];
}

/** The QoS cgroup of a class: Guaranteed pods sit directly in `kubepods`. */
export function qosCgroupName(root: CgroupName, qos: QOSClass): CgroupName {
  const base = kubepodsName(root);
  return qos === 'Guaranteed' ? base : [...base, qos.toLowerCase()];
}

/** The pod's own cgroup: `pod<uid>` in its QoS cgroup. */
export function podCgroupName(root: CgroupName, qos: QOSClass, uid: string): CgroupName {
  return [...qosCgroupName(root, qos), `pod${uid}`];
}

/** The absolute path of a name for the driver (relative to each hierarchy's mount point). */
export function cgroupPath(name: CgroupName, driver: CgroupDriver): string {
  if (driver === 'cgroupfs') return `/${name.join('/')}`;
  if (name.length === 0) return '/';
  // systemd: every component is a slice whose name repeats its parents' (dashes in components become underscores).
  const parts: string[] = [];
  let prefix = '';
  for (const c of name) {
    const esc = c.replaceAll('-', '_');
    prefix = prefix === '' ? esc : `${prefix}-${esc}`;
    parts.push(`${prefix}.slice`);
  }
  return `/${parts.join('/')}`;
}

/**
 * What the runtime is given as the sandbox's cgroup parent: the cgroupfs path, or for systemd the innermost slice
 * name (as the kubelet passes it to CRI runtimes with the systemd driver).
 */
export function runtimeCgroupParent(name: CgroupName, driver: CgroupDriver): string {
  if (driver === 'cgroupfs') return cgroupPath(name, driver);
  return cgroupPath(name, driver).split('/').pop() ?? '';
}
