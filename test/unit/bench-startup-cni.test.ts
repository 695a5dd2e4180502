import { describe, expect, it } from 'vitest';
import { jumpsTo } from '../../bench/lib/chains.js';
import { inCidr, report, type PhaseResult } from '../../bench/lib/startup-cni-report.js';

describe('bench chains: jumpsTo', () => {
  const dump = [
    '-P INPUT ACCEPT',
    '-N KUBE-FIREWALL',
    '-N KUBE-KUBELET-CANARY',
    '-A INPUT -j KUBE-FIREWALL',
    '-A OUTPUT -j KUBE-FIREWALL',
    '-A OUTPUT -j KUBE-FIREWALL-EXTRA',
    '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    '-A FORWARD -m comment --comment "kubelet firewall" -g KUBE-FIREWALL',
  ];

  it('deletes every jump to the chain, with quoted comments as one argument, and nothing else', () => {
    expect(jumpsTo(dump, 'KUBE-FIREWALL')).toEqual([
      ['-D', 'INPUT', '-j', 'KUBE-FIREWALL'],
      ['-D', 'OUTPUT', '-j', 'KUBE-FIREWALL'],
      ['-D', 'FORWARD', '-m', 'comment', '--comment', 'kubelet firewall', '-g', 'KUBE-FIREWALL'],
    ]);
  });

  it('leaves rules inside skipped chains (they go with the chain)', () => {
    expect(jumpsTo(['-A KUBE-A -j KUBE-B', '-A INPUT -j KUBE-B'], 'KUBE-B', new Set(['KUBE-A']))).toEqual([['-D', 'INPUT', '-j', 'KUBE-B']]);
  });

  it('finds nothing for a chain nobody jumps to', () => {
    expect(jumpsTo(dump, 'KUBE-KUBELET-CANARY')).toEqual([]);
  });
});

describe('bench pod-startup-cni: inCidr', () => {
  it.each([
    ['10.216.1.3', '10.216.1.0/24', true],
    ['10.216.1.255', '10.216.1.0/24', true],
    ['10.216.2.3', '10.216.1.0/24', false],
    ['10.216.250.3', '10.216.0.0/16', true],
    ['', '10.216.1.0/24', false],
    ['fd00::1', '10.216.1.0/24', false],
  ])('%s in %s: %s', (ip, cidr, want) => {
    expect(inCidr(ip, cidr)).toBe(want);
  });
});

describe('bench pod-startup-cni: report', () => {
  const phase = (target: PhaseResult['target'], ready: number[], round = 1): PhaseResult => ({
    target,
    round,
    node: 'n',
    ready,
    running: ready,
    ips: ready.map((_, i) => `10.216.1.${i + 2}`),
    range: '10.216.1.0/24',
    distinctIps: ready.length,
    window: 3,
    agentCpu: 0.3,
    runtimeCpu: 0.6,
    deleteMs: 1500,
    leakedIps: 0,
    loadStart: '1.00 1.00 1.00',
    loadEnd: '2.00 2.00 2.00',
    machineBusy: 0.5,
  });
  const text = report({
    machine: 'm',
    loadEnd: '3',
    pods: 3,
    intervalMs: 1000,
    rounds: 2,
    order: ['kubelet-containerd', 'nodelet-containerd'],
    image: 'img',
    cni: { name: 'x-cni', bridge: 'x-cni0', subnet: '10.216.1.0/24', ipamDir: '/secret/dir' },
    bridgeSubnet: '10.216.4.0/24',
    results: [
      phase('kubelet-containerd', [1000, 2000, 3000]),
      phase('nodelet-containerd', [500, 1000, 1500]),
      phase('nodelet-containerd', [500, 1000, 1500], 2),
      phase('kubelet-containerd', [1000, 2000, 3000], 2),
    ],
  });

  it('pools the rounds per setup and gives p50 / p99 ratios against the upstream kubelet', () => {
    const row = text.split('\n').find((l) => l.startsWith('| (b) nodelet, containerd'));
    expect(row).toContain('| 6 | 1.000 s / 1.500 s / 1.500 s | 0.50× / 0.50× |');
    expect(row).toContain('0.100 / 0.200'); // CPU per pod: 2 × 0.3 s / 6 pods, 2 × 0.6 s / 6 pods
  });

  it('lists every setup run and hides the run directory of the conflist', () => {
    expect(text.split('\n').filter((l) => /^\| [12] \| /.test(l))).toHaveLength(4);
    expect(text).toContain('"dataDir":"<run dir>/ipam"');
    expect(text).not.toContain('/secret/dir');
  });
});
