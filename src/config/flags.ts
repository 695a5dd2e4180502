/**
 * The command-line flags, as one table: the CLI builds its commander options from it and the resolver turns flag
 * values into partial upstream documents (so flags and file are validated by the same strict schemas, and errors
 * name the flag). Names follow the upstream kubelet / kube-proxy flags; the one clash (both have
 * --healthz-bind-address) is resolved by keeping the kubelet's meaning and naming the proxy's
 * --proxy-healthz-bind-address.
 */

/** How a flag's text becomes a config value. */
export type FlagKind = 'string' | 'int' | 'bool' | 'list' | 'keyValues' | 'thresholds' | 'taints' | 'headers';

/** One command-line flag. */
export interface FlagSpec {
  /** Long name without dashes, e.g. `max-pods`. */
  name: string;
  kind: FlagKind;
  help: string;
  /** Placeholder for the value in --help. */
  arg?: string;
  /** Shown default in --help. */
  defaultText?: string;
  /** The config document field the flag sets (flags override the file); absent for process-level flags. */
  target?: { doc: 'kubelet' | 'proxy'; path: readonly string[] };
  /** Group title in --help. */
  group: 'general' | 'kubelet' | 'proxy';
  /** May be given more than once (values accumulate). */
  repeatable?: boolean;
}

const k = (path: string): FlagSpec['target'] => ({ doc: 'kubelet', path: [path] });
const p = (...path: string[]): FlagSpec['target'] => ({ doc: 'proxy', path });

/** Every flag nodelet accepts. */
export const FLAGS: readonly FlagSpec[] = [
  { name: 'config', kind: 'string', group: 'general', arg: 'file', help: 'YAML file with a KubeletConfiguration and/or KubeProxyConfiguration document; flags override it' },
  { name: 'kubeconfig', kind: 'string', group: 'general', arg: 'file', help: 'kubeconfig of the API server; without it nodelet runs standalone (static pods only, no node registration, no proxy)' },
  { name: 'roles', kind: 'list', group: 'general', arg: 'list', defaultText: 'kubelet,proxy with --kubeconfig, kubelet without', help: 'roles to run, comma-separated: kubelet, proxy' },
  { name: 'bootstrap-kubeconfig', kind: 'string', group: 'general', arg: 'file', help: 'kubeconfig with a bootstrap token: when --kubeconfig is missing or its certificate is unusable, request a client certificate (TLS bootstrap) and write --kubeconfig' },
  { name: 'cert-dir', kind: 'string', group: 'general', arg: 'dir', defaultText: '<root-dir>/pki', help: 'directory of the client and serving certificates from TLS bootstrap and rotation' },
  { name: 'hostname-override', kind: 'string', group: 'general', arg: 'name', help: 'node name to use instead of the host name' },
  { name: 'root-dir', kind: 'string', group: 'general', arg: 'dir', defaultText: '/var/lib/nodelet', help: 'directory for nodelet state (pod volumes, logs, the lock file)' },
  { name: 'v', kind: 'int', group: 'general', arg: 'level', defaultText: '0', help: 'log verbosity as upstream (0-10): >=4 debug, >=6 trace' },
  { name: 'log-level', kind: 'string', group: 'general', arg: 'level', help: 'log level: fatal, error, warn, info, debug, trace (overrides --v)' },
  { name: 'logging-format', kind: 'string', group: 'general', arg: 'format', defaultText: 'json (text on a terminal)', help: 'log format: json or text' },
  { name: 'node-ip', kind: 'string', group: 'kubelet', arg: 'ip', help: "node's InternalIP (default: the address of the default-route interface)" },
  { name: 'node-labels', kind: 'keyValues', group: 'kubelet', arg: 'k=v,...', help: 'labels to add to the Node at registration' },
  { name: 'register-node', kind: 'bool', group: 'kubelet', arg: 'bool', defaultText: 'true', help: 'register the Node with the API server', target: k('registerNode') },
  { name: 'register-with-taints', kind: 'taints', group: 'kubelet', arg: 'k=v:Effect,...', help: 'taints to register the Node with', target: k('registerWithTaints') },
  { name: 'pod-manifest-path', kind: 'string', group: 'kubelet', arg: 'dir', help: 'directory of static pod manifests (*.yaml, *.yml, *.json)', target: k('staticPodPath') },
  { name: 'manifest-url', kind: 'string', group: 'kubelet', arg: 'url', help: 'URL of a static pod manifest', target: k('staticPodURL') },
  { name: 'manifest-url-header', kind: 'headers', group: 'kubelet', arg: 'k:v,...', repeatable: true, help: 'HTTP headers for --manifest-url (repeatable)', target: k('staticPodURLHeader') },
  { name: 'pod-infra-container-image', kind: 'string', group: 'kubelet', arg: 'image', defaultText: 'localhost/nodelet/pause:3.9', help: 'image of the pod sandbox (pause) container' },
  { name: 'container-runtime-endpoint', kind: 'string', group: 'kubelet', arg: 'endpoint', defaultText: 'unix:///var/run/docker.sock', help: 'container runtime socket', target: k('containerRuntimeEndpoint') },
  { name: 'allowed-unsafe-sysctls', kind: 'list', group: 'kubelet', arg: 'names', help: 'unsafe sysctls or patterns (ending in *) pods may set, comma-separated', target: k('allowedUnsafeSysctls') },
  { name: 'rotate-certificates', kind: 'bool', group: 'kubelet', arg: 'bool', defaultText: 'false', help: 'request a new client certificate before the current one expires', target: k('rotateCertificates') },
  { name: 'rotate-server-certificates', kind: 'bool', group: 'kubelet', arg: 'bool', defaultText: 'false', help: 'get the kubelet API serving certificate with a kubernetes.io/kubelet-serving CSR and rotate it (serverTLSBootstrap)', target: k('serverTLSBootstrap') },
  { name: 'cluster-dns', kind: 'list', group: 'kubelet', arg: 'ips', help: 'DNS server IPs for pods, comma-separated', target: k('clusterDNS') },
  { name: 'cluster-domain', kind: 'string', group: 'kubelet', arg: 'domain', help: 'cluster DNS domain, e.g. cluster.local', target: k('clusterDomain') },
  { name: 'resolv-conf', kind: 'string', group: 'kubelet', arg: 'file', defaultText: '/etc/resolv.conf', help: 'resolver configuration for pods with dnsPolicy Default', target: k('resolvConf') },
  { name: 'max-pods', kind: 'int', group: 'kubelet', arg: 'n', defaultText: '110', help: 'pods this node can run', target: k('maxPods') },
  { name: 'healthz-port', kind: 'int', group: 'kubelet', arg: 'port', defaultText: '10248', help: 'port of the /healthz and /metrics server (0 disables)', target: k('healthzPort') },
  { name: 'healthz-bind-address', kind: 'string', group: 'kubelet', arg: 'ip', defaultText: '127.0.0.1', help: 'address of the kubelet /healthz and /metrics server', target: k('healthzBindAddress') },
  { name: 'sync-frequency', kind: 'string', group: 'kubelet', arg: 'duration', defaultText: '1m0s', help: 'resync period of running pods', target: k('syncFrequency') },
  { name: 'file-check-frequency', kind: 'string', group: 'kubelet', arg: 'duration', defaultText: '20s', help: 'rescan period of --pod-manifest-path', target: k('fileCheckFrequency') },
  { name: 'http-check-frequency', kind: 'string', group: 'kubelet', arg: 'duration', defaultText: '20s', help: 'poll period of --manifest-url', target: k('httpCheckFrequency') },
  { name: 'node-status-update-frequency', kind: 'string', group: 'kubelet', arg: 'duration', defaultText: '10s', help: 'how often node status is computed (and written when changed)', target: k('nodeStatusUpdateFrequency') },
  { name: 'streaming-connection-idle-timeout', kind: 'string', group: 'kubelet', arg: 'duration', defaultText: '4h0m0s', help: 'close exec/attach/port-forward connections idle this long', target: k('streamingConnectionIdleTimeout') },
  { name: 'runtime-request-timeout', kind: 'string', group: 'kubelet', arg: 'duration', defaultText: '2m0s', help: 'timeout of runtime requests', target: k('runtimeRequestTimeout') },
  { name: 'fail-swap-on', kind: 'bool', group: 'kubelet', arg: 'bool', defaultText: 'true', help: 'refuse to start when swap is on', target: k('failSwapOn') },
  { name: 'kube-reserved', kind: 'keyValues', group: 'kubelet', arg: 'res=qty,...', help: 'resources reserved for Kubernetes daemons (cpu, memory, ephemeral-storage, pid)', target: k('kubeReserved') },
  { name: 'system-reserved', kind: 'keyValues', group: 'kubelet', arg: 'res=qty,...', help: 'resources reserved for the system', target: k('systemReserved') },
  { name: 'eviction-hard', kind: 'thresholds', group: 'kubelet', arg: 'sig<qty,...', defaultText: 'memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%', help: 'hard eviction thresholds', target: k('evictionHard') },
  { name: 'cgroups-per-qos', kind: 'bool', group: 'kubelet', arg: 'bool', defaultText: 'true', help: 'create the kubepods / QoS / pod cgroup hierarchy', target: k('cgroupsPerQOS') },
  { name: 'cgroup-root', kind: 'string', group: 'kubelet', arg: 'path', defaultText: '/', help: 'cgroup under which kubepods is created', target: k('cgroupRoot') },
  { name: 'enforce-node-allocatable', kind: 'list', group: 'kubelet', arg: 'list', defaultText: 'pods', help: 'levels of node allocatable to enforce (pods)', target: k('enforceNodeAllocatable') },
  { name: 'cpu-cfs-quota', kind: 'bool', group: 'kubelet', arg: 'bool', defaultText: 'true', help: 'enforce CPU limits with CFS quota', target: k('cpuCFSQuota') },
  { name: 'cgroup-driver', kind: 'string', group: 'kubelet', arg: 'driver', defaultText: 'cgroupfs', help: 'cgroupfs or systemd', target: k('cgroupDriver') },
  { name: 'serialize-image-pulls', kind: 'bool', group: 'kubelet', arg: 'bool', defaultText: 'true', help: 'pull one image at a time', target: k('serializeImagePulls') },
  { name: 'image-gc-high-threshold', kind: 'int', group: 'kubelet', arg: 'percent', defaultText: '85', help: 'disk usage that triggers image garbage collection', target: k('imageGCHighThresholdPercent') },
  { name: 'image-gc-low-threshold', kind: 'int', group: 'kubelet', arg: 'percent', defaultText: '80', help: 'disk usage image garbage collection frees down to', target: k('imageGCLowThresholdPercent') },
  { name: 'minimum-container-ttl-duration', kind: 'string', group: 'kubelet', arg: 'duration', defaultText: '0s', help: 'DEPRECATED (as upstream): minimum age of a finished container before it is garbage collected' },
  { name: 'maximum-dead-containers-per-container', kind: 'int', group: 'kubelet', arg: 'n', defaultText: '1', help: 'DEPRECATED (as upstream): dead instances kept per container (negative: no limit)' },
  { name: 'maximum-dead-containers', kind: 'int', group: 'kubelet', arg: 'n', defaultText: '-1', help: 'DEPRECATED (as upstream): dead containers kept on the node in total (negative: no limit)' },
  { name: 'address', kind: 'string', group: 'kubelet', arg: 'ip', defaultText: '0.0.0.0', help: 'address of the kubelet API (HTTPS)', target: k('address') },
  { name: 'port', kind: 'int', group: 'kubelet', arg: 'port', defaultText: '10250', help: 'port of the kubelet API (HTTPS)', target: k('port') },
  { name: 'read-only-port', kind: 'int', group: 'kubelet', arg: 'port', defaultText: '0', help: 'port of the unauthenticated read-only API (plain HTTP; 0 disables)', target: k('readOnlyPort') },
  { name: 'tls-cert-file', kind: 'string', group: 'kubelet', arg: 'file', help: 'serving certificate of the kubelet API (default: self-signed in <root-dir>/pki)', target: k('tlsCertFile') },
  { name: 'tls-private-key-file', kind: 'string', group: 'kubelet', arg: 'file', help: 'private key of --tls-cert-file', target: k('tlsPrivateKeyFile') },
  { name: 'tls-min-version', kind: 'string', group: 'kubelet', arg: 'version', help: 'minimum TLS version: VersionTLS12, VersionTLS13', target: k('tlsMinVersion') },
  { name: 'tls-cipher-suites', kind: 'list', group: 'kubelet', arg: 'names', help: 'TLS cipher suites (Go names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)', target: k('tlsCipherSuites') },
  { name: 'client-ca-file', kind: 'string', group: 'kubelet', arg: 'file', help: 'CA bundle for client certificates of the kubelet API', target: { doc: 'kubelet', path: ['authentication', 'x509', 'clientCAFile'] } },
  { name: 'anonymous-auth', kind: 'bool', group: 'kubelet', arg: 'bool', defaultText: 'false', help: 'allow anonymous requests to the kubelet API (as system:anonymous)', target: { doc: 'kubelet', path: ['authentication', 'anonymous', 'enabled'] } },
  { name: 'authentication-token-webhook', kind: 'bool', group: 'kubelet', arg: 'bool', defaultText: 'true', help: 'authenticate bearer tokens with TokenReview', target: { doc: 'kubelet', path: ['authentication', 'webhook', 'enabled'] } },
  { name: 'authorization-mode', kind: 'string', group: 'kubelet', arg: 'mode', defaultText: 'Webhook', help: 'kubelet API authorization: Webhook (SubjectAccessReview) or AlwaysAllow', target: { doc: 'kubelet', path: ['authorization', 'mode'] } },
  { name: 'proxy-kubeconfig', kind: 'string', group: 'proxy', arg: 'file', help: "kubeconfig of the proxy role's own identity (KubeProxyConfiguration clientConnection.kubeconfig; upstream: user system:kube-proxy); default: --kubeconfig", target: p('clientConnection', 'kubeconfig') },
  { name: 'network-plugin', kind: 'string', group: 'kubelet', arg: 'name', defaultText: 'cni when --cni-conf-dir holds a config or --pod-network is set, else docker', help: 'Docker backend pod network: cni (CNI plugins attach each sandbox) or docker (the Docker bridge)' },
  { name: 'cni-conf-dir', kind: 'string', group: 'kubelet', arg: 'dir', defaultText: '/etc/cni/net.d', help: 'directory of CNI network configurations (the first file in lexical order is the pod network)' },
  { name: 'cni-bin-dir', kind: 'list', group: 'kubelet', arg: 'dirs', defaultText: '/opt/cni/bin,/usr/lib/cni', help: 'directories searched for CNI plugin binaries, comma-separated' },
  { name: 'cni-cache-dir', kind: 'string', group: 'kubelet', arg: 'dir', defaultText: '/var/lib/cni', help: 'CNI result cache (libcni layout), used to tear pods down after restarts' },
  { name: 'pod-network', kind: 'string', group: 'kubelet', arg: 'mode', help: 'run a pod network: host-gw (bridge CNI config for Node.spec.podCIDR, routes to other nodes\' pod CIDRs, masquerade)' },
  { name: 'pod-network-kubeconfig', kind: 'string', group: 'kubelet', arg: 'file', defaultText: '--kubeconfig', help: 'kubeconfig of the host-gw route keeper, which lists Nodes (e.g. the kube-proxy identity)' },
  { name: 'cluster-cidr', kind: 'string', group: 'proxy', arg: 'cidr', help: 'pod CIDR(s); traffic to services from outside it is masqueraded', target: p('clusterCIDR') },
  { name: 'proxy-mode', kind: 'string', group: 'proxy', arg: 'mode', defaultText: 'iptables', help: 'proxy mode: iptables or nftables', target: p('mode') },
  { name: 'nodeport-addresses', kind: 'list', group: 'proxy', arg: 'cidrs', help: 'CIDRs NodePorts answer on, or "primary" (default: all local addresses)', target: p('nodePortAddresses') },
  { name: 'masquerade-all', kind: 'bool', group: 'proxy', arg: 'bool', defaultText: 'false', help: 'masquerade all traffic to service IPs', target: p('iptables', 'masqueradeAll') },
  { name: 'iptables-masquerade-bit', kind: 'int', group: 'proxy', arg: 'bit', defaultText: '14', help: 'fwmark bit for packets to masquerade (0-31)', target: p('iptables', 'masqueradeBit') },
  { name: 'iptables-sync-period', kind: 'string', group: 'proxy', arg: 'duration', defaultText: '30s', help: 'maximum interval between full iptables syncs', target: p('iptables', 'syncPeriod') },
  { name: 'iptables-min-sync-period', kind: 'string', group: 'proxy', arg: 'duration', defaultText: '1s', help: 'minimum interval between iptables syncs', target: p('iptables', 'minSyncPeriod') },
  { name: 'iptables-localhost-nodeports', kind: 'bool', group: 'proxy', arg: 'bool', defaultText: 'true', help: 'answer NodePorts on 127.0.0.1 (sets route_localnet)', target: p('iptables', 'localhostNodePorts') },
  { name: 'proxy-healthz-bind-address', kind: 'string', group: 'proxy', arg: 'ip:port', defaultText: '0.0.0.0:10256', help: "proxy health server (kube-proxy's --healthz-bind-address; renamed because the kubelet has a flag of that name)", target: p('healthzBindAddress') },
  { name: 'metrics-bind-address', kind: 'string', group: 'proxy', arg: 'ip:port', defaultText: '127.0.0.1:10249', help: 'proxy metrics server ("" disables)', target: p('metricsBindAddress') },
  { name: 'conntrack-max-per-core', kind: 'int', group: 'proxy', arg: 'n', defaultText: '32768', help: 'conntrack entries per core (0 leaves the limit alone)', target: p('conntrack', 'maxPerCore') },
  { name: 'conntrack-min', kind: 'int', group: 'proxy', arg: 'n', defaultText: '131072', help: 'minimum conntrack entries, whatever conntrack-max-per-core gives', target: p('conntrack', 'min') },
  { name: 'conntrack-tcp-timeout-established', kind: 'string', group: 'proxy', arg: 'duration', defaultText: '24h0m0s', help: 'idle timeout of established TCP connections (0 leaves it alone)', target: p('conntrack', 'tcpEstablishedTimeout') },
  { name: 'conntrack-tcp-timeout-close-wait', kind: 'string', group: 'proxy', arg: 'duration', defaultText: '1h0m0s', help: 'conntrack timeout of TCP connections in CLOSE_WAIT (0 leaves it alone)', target: p('conntrack', 'tcpCloseWaitTimeout') },
  { name: 'conntrack-tcp-be-liberal', kind: 'bool', group: 'proxy', arg: 'bool', defaultText: 'false', help: 'set nf_conntrack_tcp_be_liberal=1 (out-of-window TCP packets are not marked INVALID)', target: p('conntrack', 'tcpBeLiberal') },
  { name: 'conntrack-udp-timeout', kind: 'string', group: 'proxy', arg: 'duration', defaultText: '0s', help: 'idle timeout of UNREPLIED UDP conntrack entries (0 leaves it alone)', target: p('conntrack', 'udpTimeout') },
  { name: 'conntrack-udp-timeout-stream', kind: 'string', group: 'proxy', arg: 'duration', defaultText: '0s', help: 'idle timeout of ASSURED UDP conntrack entries (0 leaves it alone)', target: p('conntrack', 'udpStreamTimeout') },
  { name: 'cleanup', kind: 'bool', group: 'proxy', arg: 'bool', help: "remove the proxy's iptables rules (with --pod-network=host-gw also the pod masquerade chains) and exit" },
];

/** The flag that sets a document field (`kubelet` + `maxPods` → `--max-pods`), for error messages. */
export function flagForField(doc: 'kubelet' | 'proxy', fieldPath: string): string | undefined {
  const f = FLAGS.find((s) => s.target?.doc === doc && s.target.path.join('.') === fieldPath.split('[')[0]);
  return f === undefined ? undefined : `--${f.name}`;
}

/** commander's camelCase attribute name of a flag (`max-pods` → `maxPods`). */
export function flagAttribute(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
