/**
 * The authorization attributes of a request, derived from its method, path and query as kube-apiserver's
 * RequestInfoFactory does (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go): the verb (get, list, watch,
 * create, update, patch, delete, deletecollection), API group, resource, subresource, namespace and name — a list or
 * watch whose field selector requires `metadata.name=<n>` carries that name — and the field selector itself (what
 * the Node authorizer reads with AuthorizeNodeWithSelectors).
 */
import type { UserInfo } from '../certificates/auth.js';

/** One `field=value` / `field!=value` term of a field selector. */
export interface FieldTerm {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** What an authorizer decides on. */
export interface Attributes {
  user: UserInfo;
  verb: string;
  /** False for non-resource paths (/healthz, /metrics, …): then only `path` and `verb` count. */
  resourceRequest: boolean;
  path: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  fieldSelector: FieldTerm[];
}

const VERBS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete', GET: 'get', HEAD: 'get' };

/** Parses a field selector leniently (an unparsable term is dropped; the handler reports the syntax error later). */
export function fieldTerms(sel: string | null): FieldTerm[] {
  if (sel === null || sel === '') return [];
  const out: FieldTerm[] = [];
  for (const term of sel.split(',')) {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (m) out.push({ field: m[1]!, op: m[2] === '!=' ? '!=' : '=', value: m[3]! });
  }
  return out;
}

const VALID_NAME = (n: string): boolean => n !== '' && n !== '.' && n !== '..' && !/[/%]/.test(n);

/** The attributes of `method path?query` made by `user`. */
export function requestAttributes(user: UserInfo, method: string, path: string, query: URLSearchParams): Attributes {
  const verb0 = VERBS[method.toUpperCase()] ?? method.toLowerCase();
  const base: Attributes = { user, verb: verb0, resourceRequest: false, path, apiGroup: '', resource: '', subresource: '', namespace: '', name: '', fieldSelector: [] };
  let segs: string[];
  try {
    segs = path.split('/').filter((s) => s !== '').map(decodeURIComponent);
  } catch {
    return base;
  }
  let rest: string[];
  let apiGroup = '';
  if (segs[0] === 'api' && segs.length >= 3) rest = segs.slice(2);
  else if (segs[0] === 'apis' && segs.length >= 4) {
    apiGroup = segs[1]!;
    rest = segs.slice(3);
  } else return base;
  let verb = verb0;
  if (rest[0] === 'watch') {
    verb = 'watch';
    rest = rest.slice(1);
  }
  let namespace = '';
  if (rest[0] === 'namespaces') {
    if (rest.length > 1) {
      namespace = rest[1]!;
      // /namespaces/{ns} and /namespaces/{ns}/{status|finalize} are the namespace itself.
      rest = rest.length > 2 && !(rest.length === 3 && apiGroup === '' && (rest[2] === 'status' || rest[2] === 'finalize')) ? rest.slice(2) : ['namespaces', ...rest.slice(1)];
    }
  }
  const fieldSelector = fieldTerms(query.get('fieldSelector'));
  const a: Attributes = { ...base, verb, resourceRequest: true, apiGroup, namespace, resource: rest[0] ?? '', name: rest[1] ?? '', subresource: rest[2] ?? '', fieldSelector };
  if (a.name === '' && a.verb === 'delete') a.verb = 'deletecollection';
  if (a.name === '' && a.verb === 'get') {
    const w = query.get('watch');
    a.verb = w === 'true' || w === '1' ? 'watch' : 'list';
    const byName = fieldSelector.find((t) => t.field === 'metadata.name' && t.op === '=');
    if (byName !== undefined && VALID_NAME(byName.value)) a.name = byName.value;
  }
  return a;
}
