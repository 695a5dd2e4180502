import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { envVarsFromServices, serviceEnvMap } from './service-env.js';

function svc(ns: string, name: string, ip: string, ports: { name?: string; port: number; protocol?: string }[]): V1Service {
  return { metadata: { namespace: ns, name }, spec: { clusterIP: ip, ports } };
}

describe('service environment variables', () => {
  it('renders host, ports and docker link variables like upstream', () => {
    const env = envVarsFromServices([
      svc('ns', 'my-db', '10.0.0.7', [{ name: 'sql', port: 5432 }, { name: 'metrics-udp', port: 9000, protocol: 'UDP' }]),
    ]);
    expect(env).toEqual([
      { name: 'MY_DB_SERVICE_HOST', value: '10.0.0.7' },
      { name: 'MY_DB_SERVICE_PORT', value: '5432' },
      { name: 'MY_DB_SERVICE_PORT_SQL', value: '5432' },
      { name: 'MY_DB_SERVICE_PORT_METRICS_UDP', value: '9000' },
      { name: 'MY_DB_PORT', value: 'tcp://10.0.0.7:5432' },
      { name: 'MY_DB_PORT_5432_TCP', value: 'tcp://10.0.0.7:5432' },
      { name: 'MY_DB_PORT_5432_TCP_PROTO', value: 'tcp' },
      { name: 'MY_DB_PORT_5432_TCP_PORT', value: '5432' },
      { name: 'MY_DB_PORT_5432_TCP_ADDR', value: '10.0.0.7' },
      { name: 'MY_DB_PORT_9000_UDP', value: 'udp://10.0.0.7:9000' },
      { name: 'MY_DB_PORT_9000_UDP_PROTO', value: 'udp' },
      { name: 'MY_DB_PORT_9000_UDP_PORT', value: '9000' },
      { name: 'MY_DB_PORT_9000_UDP_ADDR', value: '10.0.0.7' },
    ]);
  });

  it('brackets IPv6 cluster IPs in URLs', () => {
    const env = new Map(envVarsFromServices([svc('ns', 'v6', 'fd00::1', [{ port: 80 }])]).map((e) => [e.name, e.value]));
    expect(env.get('V6_PORT')).toBe('tcp://[fd00::1]:80');
    expect(env.get('V6_PORT_80_TCP_ADDR')).toBe('fd00::1');
  });

  const all = [
    svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443 }]),
    svc('default', 'other', '10.96.0.9', [{ port: 80 }]),
    svc('app', 'web', '10.96.0.2', [{ port: 8080 }]),
    svc('app', 'headless', 'None', [{ port: 80 }]),
    svc('app', 'noip', '', [{ port: 80 }]),
    svc('elsewhere', 'db', '10.96.0.3', [{ port: 5432 }]),
  ];

  it('includes the pod namespace services and default/kubernetes, skips headless and other namespaces', () => {
    const m = serviceEnvMap(all, 'app', true);
    expect(m.get('KUBERNETES_SERVICE_HOST')).toBe('10.96.0.1');
    expect(m.get('KUBERNETES_SERVICE_PORT')).toBe('443');
    expect(m.get('KUBERNETES_SERVICE_PORT_HTTPS')).toBe('443');
    expect(m.get('WEB_SERVICE_HOST')).toBe('10.96.0.2');
    expect([...m.keys()].some((k) => k.startsWith('HEADLESS') || k.startsWith('NOIP') || k.startsWith('DB_') || k.startsWith('OTHER'))).toBe(false);
  });

  it('enableServiceLinks=false keeps only the kubernetes service', () => {
    const m = serviceEnvMap(all, 'app', false);
    expect(m.get('KUBERNETES_SERVICE_HOST')).toBe('10.96.0.1');
    expect(m.has('WEB_SERVICE_HOST')).toBe(false);
  });

  it('a service named kubernetes in the pod namespace wins over default/kubernetes', () => {
    const m = serviceEnvMap([...all, svc('app', 'kubernetes', '10.96.5.5', [{ port: 1 }])], 'app', true);
    expect(m.get('KUBERNETES_SERVICE_HOST')).toBe('10.96.5.5');
  });
});
