/**
 * Docker-link style service environment variables (upstream pkg/kubelet/envvars and getServiceEnvVarMap).
 */
import type { V1Service } from '@kubernetes/client-node';

/** An environment variable as name/value. */
export interface EnvVar {
  name: string;
  value: string;
}

function isServiceIPSet(s: V1Service): boolean {
  const ip = s.spec?.clusterIP ?? '';
  return ip !== '' && ip !== 'None';
}

function envName(s: string): string {
  return s.replace(/-/g, '_').toUpperCase();
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Variables for the given services, in upstream order (HOST, PORT, named ports, then link variables). Pure. */
export function envVarsFromServices(services: readonly V1Service[]): EnvVar[] {
  const out: EnvVar[] = [];
  for (const svc of services) {
    const ports = svc.spec?.ports ?? [];
    if (!isServiceIPSet(svc) || ports.length === 0) continue;
    const ip = svc.spec?.clusterIP ?? '';
    const prefix = envName(svc.metadata?.name ?? '');
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    const portName = `${prefix}_SERVICE_PORT`;
    out.push({ name: portName, value: String(ports[0]?.port ?? '') });
    for (const sp of ports) {
      if (sp.name) out.push({ name: `${portName}_${envName(sp.name)}`, value: String(sp.port) });
    }
    ports.forEach((sp, i) => {
      const proto = sp.protocol || 'TCP';
      const url = `${proto.toLowerCase()}://${joinHostPort(ip, sp.port)}`;
      if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
      const pp = `${prefix}_PORT_${sp.port}_${proto.toUpperCase()}`;
      out.push({ name: pp, value: url });
      out.push({ name: `${pp}_PROTO`, value: proto.toLowerCase() });
      out.push({ name: `${pp}_PORT`, value: String(sp.port) });
      out.push({ name: `${pp}_ADDR`, value: ip });
    });
  }
  return out;
}

/**
 * The service variables a pod in `namespace` sees: `kubernetes` from `default` always, and (with
 * enableServiceLinks) every service with a cluster IP in the pod's own namespace. Pure; `services` may hold any
 * namespaces. Ordered by service name for a stable container environment.
 */
export function serviceEnvMap(
  services: readonly V1Service[],
  namespace: string,
  enableServiceLinks: boolean,
): Map<string, string> {
  const picked = new Map<string, V1Service>();
  for (const svc of services) {
    if (!isServiceIPSet(svc)) continue;
    const name = svc.metadata?.name ?? '';
    const ns = svc.metadata?.namespace ?? '';
    if (ns === 'default' && name === 'kubernetes') {
      if (!picked.has(name)) picked.set(name, svc);
    } else if (ns === namespace && enableServiceLinks) {
      picked.set(name, svc);
    }
  }
  const sorted = [...picked.keys()].sort().map((k) => picked.get(k) as V1Service);
  return new Map(envVarsFromServices(sorted).map((e) => [e.name, e.value]));
}
