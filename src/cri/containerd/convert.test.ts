import { describe, expect, it } from 'vitest';
import { containerConfig, sandboxConfig } from '../contract-fixtures.js';
import { DEFAULT_MASKED_PATHS } from '../security-defaults.js';
import {
  DEFAULT_PATH,
  defaultLogDirectory,
  fromCriContainerStatus,
  fromCriSandboxStatus,
  nanosToMs,
  toCriContainerConfig,
  toCriSandboxConfig,
} from './convert.js';

const labels = { 'io.nodelet.test': 'unit' };

describe('CRI conversion', () => {
  it('builds a sandbox config: metadata, namespaces, DNS, ports, sysctls; no hostname with host networking', () => {
    const cfg = sandboxConfig('web', labels, {
      dnsConfig: { servers: ['10.96.0.10'], searches: ['a.svc'], options: ['ndots:5'] },
      portMappings: [{ protocol: 'UDP', containerPort: 53, hostPort: 5353 }],
    });
    cfg.linux.sysctls = { 'net.ipv4.ip_unprivileged_port_start': '0' };
    const cri = toCriSandboxConfig(cfg, '/logs/x');
    expect(cri).toMatchObject({
      metadata: { name: 'web', namespace: 'contract', uid: cfg.metadata.uid, attempt: 0 },
      hostname: 'web',
      logDirectory: '/logs/x',
      dnsConfig: { servers: ['10.96.0.10'] },
      portMappings: [{ protocol: 'UDP', containerPort: 53, hostPort: 5353, hostIp: '' }],
      linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } }, sysctls: cfg.linux.sysctls },
    });
    const host = sandboxConfig('h', labels, { namespaceOptions: { network: 'node', pid: 'node', ipc: 'node' } });
    expect(toCriSandboxConfig(host, '/l')).toMatchObject({ hostname: '', linux: { securityContext: { namespaceOptions: { network: 'NODE', pid: 'NODE', ipc: 'NODE' } } } });
    expect(defaultLogDirectory('/var/log/pods', cfg)).toBe(`/var/log/pods/contract_web_${cfg.metadata.uid}`);
  });

  it('builds a container config: command/args, env with a default PATH, hosts file mount, user, pod namespaces', () => {
    const sb = sandboxConfig('p', labels);
    sb.linux.hostsPath = '/var/lib/nodelet/pods/u/etc-hosts';
    const c = containerConfig('app', sb, labels, {
      command: ['sh', '-c'],
      args: ['echo hi'],
      envs: [{ key: 'A', value: '1' }],
      mounts: [{ hostPath: '/h', containerPath: '/d', readonly: true, propagation: 'rslave' }],
    });
    c.linux.securityContext = { ...c.linux.securityContext, runAsUser: 1000, runAsGroup: 2000, supplementalGroups: [3], capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] } };
    c.linux.resources = { memoryLimitInBytes: 1 << 26, cpuShares: 0, oomScoreAdj: -500 };
    const cri = toCriContainerConfig(c, sb, 'app/0.log', []);
    expect(cri).toMatchObject({
      command: ['sh', '-c'],
      args: ['echo hi'],
      envs: [{ key: 'PATH', value: DEFAULT_PATH }, { key: 'A', value: '1' }],
      logPath: 'app/0.log',
      mounts: [
        { hostPath: '/h', containerPath: '/d', readonly: true, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
        { hostPath: sb.linux.hostsPath, containerPath: '/etc/hosts', readonly: false, propagation: 'PROPAGATION_PRIVATE' },
      ],
      linux: {
        resources: { memoryLimitInBytes: 1 << 26, oomScoreAdj: -500 },
        securityContext: {
          runAsUser: { value: 1000 },
          runAsGroup: { value: 2000 },
          runAsUsername: '',
          supplementalGroups: [3],
          capabilities: { addCapabilities: ['NET_ADMIN'], dropCapabilities: ['ALL'] },
          namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' },
          maskedPaths: DEFAULT_MASKED_PATHS,
        },
      },
    });
    expect(cri.linux.resources.cpuShares).toBeUndefined();
    // The image's PATH (or an explicit one) wins over the default.
    expect(toCriContainerConfig(c, sb, 'x', ['PATH=/bin']).envs).toEqual([{ key: 'A', value: '1' }]);
  });

  it('converts statuses: int64 nanosecond strings, namespaces, IPs, mounts', () => {
    expect(nanosToMs('1700000000123456789')).toBe(1_700_000_000_123);
    expect(nanosToMs('0')).toBe(0);
    const sb = fromCriSandboxStatus({
      id: 's',
      metadata: { name: 'n', namespace: 'ns', uid: 'u', attempt: 1 },
      state: 'SANDBOX_NOTREADY',
      createdAt: '1700000000000000000',
      labels: { a: 'b' },
      annotations: { x: 'y' },
      network: { ip: '10.213.140.5', additionalIps: [{ ip: 'fd00::5' }] },
      linux: { namespaces: { options: { network: 'NODE', pid: 'POD', ipc: 'NODE' } } },
    });
    expect(sb).toEqual({
      id: 's',
      metadata: { name: 'n', namespace: 'ns', uid: 'u', attempt: 1 },
      state: 'notready',
      createdAt: 1_700_000_000_000,
      labels: { a: 'b' },
      annotations: { x: 'y' },
      ip: '10.213.140.5',
      additionalIps: ['fd00::5'],
      namespaceOptions: { network: 'node', pid: 'pod', ipc: 'node' },
    });
    const base = (): Parameters<typeof fromCriContainerStatus>[0] => ({
      id: 'c',
      metadata: { name: 'app', attempt: 2 },
      image: { image: 'localhost/x:1' },
      imageRef: 'sha256:abc',
      state: 'CONTAINER_EXITED',
      createdAt: '1000000',
      startedAt: '2000000',
      finishedAt: '3000000',
      exitCode: 137,
      reason: 'OOMKilled',
      message: '',
      labels: {},
      annotations: {},
      mounts: [{ containerPath: '/d', hostPath: '/h', readonly: false, propagation: 'PROPAGATION_BIDIRECTIONAL' }],
      logPath: '/l/app/2.log',
    });
    const st = fromCriContainerStatus(base(), 's');
    expect(st).toMatchObject({ podSandboxId: 's', state: 'exited', createdAt: 1, startedAt: 2, finishedAt: 3, exitCode: 137, reason: 'OOMKilled' });
    expect(st.mounts).toEqual([{ containerPath: '/d', hostPath: '/h', readonly: false, propagation: 'rshared' }]);
    // A process that exited before containerd stamped its start: finished is never before started.
    const quick = fromCriContainerStatus({ ...base(), startedAt: '5000000', finishedAt: '4000000' }, 's');
    expect([quick.startedAt, quick.finishedAt]).toEqual([5, 5]);
  });
});
