import { describe, expect, it } from 'vitest';
import { containerConfig, sandboxConfig } from '../contract-fixtures.js';
import { fromDockerLabels } from './labels.js';
import { bindsOf, containerCreateOptions, extraHosts, mountsOf, sandboxCreateOptions, userOf } from './specs.js';

const SPEC = { logMaxSize: '10m', logMaxFiles: 5 };
const sb = sandboxConfig('web', { team: 'a' }, { annotations: { 'kubernetes.io/config.source': 'api' } });
sb.metadata.uid = 'u1';

describe('sandboxCreateOptions', () => {
  it('names, labels and isolates the sandbox like dockershim', () => {
    const o = sandboxCreateOptions(
      { ...sb, portMappings: [{ protocol: 'UDP', containerPort: 53, hostPort: 5353, hostIp: '127.0.0.1' }] },
      SPEC,
    );
    expect(o.name).toBe('k8s_POD_web_contract_u1_0');
    expect(o.Hostname).toBe('web');
    expect(o.Labels).toMatchObject({
      team: 'a',
      'annotation.kubernetes.io/config.source': 'api',
      'io.kubernetes.docker.type': 'podsandbox',
    });
    expect(o.HostConfig).toMatchObject({
      NetworkMode: 'bridge',
      IpcMode: 'shareable',
      PortBindings: { '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }] },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '5' } },
      OomScoreAdj: -998,
    });
    expect(o.ExposedPorts).toEqual({ '53/udp': {} });
  });

  it('uses the host namespaces and no hostname for host networking; respects the oom floor', () => {
    const o = sandboxCreateOptions(
      {
        ...sb,
        dnsConfig: { servers: ['10.0.0.10'], searches: [], options: [] },
        linux: { namespaceOptions: { network: 'node', pid: 'node', ipc: 'node' }, extraHosts: ['10.0.0.1 a'] },
      },
      { ...SPEC, oomScoreAdjFloor: 0 },
    );
    expect(o.Hostname).toBeUndefined();
    expect(o.HostConfig).toMatchObject({ NetworkMode: 'host', PidMode: 'host', IpcMode: 'host' });
    expect(o.HostConfig?.Dns).toBeUndefined();
    expect(o.HostConfig?.ExtraHosts).toEqual([]);
    expect(o.HostConfig?.OomScoreAdj).toBeUndefined();
  });

  it('converts CRI extra hosts to docker host:ip entries', () => {
    expect(extraHosts(['10.0.0.1 a b', ' 10.0.0.2  c ', 'd:10.0.0.3', ''])).toEqual([
      'a:10.0.0.1',
      'b:10.0.0.1',
      'c:10.0.0.2',
      'd:10.0.0.3',
    ]);
  });
});

describe('containerCreateOptions', () => {
  const make = (overrides: Parameters<typeof containerConfig>[3]) =>
    containerCreateOptions('sb1', containerConfig('app', sb, {}, overrides), sb, '/logs/app/0.log', SPEC);

  it('follows Kubernetes command/args semantics', () => {
    const both = make({ command: ['/bin/app'], args: ['-v'] });
    expect([both.Entrypoint, both.Cmd]).toEqual([['/bin/app'], ['-v']]);
    const commandOnly = make({ command: ['/bin/app'], args: [] });
    expect([commandOnly.Entrypoint, commandOnly.Cmd]).toEqual([['/bin/app'], []]);
    const argsOnly = make({ command: [], args: ['x'] });
    expect('Entrypoint' in argsOnly).toBe(false);
    expect(argsOnly.Cmd).toEqual(['x']);
    const neither = make({ command: [], args: [] });
    expect('Entrypoint' in neither || 'Cmd' in neither).toBe(false);
  });

  it('joins the sandbox namespaces, sharing PID only for pid=pod', () => {
    const own = make({});
    expect(own.HostConfig).toMatchObject({ NetworkMode: 'container:sb1', IpcMode: 'container:sb1', PidMode: '' });
    const shared = make({
      linux: { resources: {}, securityContext: { namespaceOptions: { network: 'pod', pid: 'pod', ipc: 'pod' } } },
    });
    expect(shared.HostConfig?.PidMode).toBe('container:sb1');
    expect(own.name).toBe('k8s_app_web_contract_u1_0');
    expect(own.Labels).toMatchObject({
      'io.kubernetes.docker.type': 'container',
      'io.kubernetes.sandbox.id': 'sb1',
      'io.kubernetes.container.logpath': '/logs/app/0.log',
    });
  });

  it('maps resources with no extra swap and floors oom_score_adj', () => {
    const o = containerCreateOptions(
      'sb1',
      containerConfig('app', sb, {}, {
        linux: {
          resources: { memoryLimitInBytes: 1 << 20, cpuShares: 2, cpuQuota: 0, pidsLimit: 10, oomScoreAdj: -997 },
          securityContext: { namespaceOptions: sb.linux.namespaceOptions },
        },
      }),
      sb,
      '',
      { ...SPEC, oomScoreAdjFloor: 0 },
    );
    expect(o.HostConfig).toMatchObject({ Memory: 1 << 20, MemorySwap: 1 << 20, CpuShares: 2, PidsLimit: 10, OomScoreAdj: 0 });
    expect(o.HostConfig?.CpuQuota).toBeUndefined();
  });

  it('builds users from the security context', () => {
    const ns = sb.linux.namespaceOptions;
    expect(userOf({ namespaceOptions: ns })).toBe('');
    expect(userOf({ namespaceOptions: ns, runAsUser: 1000 })).toBe('1000');
    expect(userOf({ namespaceOptions: ns, runAsUser: 1000, runAsGroup: 3000 })).toBe('1000:3000');
    expect(userOf({ namespaceOptions: ns, runAsUsername: 'app' })).toBe('app');
    expect(userOf({ namespaceOptions: ns, runAsGroup: 3000 })).toBe('0:3000');
  });

  it('mounts the sandbox hosts file unless the container brings its own', () => {
    const withHosts = { ...sb, linux: { ...sb.linux, hostsPath: '/pods/u1/etc-hosts' } };
    const plain = containerCreateOptions('sb1', containerConfig('app', sb, {}), withHosts, '', SPEC);
    expect(plain.HostConfig?.Binds).toEqual(['/pods/u1/etc-hosts:/etc/hosts']);
    const own = containerConfig('app', sb, {}, { mounts: [{ hostPath: '/h', containerPath: '/etc/hosts', readonly: true }] });
    expect(containerCreateOptions('sb1', own, withHosts, '', SPEC).HostConfig?.Binds).toEqual(['/h:/etc/hosts:ro']);
  });

  it('round-trips binds and mounts', () => {
    const mounts = [
      { hostPath: '/a', containerPath: '/x', readonly: true },
      { hostPath: '/b', containerPath: '/y', readonly: false, propagation: 'rslave' as const },
      { hostPath: '/c', containerPath: '/z', readonly: true, propagation: 'rshared' as const },
    ];
    expect(bindsOf(mounts)).toEqual(['/a:/x:ro', '/b:/y:rslave', '/c:/z:ro,rshared']);
    expect(mountsOf(bindsOf(mounts))).toEqual(mounts);
  });

  it('stores annotations as labels and gives them back separately', () => {
    const o = make({ labels: { a: '1' }, annotations: { 'x/y': 'v=w' } });
    expect(fromDockerLabels(o.Labels)).toEqual({ labels: { a: '1' }, annotations: { 'x/y': 'v=w' } });
  });
});
