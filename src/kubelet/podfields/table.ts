/**
 * Every field of a v1.33 Pod and what nodelet does with it: the one table behind docs/pod-fields.md (rendered by
 * {@link renderPodFieldsMarkdown}), the static-pod schema (fields newer than v1.33 are unknown, as on a v1.33 API
 * server) and admission (a pod setting a `rejected` field is refused with the field and the reason, never run as if
 * the field were not there). Paths use `[]` for list items; an entry covers the fields below it unless a longer path
 * is listed.
 */

/**
 * - `supported`: implemented as upstream.
 * - `partial`: implemented with a documented difference (the note says which).
 * - `not-node`: acted on by the API server, scheduler or controllers, not the kubelet (carried as is).
 * - `status`: written by the kubelet (status), never read from a manifest.
 * - `rejected`: refused at admission (API pods: phase Failed + event; static pods: the manifest is reported with file,
 *   field and reason) when set (or when `rejectWhen` says the value needs what nodelet lacks).
 * - `newer`: not a field of v1.33 (later API); a static pod using it is invalid (unknown field), as on a v1.33 server.
 */
export type Support = 'supported' | 'partial' | 'not-node' | 'status' | 'rejected' | 'newer';

/** One row of the table. */
export interface PodField {
  path: string;
  support: Support;
  /** What nodelet does (or why not). */
  note: string;
  /** For `rejected`: the admission reason (default `UnsupportedPodField`). */
  reason?: string;
  /** For `rejected`: only values for which this is true are refused (default: any value that is set). */
  rejectWhen?: (value: unknown) => boolean;
  /** How the condition reads in the docs (with `rejectWhen`). */
  rejectWhenText?: string;
}

const C = 'spec.containers[]';
const I = 'spec.initContainers[]';
const E = 'spec.ephemeralContainers[]';
// The upstream e2e suite sets seLinuxOptions on many pods (EmptyDir, …): refusing them would refuse pods the upstream
// kubelet runs on the same host, where SELinux is off and the runtime ignores the labels.
const SELINUX_NOTE = 'accepted; nodelet applies no SELinux labels — as the upstream kubelet on a host without SELinux, where the runtime ignores them (on an SELinux host they are not enforced)';
const notEmpty = (v: unknown): boolean => !(Array.isArray(v) && v.length === 0) && v !== '' && v !== null && v !== undefined;

/** Fields every container kind shares (`P` = the container path). */
function containerFields(P: string, kind: 'app' | 'init' | 'ephemeral'): PodField[] {
  return [
    { path: `${P}.name`, support: 'supported', note: 'container name, runtime labels' },
    { path: `${P}.image`, support: 'supported', note: 'pulled per imagePullPolicy with imagePullSecrets' },
    { path: `${P}.imagePullPolicy`, support: 'supported', note: 'Always / IfNotPresent / Never (default by tag)' },
    { path: `${P}.command`, support: 'supported', note: '$(VAR) expansion as upstream' },
    { path: `${P}.args`, support: 'supported', note: '$(VAR) expansion as upstream' },
    { path: `${P}.workingDir`, support: 'supported', note: '' },
    { path: `${P}.env`, support: 'supported', note: 'value, fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef' },
    { path: `${P}.env[].valueFrom.fileKeyRef`, support: 'newer', note: 'v1.34 (EnvFiles)' },
    { path: `${P}.envFrom`, support: 'supported', note: 'configMapRef / secretRef with prefix' },
    { path: `${P}.ports`, support: 'supported', note: 'hostPort/hostIP mapped by the runtime; NodePorts admission' },
    { path: `${P}.resources.requests`, support: 'supported', note: 'cpu shares, admission (cpu, memory, ephemeral-storage)' },
    { path: `${P}.resources.limits`, support: 'supported', note: 'cpu quota, memory limit; ephemeral-storage by the eviction manager' },
    { path: `${P}.resources.claims`, support: 'rejected', note: 'dynamic resource allocation (DRA) is not implemented', reason: 'UnsupportedPodField' },
    {
      path: `${P}.resizePolicy`,
      support: 'partial',
      note: 'accepted; in-place resize (pods/resize) is not implemented, so it never comes into play: a resize is not applied',
    },
    {
      path: `${P}.restartPolicy`,
      support: kind === 'init' ? 'supported' : 'rejected',
      note: kind === 'init' ? 'Always = sidecar (restartable init container)' : 'only init containers may set it (API validation)',
      reason: 'Forbidden',
      rejectWhenText: 'set on a regular or ephemeral container: "may not be set for non-init containers"',
    },
    { path: `${P}.restartPolicyRules`, support: 'newer', note: 'v1.34 (ContainerRestartRules)' },
    { path: `${P}.volumeMounts`, support: 'supported', note: 'readOnly, subPath, subPathExpr, mountPropagation' },
    {
      path: `${P}.volumeMounts[].recursiveReadOnly`,
      support: 'rejected',
      note: 'recursive read-only mounts are not implemented; Disabled and IfPossible (falls back) are accepted',
      reason: 'UnsupportedPodField',
      rejectWhen: (v) => v === 'Enabled',
      rejectWhenText: '`Enabled`',
    },
    { path: `${P}.volumeDevices`, support: 'rejected', note: 'raw block devices (needs PersistentVolumeClaims) are not implemented', reason: 'UnsupportedPodField', rejectWhen: notEmpty, rejectWhenText: 'non-empty' },
    { path: `${P}.livenessProbe`, support: kind === 'ephemeral' ? 'not-node' : 'supported', note: kind === 'ephemeral' ? 'not allowed by API validation' : 'exec, httpGet, tcpSocket, grpc' },
    { path: `${P}.readinessProbe`, support: kind === 'ephemeral' ? 'not-node' : 'supported', note: kind === 'ephemeral' ? 'not allowed by API validation' : 'exec, httpGet, tcpSocket, grpc' },
    { path: `${P}.startupProbe`, support: kind === 'ephemeral' ? 'not-node' : 'supported', note: kind === 'ephemeral' ? 'not allowed by API validation' : 'exec, httpGet, tcpSocket, grpc' },
    { path: `${P}.lifecycle`, support: 'supported', note: 'postStart / preStop: exec, httpGet, sleep (tcpSocket is not run, as upstream)' },
    { path: `${P}.lifecycle.stopSignal`, support: 'supported', note: 'ContainerStopSignals (alpha in v1.33)' },
    { path: `${P}.terminationMessagePath`, support: 'supported', note: '' },
    { path: `${P}.terminationMessagePolicy`, support: 'supported', note: 'File / FallbackToLogsOnError' },
    { path: `${P}.securityContext`, support: 'supported', note: 'runAsUser/Group/NonRoot, capabilities, privileged, readOnlyRootFilesystem, allowPrivilegeEscalation, procMount, seccompProfile' },
    { path: `${P}.securityContext.seLinuxOptions`, support: 'partial', note: SELINUX_NOTE },
    {
      path: `${P}.securityContext.appArmorProfile`,
      support: 'rejected',
      note: 'AppArmor profiles are not applied (upstream rejects them on hosts without AppArmor the same way)',
      reason: 'AppArmor',
      rejectWhen: (v) => (v as { type?: string } | null)?.type !== 'Unconfined',
      rejectWhenText: 'type other than `Unconfined`',
    },
    { path: `${P}.securityContext.windowsOptions`, support: 'supported', note: 'ignored on Linux, as upstream' },
    { path: `${P}.stdin`, support: 'supported', note: 'attach' },
    { path: `${P}.stdinOnce`, support: 'supported', note: 'attach' },
    { path: `${P}.tty`, support: 'supported', note: 'attach / exec' },
    ...(kind === 'ephemeral' ? [{ path: `${P}.targetContainerName`, support: 'supported' as const, note: 'shares the target\'s process namespace' }] : []),
  ];
}

const volume = (name: string, support: Support, note: string): PodField =>
  support === 'rejected' ? { path: `spec.volumes[].${name}`, support, note, reason: 'UnsupportedPodField' } : { path: `spec.volumes[].${name}`, support, note };

/** The table, in document order. */
export const POD_FIELDS: readonly PodField[] = [
  { path: 'apiVersion', support: 'supported', note: 'v1' },
  { path: 'kind', support: 'supported', note: 'Pod' },
  { path: 'metadata.name', support: 'supported', note: 'static pods: `<name>-<node>`' },
  { path: 'metadata.namespace', support: 'supported', note: 'static pods: default `default`' },
  { path: 'metadata.labels', support: 'supported', note: 'runtime labels, downward API' },
  { path: 'metadata.annotations', support: 'supported', note: 'downward API; static pods get the config.* annotations' },
  { path: 'metadata.uid', support: 'supported', note: 'static pods: from content and source' },
  { path: 'metadata.generateName', support: 'not-node', note: 'API server' },
  { path: 'metadata.ownerReferences', support: 'not-node', note: 'garbage collector (mirror pods: the Node)' },
  { path: 'metadata.finalizers', support: 'not-node', note: 'API server' },
  { path: 'metadata.deletionTimestamp', support: 'supported', note: 'graceful termination' },
  { path: 'metadata.deletionGracePeriodSeconds', support: 'supported', note: 'graceful termination' },
  { path: 'metadata.creationTimestamp', support: 'not-node', note: 'API server' },
  { path: 'metadata.resourceVersion', support: 'not-node', note: 'API server' },
  { path: 'metadata.generation', support: 'not-node', note: 'API server' },
  { path: 'metadata.managedFields', support: 'not-node', note: 'API server' },
  { path: 'metadata.selfLink', support: 'not-node', note: 'API server (unset)' },
  { path: 'spec.nodeName', support: 'supported', note: 'pods bound to this node' },
  { path: 'spec.nodeSelector', support: 'supported', note: 'NodeAffinity admission' },
  { path: 'spec.affinity.nodeAffinity', support: 'supported', note: 'required terms: NodeAffinity admission' },
  { path: 'spec.affinity.podAffinity', support: 'not-node', note: 'scheduler' },
  { path: 'spec.affinity.podAntiAffinity', support: 'not-node', note: 'scheduler' },
  { path: 'spec.tolerations', support: 'supported', note: 'NoExecute taints at admission (not for static pods); the rest: scheduler and taint manager' },
  { path: 'spec.schedulerName', support: 'not-node', note: 'scheduler' },
  { path: 'spec.schedulingGates', support: 'not-node', note: 'scheduler' },
  { path: 'spec.priority', support: 'not-node', note: 'Priority admission; the eviction manager ranks by it' },
  { path: 'spec.priorityClassName', support: 'not-node', note: 'Priority admission' },
  { path: 'spec.preemptionPolicy', support: 'not-node', note: 'scheduler' },
  { path: 'spec.topologySpreadConstraints', support: 'not-node', note: 'scheduler' },
  { path: 'spec.overhead', support: 'supported', note: 'RuntimeClass admission sets it; counted in admission' },
  { path: 'spec.runtimeClassName', support: 'rejected', note: 'RuntimeClass handlers are not implemented (one runtime handler)', reason: 'UnsupportedPodField' },
  { path: 'spec.os', support: 'supported', note: 'PodOSNotSupported for anything but linux' },
  { path: 'spec.restartPolicy', support: 'supported', note: 'Always / OnFailure / Never' },
  { path: 'spec.terminationGracePeriodSeconds', support: 'supported', note: '' },
  { path: 'spec.activeDeadlineSeconds', support: 'supported', note: 'Failed / DeadlineExceeded' },
  { path: 'spec.dnsPolicy', support: 'supported', note: 'ClusterFirst, ClusterFirstWithHostNet, Default, None' },
  { path: 'spec.dnsConfig', support: 'supported', note: '' },
  { path: 'spec.hostname', support: 'supported', note: '' },
  { path: 'spec.subdomain', support: 'supported', note: '' },
  { path: 'spec.setHostnameAsFQDN', support: 'supported', note: '' },
  { path: 'spec.hostnameOverride', support: 'newer', note: 'v1.34 (HostnameOverride)' },
  { path: 'spec.hostAliases', support: 'supported', note: '/etc/hosts entries' },
  { path: 'spec.hostNetwork', support: 'supported', note: '' },
  { path: 'spec.hostPID', support: 'supported', note: '' },
  { path: 'spec.hostIPC', support: 'supported', note: '' },
  { path: 'spec.shareProcessNamespace', support: 'supported', note: '' },
  {
    path: 'spec.hostUsers',
    support: 'rejected',
    note: 'user namespaces are not implemented; `true` (the default) is accepted',
    reason: 'UnsupportedPodField',
    rejectWhen: (v) => v === false,
    rejectWhenText: '`false`',
  },
  { path: 'spec.serviceAccountName', support: 'supported', note: 'token projection (the API server adds the volume)' },
  { path: 'spec.serviceAccount', support: 'not-node', note: 'deprecated alias, API server' },
  { path: 'spec.automountServiceAccountToken', support: 'not-node', note: 'ServiceAccount admission' },
  { path: 'spec.enableServiceLinks', support: 'supported', note: 'service environment variables' },
  { path: 'spec.imagePullSecrets', support: 'supported', note: '' },
  { path: 'spec.readinessGates', support: 'supported', note: 'Ready needs every gate' },
  { path: 'spec.resources', support: 'rejected', note: 'pod-level resources (PodLevelResources) are not implemented: a pod-level limit would not be enforced', reason: 'UnsupportedPodField' },
  { path: 'spec.resourceClaims', support: 'rejected', note: 'dynamic resource allocation (DRA) is not implemented', reason: 'UnsupportedPodField', rejectWhen: notEmpty, rejectWhenText: 'non-empty' },
  { path: 'spec.schedulingGroup', support: 'newer', note: 'later than v1.34' },
  { path: 'spec.securityContext', support: 'supported', note: 'runAsUser/Group/NonRoot, fsGroup, supplementalGroups, sysctls, seccompProfile' },
  { path: 'spec.securityContext.fsGroupChangePolicy', support: 'partial', note: 'accepted; ownership is always applied recursively (Always)' },
  {
    path: 'spec.securityContext.supplementalGroupsPolicy',
    support: 'rejected',
    note: '`Merge` (the default) is implemented; `Strict` is not',
    reason: 'SupplementalGroupsPolicyNotSupported',
    rejectWhen: (v) => v === 'Strict',
    rejectWhenText: '`Strict`',
  },
  { path: 'spec.securityContext.seLinuxOptions', support: 'partial', note: SELINUX_NOTE },
  { path: 'spec.securityContext.seLinuxChangePolicy', support: 'supported', note: 'no SELinux relabelling is done either way' },
  {
    path: 'spec.securityContext.appArmorProfile',
    support: 'rejected',
    note: 'AppArmor profiles are not applied',
    reason: 'AppArmor',
    rejectWhen: (v) => (v as { type?: string } | null)?.type !== 'Unconfined',
    rejectWhenText: 'type other than `Unconfined`',
  },
  { path: 'spec.securityContext.windowsOptions', support: 'supported', note: 'ignored on Linux, as upstream' },
  ...containerFields(I, 'init'),
  ...containerFields(C, 'app'),
  ...containerFields(E, 'ephemeral'),
  { path: 'spec.volumes[].name', support: 'supported', note: '' },
  volume('emptyDir', 'supported', 'disk or Memory (tmpfs, sizeLimit)'),
  volume('hostPath', 'supported', 'all types with their checks'),
  volume('configMap', 'supported', 'items, defaultMode, optional, updates'),
  volume('secret', 'supported', 'items, defaultMode, optional, updates'),
  volume('downwardAPI', 'supported', 'fieldRef, resourceFieldRef'),
  volume('projected', 'supported', 'configMap, secret, downwardAPI, serviceAccountToken'),
  { path: 'spec.volumes[].projected.sources[].clusterTrustBundle', support: 'rejected', note: 'ClusterTrustBundle projection is not implemented', reason: 'UnsupportedPodField' },
  { path: 'spec.volumes[].projected.sources[].podCertificate', support: 'newer', note: 'v1.34 (PodCertificateRequest)' },
  volume('persistentVolumeClaim', 'rejected', 'PersistentVolumeClaims (attach/mount of volumes) are not implemented'),
  volume('ephemeral', 'rejected', 'generic ephemeral volumes need PersistentVolumeClaims'),
  volume('csi', 'rejected', 'CSI drivers are not implemented'),
  volume('image', 'rejected', 'image volumes (ImageVolume) are not implemented'),
  volume('nfs', 'rejected', 'in-tree network volumes are not implemented'),
  volume('iscsi', 'rejected', 'in-tree network volumes are not implemented'),
  volume('rbd', 'rejected', 'in-tree network volumes are not implemented (removed upstream)'),
  volume('cephfs', 'rejected', 'in-tree network volumes are not implemented (removed upstream)'),
  volume('glusterfs', 'rejected', 'in-tree network volumes are not implemented (removed upstream)'),
  volume('fc', 'rejected', 'in-tree volumes are not implemented'),
  volume('flexVolume', 'rejected', 'FlexVolume plugins are not implemented'),
  volume('gitRepo', 'rejected', 'gitRepo (deprecated) is not implemented'),
  volume('awsElasticBlockStore', 'rejected', 'cloud disks (migrated to CSI upstream) are not implemented'),
  volume('azureDisk', 'rejected', 'cloud disks (migrated to CSI upstream) are not implemented'),
  volume('azureFile', 'rejected', 'cloud disks (migrated to CSI upstream) are not implemented'),
  volume('cinder', 'rejected', 'cloud disks (migrated to CSI upstream) are not implemented'),
  volume('gcePersistentDisk', 'rejected', 'cloud disks (migrated to CSI upstream) are not implemented'),
  volume('vsphereVolume', 'rejected', 'cloud disks (migrated to CSI upstream) are not implemented'),
  volume('portworxVolume', 'rejected', 'in-tree volumes are not implemented'),
  volume('photonPersistentDisk', 'rejected', 'in-tree volumes are not implemented (removed upstream)'),
  volume('flocker', 'rejected', 'in-tree volumes are not implemented (removed upstream)'),
  volume('quobyte', 'rejected', 'in-tree volumes are not implemented (removed upstream)'),
  volume('scaleIO', 'rejected', 'in-tree volumes are not implemented (removed upstream)'),
  volume('storageos', 'rejected', 'in-tree volumes are not implemented (removed upstream)'),
  { path: 'status', support: 'status', note: 'computed and written by the kubelet (phase, conditions, IPs, container statuses, qosClass)' },
];
