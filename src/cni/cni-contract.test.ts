import { parseConfList } from './conf.js';
import { runCniPluginContract } from './cni-contract.js';
import { FakeCniPlugin } from './fake-plugin.js';

runCniPluginContract('FakeCniPlugin', async () => {
  const plugin = new FakeCniPlugin({ missingTypes: ['nosuchplugin'] });
  const list = parseConfList(JSON.stringify({ cniVersion: '1.0.0', name: 'fakenet', plugins: [{ type: 'bridge' }, { type: 'portmap', capabilities: { portMappings: true } }] }));
  return {
    plugin,
    list,
    brokenList: { ...list, plugins: [{ type: 'nosuchplugin' }] },
    newNetns: async (n) => `/var/run/netns/fake-${n}`,
    allocations: async () => plugin.allocations('fakenet'),
    dropCache: async (id) => plugin.forgetCached(id),
    cleanup: async () => undefined,
  };
});
