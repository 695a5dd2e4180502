/**
 * e2e: proxy-e2e.test.ts again with the daemon in nftables mode (`--proxy-mode=nftables`): the same ClusterIP,
 * NodePort, sessionAffinity, externalTrafficPolicy Local and readiness-flip scenarios, plus `nodelet trace` over the
 * host's live `table ip kube-proxy`. e2e files run one after another, so the two modes never share the host.
 */
// Runs wherever proxy-e2e runs (scripts/test.sh looks for startCluster( to put a file on the real control plane too).
process.env.NODELET_E2E_PROXY_MODE = 'nftables';
await import('./proxy-e2e.test.js');
// The scenarios captured the mode at import; later files in this worker must not inherit it.
delete process.env.NODELET_E2E_PROXY_MODE;
