import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { hostNetworkHostsContent, managedHostsContent, podHostnameAndDomain, sandboxHostname } from './hosts.js';

function pod(spec: Partial<NonNullable<V1Pod['spec']>> = {}, name = 'web-0'): V1Pod {
  return { metadata: { name, namespace: 'shop', uid: 'u' }, spec: { containers: [], ...spec } };
}

describe('hostname and domain', () => {
  it('defaults to the pod name; spec.hostname and subdomain build the FQDN parts', () => {
    expect(podHostnameAndDomain(pod(), 'cluster.local')).toEqual({ hostname: 'web-0', domain: '' });
    expect(podHostnameAndDomain(pod({ hostname: 'db', subdomain: 'backend' }), 'cluster.local')).toEqual({
      hostname: 'db',
      domain: 'backend.shop.svc.cluster.local',
    });
  });

  it('truncates long pod names to 63 characters without a trailing dash or dot', () => {
    const name = `${'a'.repeat(62)}-bbbb`;
    expect(podHostnameAndDomain(pod({}, name), 'c').hostname).toBe('a'.repeat(62));
  });

  it('rejects an invalid hostname naming the field', () => {
    expect(() => podHostnameAndDomain(pod({ hostname: 'Bad_Name' }), 'c')).toThrow(/pod Hostname "Bad_Name" is not a valid DNS label/);
  });

  it('setHostnameAsFQDN gives the sandbox the FQDN', () => {
    expect(sandboxHostname(pod({ hostname: 'db', subdomain: 'backend', setHostnameAsFQDN: true }), 'cluster.local')).toBe(
      'db.backend.shop.svc.cluster.local',
    );
    expect(sandboxHostname(pod({ setHostnameAsFQDN: true }), 'cluster.local')).toBe('web-0');
  });
});

describe('hosts file content', () => {
  it('matches upstream: header, localhost lines, pod IPs with FQDN, hostAliases block', () => {
    const text = managedHostsContent(['10.1.0.5', 'fd00::5'], 'db', 'backend.shop.svc.cluster.local', [
      { ip: '10.9.9.9', hostnames: ['foo.local', 'bar.local'] },
      { ip: '10.9.9.8', hostnames: ['baz.local'] },
    ]);
    expect(text).toBe(
      [
        '# Kubernetes-managed hosts file.',
        '127.0.0.1\tlocalhost',
        '::1\tlocalhost ip6-localhost ip6-loopback',
        'fe00::0\tip6-localnet',
        'fe00::0\tip6-mcastprefix',
        'fe00::1\tip6-allnodes',
        'fe00::2\tip6-allrouters',
        '10.1.0.5\tdb.backend.shop.svc.cluster.local\tdb',
        'fd00::5\tdb.backend.shop.svc.cluster.local\tdb',
        '',
        '# Entries added by HostAliases.',
        '10.9.9.9\tfoo.local\tbar.local',
        '10.9.9.8\tbaz.local',
        '',
      ].join('\n'),
    );
  });

  it('without a subdomain the pod IP maps to the short hostname only', () => {
    expect(managedHostsContent(['10.1.0.5'], 'web-0', '')).toMatch(/\n10\.1\.0\.5\tweb-0\n$/);
  });

  it('hostNetwork pods get the node file with a header and hostAliases', () => {
    expect(hostNetworkHostsContent('127.0.0.1 localhost\n', [{ ip: '1.2.3.4', hostnames: ['x'] }])).toBe(
      '# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n\n# Entries added by HostAliases.\n1.2.3.4\tx\n',
    );
  });
});
