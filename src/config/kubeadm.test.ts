import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram, rawFlags } from '../cli/program.js';
import { resolveConfig } from './resolve.js';

// The files `kubeadm join` (v1.33) writes work as they are: /var/lib/kubelet/config.yaml and the arguments of
// /var/lib/kubelet/kubeadm-flags.env, on the command line of systemd/kubeadm/10-kubeadm.conf.
describe('kubeadm join files', () => {
  const dir = join(import.meta.dirname, 'testdata');
  const envArgs = /KUBELET_KUBEADM_ARGS="([^"]*)"/.exec(readFileSync(join(dir, 'kubeadm-flags.env'), 'utf8'))![1]!.split(' ');
  const dropIn = readFileSync(join(import.meta.dirname, '../../systemd/kubeadm/10-kubeadm.conf'), 'utf8');
  const env = (name: string): string[] => new RegExp(`${name}=([^"]*)"`).exec(dropIn)![1]!.split(' ');

  it('parses with the drop-in arguments; "0s" durations mean the upstream defaults', () => {
    const argv = [
      ...env('KUBELET_KUBECONFIG_ARGS'),
      ...env('KUBELET_CONFIG_ARGS').map((a) => (a.startsWith('--config=') ? `--config=${join(dir, 'kubeadm-config.yaml')}` : a)),
      ...envArgs,
      '--roles=kubelet',
      '--cert-dir=/var/lib/kubelet/pki',
    ];
    const program = buildProgram().exitOverride();
    program.parse(['node', 'nodelet', ...argv]);
    const c = resolveConfig({ flags: rawFlags(program), hostname: 'worker-1' });
    expect(c.bootstrapKubeconfig).toBe('/etc/kubernetes/bootstrap-kubelet.conf');
    expect(c.kubeconfig).toBe('/etc/kubernetes/kubelet.conf');
    expect(c.certDir).toBe('/var/lib/kubelet/pki');
    expect(c.kubelet.rotateCertificates).toBe(true);
    expect(c.kubelet).toMatchObject({
      syncFrequencyMs: 60_000,
      fileCheckFrequencyMs: 20_000,
      httpCheckFrequencyMs: 20_000,
      nodeStatusUpdateFrequencyMs: 10_000,
      nodeStatusReportFrequencyMs: 300_000,
      runtimeRequestTimeoutMs: 120_000,
      staticPodPath: '/etc/kubernetes/manifests',
      clusterDNS: ['10.96.0.10'],
      containerRuntimeEndpoint: 'unix:///var/run/containerd/containerd.sock',
      podInfraContainerImage: 'registry.k8s.io/pause:3.10',
      cgroupDriver: 'systemd',
    });
    expect(c.roles).toEqual({ kubelet: true, proxy: false });
  });

  it('defaults the cert dir to <root-dir>/pki and an empty containerRuntimeEndpoint to nodelet\'s default', () => {
    const c = resolveConfig({ flags: { config: join(dir, 'kubeadm-config.yaml'), 'root-dir': '/r' }, hostname: 'h' });
    expect(c.certDir).toBe('/r/pki');
    expect(c.bootstrapKubeconfig).toBeUndefined();
    expect(c.kubelet.containerRuntimeEndpoint).toBe('unix:///var/run/docker.sock');
  });
});
