import { describe, expect, it } from 'vitest';
import { parseConfList } from './conf.js';
import { buildPluginConf, cniArgsString } from './invoke.js';
import type { RuntimeConf } from './types.js';

const list = parseConfList(
  JSON.stringify({
    cniVersion: '1.0.0',
    name: 'net',
    plugins: [
      { type: 'bridge', capabilities: { ips: true }, ipam: { type: 'host-local', ranges: [[{ subnet: '10.1.2.0/24' }]] } },
      { type: 'portmap', capabilities: { portMappings: true, ips: false } },
      { type: 'tuning' },
    ],
  }),
);
const rt: RuntimeConf = {
  containerId: 'c1',
  netns: '/run/netns/x',
  ifName: 'eth0',
  args: [['IgnoreUnknown', '1'], ['K8S_POD_NAME', 'p']],
  capabilityArgs: { ips: ['10.1.2.3/24'], portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], bandwidth: { ingressRate: 1 } },
};

describe('buildPluginConf (libcni buildOneConfig)', () => {
  it('gives each plugin only the runtimeConfig capabilities it declares true', () => {
    const [bridge, portmap, tuning] = list.plugins.map((p) => buildPluginConf(list, p, rt, undefined));
    expect(bridge?.['runtimeConfig']).toEqual({ ips: ['10.1.2.3/24'] });
    expect(portmap?.['runtimeConfig']).toEqual({ portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
    expect(tuning).not.toHaveProperty('runtimeConfig');
    expect(bridge).toMatchObject({ name: 'net', cniVersion: '1.0.0', type: 'bridge' });
  });

  it('leaves runtimeConfig out when a declared capability has no value', () => {
    const conf = buildPluginConf(list, list.plugins[0]!, { ...rt, capabilityArgs: { portMappings: [] } }, undefined);
    expect(conf).not.toHaveProperty('runtimeConfig');
  });

  it('joins CNI_ARGS as K=V;K=V', () => {
    expect(cniArgsString(rt.args)).toBe('IgnoreUnknown=1;K8S_POD_NAME=p');
  });
});
