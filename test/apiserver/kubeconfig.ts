import { writeFileSync } from 'node:fs';

/** Options of {@link renderKubeconfig}. */
export interface KubeconfigParams {
  server: string;
  caCertPem: string;
  /** A bearer token, or… */
  token?: string;
  /** …a client certificate and key (PEM). */
  clientCert?: { certPem: string; keyPem: string };
  /** Context/cluster/user name (default `nodelet-test`). */
  name?: string;
  namespace?: string;
}

/** A kubeconfig (YAML) with one cluster, one user (token or client certificate) and one current context. */
export function renderKubeconfig(p: KubeconfigParams): string {
  const name = p.name ?? 'nodelet-test';
  const ca = Buffer.from(p.caCertPem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    `    server: ${p.server}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    `- name: ${name}`,
    '  user:',
    ...(p.clientCert !== undefined
      ? [`    client-certificate-data: ${Buffer.from(p.clientCert.certPem).toString('base64')}`, `    client-key-data: ${Buffer.from(p.clientCert.keyPem).toString('base64')}`]
      : [`    token: ${p.token ?? ''}`]),
    'contexts:',
    `- name: ${name}`,
    '  context:',
    `    cluster: ${name}`,
    `    user: ${name}`,
    ...(p.namespace ? [`    namespace: ${p.namespace}`] : []),
    `current-context: ${name}`,
    '',
  ].join('\n');
}

/** Writes a kubeconfig file readable only by its owner. */
export function writeKubeconfigFile(path: string, p: KubeconfigParams): void {
  writeFileSync(path, renderKubeconfig(p), { mode: 0o600 });
}
