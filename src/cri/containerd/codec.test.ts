import { describe, expect, it } from 'vitest';
import { loadCriServices } from '../proto/services.js';
import { decodeMessage, encodeMessage, methodTypes } from './codec.js';
import { WireError } from './wire.js';

// The reference: @grpc/proto-loader + protobufjs over the same descriptor (what the client used before codec.ts).
const { RuntimeService, ImageService } = loadCriServices();
const ref = (svc: 'runtime' | 'image', method: string) => {
  const def = (svc === 'runtime' ? RuntimeService : ImageService).service[method];
  if (def === undefined) throw new Error(method);
  return def;
};

const sandboxConfig = {
  metadata: { name: 'p', uid: 'u-1', namespace: 'default', attempt: 3 },
  hostname: 'p',
  logDirectory: '/var/log/pods/x',
  dnsConfig: { servers: ['10.0.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] },
  portMappings: [{ protocol: 'UDP', containerPort: 53, hostPort: 5353, hostIp: '' }],
  labels: { app: 'x', 'io.kubernetes.pod.uid': 'u-1' },
  annotations: { 'a/b': 'ünïcode ✓' },
  linux: {
    cgroupParent: '/kubepods/pod-u-1',
    securityContext: { namespaceOptions: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD', targetId: '' }, privileged: true },
    sysctls: { 'net.ipv4.ip_forward': '1' },
  },
};

const containerConfig = {
  metadata: { name: 'c', attempt: 0 },
  image: { image: 'busybox:1.36' },
  command: ['sh', '-c'],
  args: ['sleep 1'],
  workingDir: '/w',
  envs: [{ key: 'A', value: '' }, { key: 'B', value: '2' }],
  mounts: [{ containerPath: '/data', hostPath: '/h', readonly: true, selinuxRelabel: false, propagation: 'PROPAGATION_BIDIRECTIONAL' }],
  labels: {},
  annotations: { k: 'v' },
  logPath: 'c/0.log',
  stdin: false,
  stdinOnce: false,
  tty: true,
  linux: {
    resources: { cpuPeriod: 100000, cpuQuota: '-1', cpuShares: 2, memoryLimitInBytes: '9007199254740993', oomScoreAdj: -997 },
    securityContext: {
      capabilities: { addCapabilities: ['NET_ADMIN'], dropCapabilities: [] },
      privileged: false,
      namespaceOptions: { network: 'POD', pid: 'TARGET', ipc: 'POD', targetId: 'abc' },
      runAsUser: { value: 0 },
      runAsGroup: { value: '65534' },
      runAsUsername: '',
      readonlyRootfs: true,
      supplementalGroups: [1, '2', 4294967296],
      noNewPrivs: true,
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: [],
    },
  },
};

describe('CRI codec (against @grpc/proto-loader)', () => {
  const requests: [string, 'runtime' | 'image', Record<string, unknown>][] = [
    ['RunPodSandbox', 'runtime', { config: sandboxConfig, runtimeHandler: '' }],
    ['CreateContainer', 'runtime', { podSandboxId: 's1', config: containerConfig, sandboxConfig }],
    ['ListContainers', 'runtime', { filter: { podSandboxId: 's1', state: { state: 'CONTAINER_EXITED' }, labelSelector: { a: 'b' } } }],
    ['ListPodSandbox', 'runtime', { filter: {} }],
    ['StopContainer', 'runtime', { containerId: 'c1', timeout: 30 }],
    ['ExecSync', 'runtime', { containerId: 'c1', cmd: ['true'], timeout: 0 }],
    ['PortForward', 'runtime', { podSandboxId: 's', port: [80, 65535] }],
    ['UpdateContainerResources', 'runtime', { containerId: 'c', linux: { cpuQuota: 50000, memoryLimitInBytes: 0 } }],
    ['PullImage', 'image', { image: { image: 'x' }, auth: { username: 'u', password: 'p', auth: '', serverAddress: 'r', identityToken: '', registryToken: '' } }],
    ['ImageFsInfo', 'image', {}],
  ];
  it.each(requests)('encodes %s requests the reference decodes to the same object', (method, svc, req) => {
    const types = methodTypes(svc === 'runtime' ? 'RuntimeService' : 'ImageService', method);
    const ours = encodeMessage(types.request, req);
    const r = ref(svc, method);
    expect(r.requestDeserialize(ours)).toEqual(r.requestDeserialize(r.requestSerialize(req)));
    // and decodes the reference's bytes as the reference does
    expect(decodeMessage(types.request, r.requestSerialize(req))).toEqual(r.requestDeserialize(r.requestSerialize(req)));
  });

  const responses: [string, 'runtime' | 'image', Record<string, unknown>][] = [
    ['Version', 'runtime', { version: '0.1.0', runtimeName: 'containerd', runtimeVersion: 'v2', runtimeApiVersion: 'v1' }],
    ['Status', 'runtime', { status: { conditions: [{ type: 'RuntimeReady', status: true, reason: '', message: '' }] }, info: { config: '{}' } }],
    ['ListContainers', 'runtime', { containers: [{ id: 'a', podSandboxId: 's', state: 'CONTAINER_RUNNING', createdAt: '1700000000000000000', labels: { k: 'v' } }, {}] }],
    [
      'ContainerStatus',
      'runtime',
      {
        status: {
          id: 'c',
          metadata: { name: 'c', attempt: 2 },
          state: 'CONTAINER_EXITED',
          exitCode: -1,
          finishedAt: '-5',
          mounts: [{ containerPath: '/a', propagation: 'PROPAGATION_HOST_TO_CONTAINER' }],
          resources: { linux: { cpuShares: '1024', memoryLimitInBytes: '18446744073709551615' } },
        },
        info: {},
      },
    ],
    ['PodSandboxStatus', 'runtime', { status: { id: 's', network: { ip: '10.0.0.2', additionalIps: [{ ip: 'fd00::2' }] }, linux: { namespaces: { options: { network: 'NODE' } } } } }],
    ['ExecSync', 'runtime', { stdout: Buffer.from('out\n'), stderr: Buffer.alloc(0), exitCode: 3 }],
    ['ContainerStats', 'runtime', { stats: { writableLayer: { usedBytes: { value: '4096' } } } }],
    ['ImageStatus', 'image', { image: { id: 'sha256:x', repoTags: ['a:b'], size: '123', uid: { value: '0' }, username: '' } }],
    ['ImageStatus', 'image', {}],
    ['StopContainer', 'runtime', {}],
  ];
  it.each(responses)('decodes %s responses as the reference does', (method, svc, res) => {
    const types = methodTypes(svc === 'runtime' ? 'RuntimeService' : 'ImageService', method);
    const r = ref(svc, method);
    const bytes = r.responseSerialize(res);
    expect(decodeMessage(types.response, bytes)).toEqual(r.responseDeserialize(bytes));
    // our own bytes decode to the same as well
    expect(decodeMessage(types.response, encodeMessage(types.response, res))).toEqual(r.responseDeserialize(bytes));
  });

  it('skips unknown fields and rejects truncated bytes and wrong shapes with a WireError', () => {
    // field 15 (unknown to VersionResponse) as a string, then runtime_name = "x"
    const bytes = Buffer.from([0x7a, 0x01, 0x41, 0x12, 0x01, 0x78]);
    expect(decodeMessage('VersionResponse', bytes)).toMatchObject({ runtimeName: 'x' });
    expect(() => decodeMessage('VersionResponse', Buffer.from([0x12, 0x05, 0x78]))).toThrow(WireError);
    expect(() => encodeMessage('ListContainersRequest', { filter: 'x' })).toThrow(/ListContainersRequest.filter: object expected/);
    expect(() => encodeMessage('ExecRequest', { cmd: 'ls' })).toThrow(/array expected/);
    expect(() => methodTypes('RuntimeService', 'Nope')).toThrow(WireError);
  });
});
