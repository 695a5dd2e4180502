/** Node resource management (upstream pkg/kubelet/cm): the QoS and pod cgroup hierarchy. */
export { PodCgroupManager, podUIDFromCgroup, type PodCgroupManagerOptions } from './pod-cgroups.js';
export { HostCgroups, FakeCgroups, CgroupError, type Cgroups } from './cgroups.js';
export { cgroupPath, podCgroupName, qosCgroupName, runtimeCgroupParent, parseCgroupRoot, type CgroupDriver, type CgroupName } from './names.js';
export { podCgroupResources, burstableShares, sharesToWeight, type CgroupResources } from './resources.js';
