import { describe, expect, it } from 'vitest';
import { POD_SCHEMA } from '../sources/pod-schema.generated.js';
import { newerFields, rejectedFields, valuesAt } from './check.js';
import { POD_FIELDS } from './table.js';

const pod = (spec: Record<string, unknown>): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i' }], ...spec } });

describe('pod field table', () => {
  it('finds values at list paths with their concrete paths', () => {
    const p = pod({ containers: [{ name: 'a', image: 'i', restartPolicy: 'Always' }, { name: 'b', image: 'i' }] });
    expect(valuesAt(p, 'spec.containers[].restartPolicy')).toEqual([{ path: 'spec.containers[0].restartPolicy', value: 'Always' }]);
    expect(valuesAt(p, 'spec.containers[].name').map((v) => v.path)).toEqual(['spec.containers[0].name', 'spec.containers[1].name']);
  });

  it('rejects pod-level resources and restartPolicy on a regular container with field and reason', () => {
    const p = pod({ resources: { limits: { memory: '64Mi' } }, containers: [{ name: 'c', image: 'i', restartPolicy: 'Always' }] });
    expect(rejectedFields(p)).toEqual([
      { field: 'spec.resources', reason: 'UnsupportedPodField', message: 'spec.resources: not supported by nodelet: pod-level resources (PodLevelResources) are not implemented: a pod-level limit would not be enforced' },
      { field: 'spec.containers[0].restartPolicy', reason: 'Forbidden', message: 'spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers' },
    ]);
  });

  it('accepts what is implemented, sidecars, and the harmless values of partly supported fields', () => {
    const p = pod({
      initContainers: [{ name: 's', image: 'i', restartPolicy: 'Always', volumeMounts: [{ name: 'v', mountPath: '/v', recursiveReadOnly: 'IfPossible' }] }],
      hostUsers: true,
      volumes: [{ name: 'v', emptyDir: {} }, { name: 'w', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } }],
      securityContext: { appArmorProfile: { type: 'Unconfined' }, supplementalGroupsPolicy: 'Merge' },
      resourceClaims: [],
    });
    expect(rejectedFields(p)).toEqual([]);
  });

  it('rejects volume types, user namespaces, AppArmor, Strict supplemental groups, RuntimeClass', () => {
    const p = pod({
      hostUsers: false,
      runtimeClassName: 'gvisor',
      volumes: [{ name: 'a', persistentVolumeClaim: { claimName: 'x' } }, { name: 'b', csi: { driver: 'd' } }],
      securityContext: { appArmorProfile: { type: 'RuntimeDefault' }, supplementalGroupsPolicy: 'Strict' },
    });
    expect(rejectedFields(p).map((r) => `${r.field}:${r.reason}`)).toEqual([
      'spec.runtimeClassName:UnsupportedPodField',
      'spec.hostUsers:UnsupportedPodField',
      'spec.securityContext.supplementalGroupsPolicy:SupplementalGroupsPolicyNotSupported',
      'spec.securityContext.appArmorProfile:AppArmor',
      'spec.volumes[0].persistentVolumeClaim:UnsupportedPodField',
      'spec.volumes[1].csi:UnsupportedPodField',
    ]);
  });

  it('reports fields newer than v1.33 as unknown', () => {
    const p = pod({ hostnameOverride: 'x', containers: [{ name: 'c', image: 'i', restartPolicyRules: [] }] });
    expect(newerFields(p).map((f) => f.field)).toEqual(['spec.hostnameOverride', 'spec.containers[0].restartPolicyRules']);
  });

  it('covers every field of the PodSpec, Container and Volume models (nothing silently unlisted)', () => {
    const listed = new Set(POD_FIELDS.map((f) => f.path));
    const missing: string[] = [];
    const check = (model: string, prefix: string): void => {
      for (const k of Object.keys(POD_SCHEMA[model] ?? {})) {
        const p = `${prefix}.${k}`;
        if (![...listed].some((l) => l === p || p.startsWith(`${l}.`) || p.startsWith(`${l}[]`) || l.startsWith(`${p}.`) || l.startsWith(`${p}[]`))) missing.push(p);
      }
    };
    check('V1PodSpec', 'spec');
    check('V1Container', 'spec.containers[]');
    check('V1Container', 'spec.initContainers[]');
    check('V1EphemeralContainer', 'spec.ephemeralContainers[]');
    check('V1Volume', 'spec.volumes[]');
    check('V1ObjectMeta', 'metadata');
    check('V1PodSecurityContext', 'spec.securityContext');
    expect(missing).toEqual([]);
  });
});
