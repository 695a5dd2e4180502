/** docs/pod-fields.md from the table (a unit test keeps the file in sync). Pure. */
import { POD_FIELDS, type Support } from './table.js';

const LABEL: Record<Support, string> = {
  supported: 'supported',
  partial: 'partial',
  'not-node': 'API server / scheduler',
  status: 'written by nodelet',
  rejected: 'rejected at admission',
  newer: 'not in v1.33 (unknown field)',
};

/** The markdown document. */
export function renderPodFieldsMarkdown(): string {
  const counts = new Map<Support, number>();
  for (const f of POD_FIELDS) counts.set(f.support, (counts.get(f.support) ?? 0) + 1);
  const rows = POD_FIELDS.map((f) => {
    const when = f.support === 'rejected' ? ` — refused when ${f.rejectWhenText ?? 'set'} (reason \`${f.reason ?? 'UnsupportedPodField'}\`)` : '';
    return `| \`${f.path}\` | ${LABEL[f.support]} | ${f.note.replace(/\|/g, '\\|')}${when} |`;
  });
  return [
    '# Pod fields of Kubernetes v1.33 in nodelet',
    '',
    '<!-- Generated from src/kubelet/podfields/table.ts by renderPodFieldsMarkdown(); src/kubelet/podfields/render.test.ts',
    '     fails when this file is stale (UPDATE_DOCS=1 rewrites it). -->',
    '',
    'nodelet follows Kubernetes v1.33 (it reports `v1.33.0-nodelet` as kubeletVersion/kubeProxyVersion). This table lists',
    'every field of a v1.33 Pod (an entry covers the fields below it unless a longer path is listed; `[]` = each list',
    'item) and what nodelet does with it. The same table drives:',
    '',
    '- **admission** (`admitPod`, src/kubelet/pods/admission.ts): a pod from the API server that sets a field marked',
    '  *rejected at admission* is not run; it gets phase `Failed`, reason as listed (e.g. `UnsupportedPodField`), message',
    '  `Pod was rejected: <field>: not supported by nodelet: <why>`, and a warning event — never run as if the field',
    '  were not there;',
    '- **static pods** (src/kubelet/sources/validate.ts): a manifest setting such a field, or a field that is not in',
    '  v1.33 (*not in v1.33*), is reported with the file, the field path and the reason and not run, e.g.',
    '  `spec.resources: not supported by nodelet: pod-level resources (PodLevelResources) are not implemented …`.',
    '',
    `Counts: ${[...counts].map(([k, v]) => `${LABEL[k]} ${v}`).join(', ')}.`,
    '',
    '| field | nodelet | notes |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
