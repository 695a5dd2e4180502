import { describe, expect, it } from 'vitest';
import { isCniError } from './errors.js';
import { bandwidthCapability, IPS_ANNOTATION, ipsCapability, portMappingsCapability } from './capabilities.js';

describe('CNI capabilities', () => {
  it('ips: none without the annotation or with an empty list', () => {
    expect(ipsCapability({})).toBeUndefined();
    expect(ipsCapability({ [IPS_ANNOTATION]: '' })).toBeUndefined();
    expect(ipsCapability({ [IPS_ANNOTATION]: '[]' })).toBeUndefined();
  });

  it('ips: a JSON array or a comma-separated list, addresses with or without a prefix, one per family', () => {
    expect(ipsCapability({ [IPS_ANNOTATION]: '["10.1.2.3/24", "fd00::3/64"]' })).toEqual(['10.1.2.3/24', 'fd00::3/64']);
    expect(ipsCapability({ [IPS_ANNOTATION]: ' 10.1.2.3 , fd00::3/128' })).toEqual(['10.1.2.3', 'fd00::3/128']);
    expect(ipsCapability({ [IPS_ANNOTATION]: '10.1.2.3/32' })).toEqual(['10.1.2.3/32']);
  });

  it.each([
    ['not JSON', '["10.1.2.3"'],
    ['not an array', '[1, 2]'],
    ['not an address', 'web-1'],
    ['prefix too long (IPv4)', '10.1.2.3/33'],
    ['prefix too long (IPv6)', 'fd00::3/129'],
    ['prefix not a number', '10.1.2.3/x'],
    ['two slashes', '10.1.2.3/24/1'],
    ['two IPv4 addresses', '10.1.2.3,10.1.2.4'],
  ])('ips: rejects %s with a bad-config error naming the annotation', (_why, value) => {
    let err: unknown;
    try {
      ipsCapability({ [IPS_ANNOTATION]: value });
    } catch (e) {
      err = e;
    }
    expect(isCniError(err, 'bad-config')).toBe(true);
    expect((err as Error).message).toContain(IPS_ANNOTATION);
    expect((err as { field?: string }).field).toBe(`metadata.annotations[${IPS_ANNOTATION}]`);
  });

  it('portMappings: only mappings with a host port, protocol lower-cased, hostIP when set', () => {
    expect(
      portMappingsCapability([
        { protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '' },
        { protocol: 'UDP', containerPort: 53, hostPort: 0 },
        { protocol: 'SCTP', containerPort: 9, hostPort: 9009, hostIp: '127.0.0.1' },
      ]),
    ).toEqual([
      { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostPort: 9009, containerPort: 9, protocol: 'sctp', hostIP: '127.0.0.1' },
    ]);
  });

  it('bandwidth: rates from the annotations, unlimited burst; none without them', () => {
    expect(bandwidthCapability({})).toBeUndefined();
    expect(bandwidthCapability({ 'kubernetes.io/ingress-bandwidth': '1M', 'kubernetes.io/egress-bandwidth': '2Mi' })).toEqual({
      ingressRate: 1e6,
      ingressBurst: 2 ** 31 - 1,
      egressRate: 2 * 2 ** 20,
      egressBurst: 2 ** 31 - 1,
    });
  });
});
