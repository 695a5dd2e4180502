/**
 * The PodEnvironment implementation: glue over the pure builders (env, DNS, hosts, security, resources, labels)
 * and the volume manager.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { statfsSync } from 'node:fs';
import os from 'node:os';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { ContainerConfig, PodSandboxConfig } from '../../cri/types.js';
import type { Logger } from '../../util/logger.js';
import { ConfigError, NodeletError, errorMessage, hasCode } from '../../util/errors.js';
import { podDnsConfig, type DnsSettings } from '../dns/dns.js';
import { parseResolvConf } from '../dns/resolvconf.js';
import { expandCommandAndArgs } from '../env/command.js';
import { podRef } from '../../api/refs.js';
import { makeEnvironment } from '../env/make-env.js';
import type { NodeAllocatable } from '../env/resourcefield.js';
import { containerAnnotations, containerLabels } from '../security/labels.js';
import { containerResources } from '../security/resources.js';
import { containerSecurityContext } from '../security/security-context.js';
import { VolumeManager } from '../volumes/manager.js';
import { isSafeUID } from '../volumes/paths.js';
import { TokenManager } from '../volumes/token-manager.js';
import { hostsMount, needsResolvConfMount, resolvConfMount, terminationMessageMount } from './files.js';
import type { PodEnvironmentOptions } from './options.js';
import { buildSandboxConfig } from './sandbox.js';
import type { ContainerContext, PodEnvironment } from './types.js';

function defaultAllocatable(rootDir: string, given: Partial<NodeAllocatable> | undefined): NodeAllocatable {
  let disk = 0;
  try {
    const s = statfsSync(rootDir);
    disk = s.blocks * s.bsize;
  } catch {
    disk = 0;
  }
  return {
    cpuMilli: given?.cpuMilli ?? os.availableParallelism() * 1000,
    memoryBytes: given?.memoryBytes ?? os.totalmem(),
    ephemeralStorageBytes: given?.ephemeralStorageBytes ?? disk,
  };
}

async function readResolvConf(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new NodeletError('CONFIG_INVALID', `could not open resolv conf file ${file}: ${errorMessage(err)}`, {
      cause: err,
      field: 'resolvConf',
    });
  }
}

/** See {@link PodEnvironment}; build it with createPodEnvironment. */
export class NodePodEnvironment implements PodEnvironment {
  readonly #o: PodEnvironmentOptions;
  readonly #log: Logger;
  readonly #allocatable: NodeAllocatable;
  readonly #volumes: VolumeManager;

  constructor(options: PodEnvironmentOptions) {
    if (!options.rootDir.startsWith('/')) throw new ConfigError('rootDir must be an absolute path', { field: 'rootDir' });
    if (options.podInfraImage === '') throw new ConfigError('podInfraImage must not be empty', { field: 'podInfraImage' });
    this.#o = options;
    this.#log = options.logger;
    this.#allocatable = defaultAllocatable(options.rootDir, options.allocatable);
    this.#volumes = new VolumeManager({
      rootDir: options.rootDir,
      objects: options.objects,
      mounter: options.mounter,
      tokens: new TokenManager(options.clock),
      allocatable: this.#allocatable,
      clock: options.clock,
      logger: this.#log,
    });
  }

  async prepareVolumes(pod: V1Pod, signal?: AbortSignal): Promise<void> {
    await this.#volumes.prepare(pod, signal);
  }

  async #dnsSettings(): Promise<DnsSettings> {
    const resolvPath = this.#o.resolvConf ?? '/etc/resolv.conf';
    return {
      clusterDNS: this.#o.clusterDNS,
      clusterDomain: this.#o.clusterDomain,
      host: resolvPath === '' ? undefined : parseResolvConf(await readResolvConf(resolvPath)),
      nodeIPs: this.#o.nodeIPs,
    };
  }

  async sandboxConfig(pod: V1Pod, attempt: number): Promise<PodSandboxConfig> {
    const { config, warnings } = podDnsConfig(pod, await this.#dnsSettings());
    for (const w of warnings) {
      this.#o.recorder?.event(podRef(pod), 'Warning', w.reason, w.message);
      if (w.nodeMessage !== undefined) {
        const node = this.#o.nodeName;
        this.#o.recorder?.event({ kind: 'Node', apiVersion: 'v1', name: node, uid: node }, 'Warning', w.reason, w.nodeMessage);
      }
      this.#log.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, reason: w.reason }, w.message);
    }
    return buildSandboxConfig(pod, {
      attempt,
      clusterDomain: this.#o.clusterDomain,
      podInfraImage: this.#o.podInfraImage,
      podLogsDir: this.#o.podLogsDir ?? '/var/log/pods',
      dnsConfig: config,
      allowedUnsafeSysctls: this.#o.allowedUnsafeSysctls ?? [],
    });
  }

  async containerConfig(pod: V1Pod, c: V1Container, ctx: ContainerContext): Promise<ContainerConfig> {
    try {
      return await this.#containerConfig(pod, c, ctx);
    } catch (err) {
      // Anything that keeps the config from being built is a CreateContainerConfigError upstream.
      if (hasCode(err, 'CREATE_CONTAINER_CONFIG')) throw err;
      const field = err instanceof NodeletError ? err.field : undefined;
      throw new NodeletError('CREATE_CONTAINER_CONFIG', errorMessage(err), { cause: err, field });
    }
  }

  async #containerConfig(pod: V1Pod, c: V1Container, ctx: ContainerContext): Promise<ContainerConfig> {
    const hostIPs = ctx.hostIPs.length > 0 ? ctx.hostIPs : this.#o.nodeIPs;
    // Privileged containers always run, as upstream since v1.15 (admission — Pod Security — decides who may create them).
    const security = containerSecurityContext(pod, c, ctx.image, { allowPrivileged: true });
    const envs = await makeEnvironment(pod, c, { podIPs: ctx.podIPs, hostIPs }, {
      objects: this.#o.objects,
      recorder: this.#o.recorder,
      allocatable: this.#allocatable,
    });
    const { command, args } = expandCommandAndArgs(c, envs);
    const mounts = await this.#volumes.mountsFor(pod, c, envs);
    const hosts = await hostsMount(pod, c, {
      rootDir: this.#o.rootDir,
      clusterDomain: this.#o.clusterDomain,
      hostsFile: this.#o.hostsFile ?? '/etc/hosts',
      podIPs: ctx.podIPs,
    });
    if (hosts !== undefined) mounts.push(hosts);
    if (needsResolvConfMount(pod, c)) {
      // DNS warnings were recorded when the sandbox was configured; only the config is needed here.
      mounts.push(await resolvConfMount(this.#o.rootDir, pod, podDnsConfig(pod, await this.#dnsSettings()).config));
    }
    if (c.terminationMessagePath !== '') mounts.push(await terminationMessageMount(this.#o.rootDir, pod, c));
    const cfg: ContainerConfig = {
      metadata: { name: c.name, attempt: ctx.attempt },
      image: c.image ?? '',
      command,
      args,
      envs: envs.map((e) => ({ key: e.name, value: e.value })),
      mounts,
      labels: containerLabels(pod, c),
      annotations: containerAnnotations(pod, c, ctx.attempt),
      logPath: `${c.name}/${ctx.attempt}.log`,
      linux: {
        resources: containerResources(pod, c, {
          memoryCapacityBytes: this.#o.memoryCapacityBytes ?? os.totalmem(),
          pidsLimit: this.#o.podPidsLimit,
          cpuCFSQuota: this.#o.cpuCFSQuota,
        }),
        securityContext: security,
      },
    };
    if (c.workingDir) cfg.workingDir = c.workingDir;
    if (c.stdin === true) cfg.stdin = true;
    if (c.stdinOnce === true) cfg.stdinOnce = true;
    if (c.tty === true) cfg.tty = true;
    return cfg;
  }

  async cleanupPod(podUID: string): Promise<void> {
    await this.#volumes.cleanup(podUID);
  }

  async podUIDsOnDisk(): Promise<string[]> {
    try {
      const entries = await readdir(path.join(this.#o.rootDir, 'pods'), { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && isSafeUID(e.name)).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}
