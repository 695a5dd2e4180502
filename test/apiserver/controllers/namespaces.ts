import { findResource, RESOURCES, storageKey } from '../resources.js';
import { meta, type JsonObject } from '../json.js';
import type { Registry } from '../registry.js';
import { ControllerLoop } from './loop.js';

const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

const tryCreate = (fn: () => unknown): void => {
  try {
    fn();
  } catch {
    // exists already or namespace going away
  }
};

/**
 * Stands in for the serviceaccounts controller, the root-ca-cert publisher and the namespace controller: every
 * active namespace gets a `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap; a Terminating namespace is
 * emptied (pods deleted gracefully, so a kubelet sees them go) and removed once nothing is left.
 */
export function startNamespaceController(reg: Registry, caPem: string): ControllerLoop {
  const nsDef = findResource('', 'v1', 'namespaces')!;
  const saDef = findResource('', 'v1', 'serviceaccounts')!;
  const cmDef = findResource('', 'v1', 'configmaps')!;
  const namespaced = RESOURCES.filter((r) => r.namespaced && !r.virtual);
  const sync = (): void => {
    for (const ns of reg.list(nsDef, undefined)) {
      const name = String(meta(ns).name);
      if (meta(ns).deletionTimestamp) {
        finalize(reg, name, namespaced);
        continue;
      }
      if (reg.store.get('serviceaccounts', `${name}/default`) === undefined) {
        tryCreate(() => reg.create(saDef, name, { metadata: { name: 'default' } }));
      }
      const cm = reg.store.get('configmaps', `${name}/kube-root-ca.crt`);
      if (cm === undefined || (cm.data as JsonObject | undefined)?.['ca.crt'] !== caPem) {
        const body = { metadata: { name: 'kube-root-ca.crt', annotations: { 'kubernetes.io/description': ROOT_CA_DESCRIPTION } }, data: { 'ca.crt': caPem } };
        tryCreate(() => (cm === undefined ? reg.create(cmDef, name, body) : reg.update(cmDef, name, 'kube-root-ca.crt', { ...cm, ...body })));
      }
    }
  };
  const loop = new ControllerLoop(reg.store, ['namespaces', 'serviceaccounts', 'configmaps', 'pods'], sync);
  loop.kick();
  return loop;
}

function finalize(reg: Registry, ns: string, defs: typeof RESOURCES): void {
  let remaining = 0;
  for (const def of defs) {
    for (const o of reg.store.list(storageKey(def), ns)) {
      remaining++;
      if (def.plural === 'pods' && meta(o).deletionTimestamp) continue;
      tryCreate(() => reg.delete(def, ns, String(meta(o).name), {}));
    }
  }
  if (remaining === 0) reg.store.remove('namespaces', ns);
}
