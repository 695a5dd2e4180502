/**
 * The commander program: flags come from the one table in src/config/flags.ts, grouped in --help. Parsing only
 * collects raw values; validation happens in resolveConfig so every error has the same shape.
 */
import { Command, Option } from 'commander';
import { FLAGS, flagAttribute, type RawFlag } from '../config/index.js';
import { versionText } from './version.js';

const GROUPS = {
  general: 'General options:',
  kubelet: 'Kubelet role options (upstream kubelet flags):',
  proxy: 'Proxy role options (upstream kube-proxy flags):',
} as const;

const EPILOG = `
Subcommand: nodelet trace --src IP --dst IP --dport PORT [--proto tcp|udp|sctp] [--in-iface IF] [--from-node]
  explains what the proxy's live nftables/iptables rules do with that packet (nodelet trace --help).
Subcommand: nodelet hollow --count=N [--name-prefix=P] [--kubeconfig-dir=DIR] [-- nodelet flags]
  runs N simulated nodes (fake runtime, no containers) in one process, for measurements (see README).
Roles: --roles=kubelet,proxy (default with --kubeconfig). Without --kubeconfig nodelet runs standalone: only the
kubelet role, static pods from --pod-manifest-path / --manifest-url, no node registration.
Ports: kubelet /healthz and /metrics on 127.0.0.1:10248 (--healthz-bind-address, --healthz-port);
proxy /healthz on 0.0.0.0:10256 (--proxy-healthz-bind-address), proxy /metrics on 127.0.0.1:10249 (--metrics-bind-address).
Config file (--config): a YAML stream with a KubeletConfiguration (kubelet.config.k8s.io/v1beta1) and/or a
KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) document; flags override the file.
Boolean flags take an optional value: --fail-swap-on=false.`;

/** Builds the program. `parse` yields raw flag values keyed by flag name (see {@link rawFlags}). */
export function buildProgram(): Command {
  const program = new Command('nodelet')
    .description('A Kubernetes node agent: the kubelet and kube-proxy roles in one process.')
    .version(versionText(), '--version', 'print the version and exit')
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false)
    .showHelpAfterError('(run nodelet --help for the list of flags)')
    .addHelpText('after', EPILOG);
  for (const spec of FLAGS) {
    const arg = spec.kind === 'bool' ? `[${spec.arg ?? 'bool'}]` : `<${spec.arg ?? 'value'}>`;
    const help = spec.defaultText === undefined ? spec.help : `${spec.help} (default: ${spec.defaultText})`;
    const opt = new Option(`--${spec.name} ${arg}`, help).helpGroup(GROUPS[spec.group]);
    if (spec.repeatable === true) opt.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
    program.addOption(opt);
  }
  return program;
}

/** The raw values of the flags given on the command line, keyed by flag name (`max-pods`). */
export function rawFlags(program: Command): Record<string, RawFlag | undefined> {
  const opts = program.opts<Record<string, RawFlag | undefined>>();
  const out: Record<string, RawFlag | undefined> = {};
  for (const spec of FLAGS) {
    const v = opts[flagAttribute(spec.name)];
    if (v !== undefined) out[spec.name] = v;
  }
  return out;
}
