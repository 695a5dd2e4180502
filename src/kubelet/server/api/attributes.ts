/**
 * Authorization attributes of a kubelet API request, as upstream's nodeAuthorizerAttributesGetter
 * (pkg/kubelet/server/auth.go, v1.33 with KubeletFineGrainedAuthz on by default): verb from the HTTP method,
 * resource `nodes`, name = the node, subresource `stats`/`metrics`/`log`/`checkpoint` for those paths and `proxy`
 * otherwise; `/pods`, `/runningpods`, `/healthz` and `/configz` are first checked with their fine-grained subresource
 * (`pods`, `healthz`, `configz`) and fall back to `proxy`. Pure functions.
 */

/** An authenticated user (upstream user.Info). */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What is asked of the authorizer for one request: every subresource in order, the first allowed one wins. */
export interface RequestAttributes {
  user: UserInfo;
  verb: string;
  resource: 'nodes';
  /** Candidate subresources, checked in order (any allowed → allowed). */
  subresources: string[];
  name: string;
  path: string;
}

/** One authorization question (a single subresource). */
export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  resource: string;
  subresource: string;
  name: string;
}

/** The API verb of an HTTP method ('' for others, as upstream). */
export function verbFor(method: string | undefined): string {
  switch ((method ?? '').toUpperCase()) {
    case 'POST':
      return 'create';
    case 'GET':
    case 'HEAD':
      return 'get';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return '';
  }
}

/** Upstream isSubpath: `path` itself or anything below it. */
export function isSubpath(subpath: string, path: string): boolean {
  const p = path.endsWith('/') ? path.slice(0, -1) : path;
  return subpath === p || (subpath.startsWith(p) && subpath[p.length] === '/');
}

/** The subresources to check for a path, in upstream order. */
export function subresourcesFor(path: string, fineGrained = true): string[] {
  const out: string[] = [];
  if (fineGrained) {
    if (isSubpath(path, '/pods') || isSubpath(path, '/runningpods')) out.push('pods');
    else if (isSubpath(path, '/healthz')) out.push('healthz');
    else if (isSubpath(path, '/configz')) out.push('configz');
  }
  if (isSubpath(path, '/stats')) out.push('stats');
  else if (isSubpath(path, '/metrics')) out.push('metrics');
  else if (isSubpath(path, '/logs')) out.push('log');
  else if (isSubpath(path, '/checkpoint')) out.push('checkpoint');
  else out.push('proxy');
  return out;
}

/** The attributes of a request by `user` to `method path` on node `nodeName`. */
export function requestAttributes(user: UserInfo, method: string | undefined, path: string, nodeName: string, fineGrained = true): RequestAttributes {
  return { user, verb: verbFor(method), resource: 'nodes', subresources: subresourcesFor(path, fineGrained), name: nodeName, path };
}

/** Upstream's 403 body: `Forbidden (user=…, verb=…, resource=nodes, subresource(s)=[pods proxy])` plus a newline. */
export function forbiddenMessage(a: RequestAttributes): string {
  return `Forbidden (user=${a.user.name}, verb=${a.verb}, resource=${a.resource}, subresource(s)=[${a.subresources.join(' ')}])\n`;
}
