import { describe, expect, it } from 'vitest';
import { hasCode } from '../../src/util/errors.js';
import { parseConfigText } from '../../src/config/index.js';

const KUBELET = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';
const PROXY = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n';

function error(text: string): Error & { field?: string } {
  try {
    parseConfigText(text, '/etc/nodelet/config.yaml');
  } catch (err) {
    expect(hasCode(err, 'CONFIG_INVALID')).toBe(true);
    return err as Error & { field?: string };
  }
  throw new Error('expected a ConfigError');
}

describe('config file parsing', () => {
  it('reads both documents of one YAML stream', () => {
    const docs = parseConfigText(`${KUBELET}maxPods: 50\nstaticPodPath: /etc/kubernetes/manifests\n---\n${PROXY}mode: iptables\niptables:\n  syncPeriod: 15s\n`, 'c.yaml');
    expect(docs.kubelet?.maxPods).toBe(50);
    expect(docs.kubelet?.staticPodPath).toBe('/etc/kubernetes/manifests');
    expect(docs.proxy?.iptables?.syncPeriod).toBe('15s');
  });

  it('accepts JSON and empty documents', () => {
    const docs = parseConfigText('---\n---\n{"apiVersion":"kubelet.config.k8s.io/v1beta1","kind":"KubeletConfiguration","failSwapOn":false}\n', 'c.json');
    expect(docs.kubelet?.failSwapOn).toBe(false);
    expect(docs.proxy).toBeUndefined();
  });

  it('rejects a misspelled field naming it, the file, the document and a suggestion', () => {
    const err = error(`${KUBELET}staticPodPth: /etc/kubernetes/manifests\n`);
    expect(err.message).toContain('/etc/nodelet/config.yaml');
    expect(err.message).toContain('document 1 (KubeletConfiguration)');
    expect(err.message).toContain('unknown field "staticPodPth" (did you mean "staticPodPath"?)');
    expect(err.field).toBe('staticPodPth');
  });

  it('rejects maxPod (typo) and a nested typo in the proxy document', () => {
    expect(error(`${KUBELET}maxPod: 10\n`).message).toContain('did you mean "maxPods"');
    const err = error(`${KUBELET}---\n${PROXY}iptables:\n  syncPerod: 10s\n`);
    expect(err.message).toContain('document 2 (KubeProxyConfiguration)');
    expect(err.message).toContain('unknown field "iptables.syncPerod" (did you mean "iptables.syncPeriod"?)');
  });

  it('rejects a wrong type naming the field and what is allowed', () => {
    const err = error(`${KUBELET}maxPods: ten\n`);
    expect(err.message).toContain('field "maxPods": expected an integer from 1 to 10000 (got "ten")');
    expect(error(`${KUBELET}failSwapOn: "no"\n`).message).toContain('field "failSwapOn": expected true or false');
  });

  it('rejects out-of-range values and bad enums with the allowed values', () => {
    expect(error(`${KUBELET}maxPods: 0\n`).message).toContain('field "maxPods": must be an integer from 1 to 10000 (got 0)');
    expect(error(`${KUBELET}healthzPort: 70000\n`).message).toContain('field "healthzPort": must be an integer from 0 to 65535');
    expect(error(`${KUBELET}cgroupDriver: foo\n`).message).toContain('allowed values: "cgroupfs", "systemd"');
    expect(error(`${PROXY}mode: ipvs\n`).message).toContain('field "mode": allowed values: "iptables"');
    expect(error(`${PROXY}iptables:\n  masqueradeBit: 32\n`).message).toContain('field "iptables.masqueradeBit": must be an integer from 0 to 31');
  });

  it('validates durations, quantities, eviction signals, IPs and CIDRs', () => {
    expect(error(`${KUBELET}syncFrequency: 10\n`).message).toContain('field "syncFrequency"');
    expect(error(`${KUBELET}syncFrequency: 10x\n`).message).toContain('expected a duration such as "10s"');
    expect(error(`${KUBELET}kubeReserved:\n  memory: lots\n`).message).toContain('field "kubeReserved.memory": expected a quantity');
    expect(error(`${KUBELET}evictionHard:\n  memory.avail: 1Mi\n`).message).toContain('did you mean "evictionHard.memory.available"');
    expect(error(`${KUBELET}clusterDNS: [10.96.0.300]\n`).message).toContain('field "clusterDNS[0]": expected an IP address');
    expect(error(`${PROXY}clusterCIDR: 10.244.0.0/33\n`).message).toContain('field "clusterCIDR"');
    expect(error(`${PROXY}healthzBindAddress: 0.0.0.0\n`).message).toContain('expected "<ip>:<port>"');
  });

  it('rejects unknown kinds, wrong apiVersions, duplicates and broken YAML', () => {
    expect(error('apiVersion: v1\nkind: Pod\n').message).toContain('unknown kind "Pod" (allowed kinds: KubeletConfiguration');
    expect(error('apiVersion: kubelet.config.k8s.io/v1\nkind: KubeletConfiguration\n').message).toContain('field "apiVersion": allowed values: "kubelet.config.k8s.io/v1beta1"');
    expect(error(`${KUBELET}---\n${KUBELET}`).message).toContain('a second KubeletConfiguration');
    expect(error(`${KUBELET}maxPods: [1\n`).message).toContain('invalid YAML');
    expect(error('- a\n- b\n').message).toContain('expected a mapping');
  });
});
