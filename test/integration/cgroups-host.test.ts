/**
 * Integration (issue 16): the cgroup contract on the host's real cgroup filesystem (v1 or v2, whichever this kernel
 * mounts), under a root of its own that the contract removes again.
 */
import { HostCgroups } from '../../src/kubelet/cm/index.js';
import { runCgroupsContract } from '../../src/kubelet/cm/cgroups-contract.js';

runCgroupsContract('HostCgroups', () => HostCgroups.open(), `/nodelet-cgtest-${process.pid}`);
