/** Graceful node shutdown (upstream pkg/kubelet/nodeshutdown). */
export { NodeShutdownManager, SHUTDOWN_MESSAGE, SHUTDOWN_REASON, type NodeShutdownOptions } from './manager.js';
export { DbusLogind, FakeLogind, type Logind } from './logind.js';
export { ensureInhibitDelay, KUBELET_LOGIND_CONF, LOGIND_CONF_DIR, LogindDropIn, logindDropInText, type EnsureInhibitDelayOptions, type LogindConfWriter } from './inhibit-delay.js';
export { shutdownGroups, groupPods, totalShutdownSeconds, SYSTEM_CRITICAL_PRIORITY, type ShutdownGroupConfig } from './groups.js';
