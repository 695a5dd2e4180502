/** Restart and sidecar policy: lives in src/kubelet/podstate (shared with the status generation); re-exported here. */
export * from '../podstate/policy.js';
