/**
 * TokenReview and SubjectAccessReview against the API server (authentication.k8s.io/v1, authorization.k8s.io/v1),
 * the two webhook calls of the kubelet API's authentication and authorization.
 */
import type { ApiTransport } from '../../../api/client.js';
import type { AuthorizationAttributes, UserInfo } from './attributes.js';

/** The review calls (a fake in tests). */
export interface ReviewClient {
  /** The user a token belongs to; undefined when the API server says it is not authenticated. Throws when unreachable. */
  reviewToken(token: string): Promise<UserInfo | undefined>;
  /** Whether the user may do this; throws when the API server cannot be asked. */
  reviewAccess(a: AuthorizationAttributes): Promise<{ allowed: boolean; reason: string }>;
}

interface TokenReviewStatus {
  status?: { authenticated?: boolean; user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } };
}

interface SubjectAccessReviewStatus {
  status?: { allowed?: boolean; denied?: boolean; reason?: string };
}

/** Review calls over an API client. */
export function createReviewClient(api: ApiTransport): ReviewClient {
  return {
    async reviewToken(token) {
      const res = await api.request<TokenReviewStatus>({
        method: 'POST',
        path: '/apis/authentication.k8s.io/v1/tokenreviews',
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
        timeoutMs: 10_000,
      });
      const u = res.status?.user;
      if (res.status?.authenticated !== true || u?.username === undefined) return undefined;
      return { name: u.username, ...(u.uid === undefined ? {} : { uid: u.uid }), groups: u.groups ?? [], ...(u.extra === undefined ? {} : { extra: u.extra }) };
    },
    async reviewAccess(a) {
      const res = await api.request<SubjectAccessReviewStatus>({
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: a.user.name,
            ...(a.user.uid === undefined ? {} : { uid: a.user.uid }),
            groups: a.user.groups,
            ...(a.user.extra === undefined ? {} : { extra: a.user.extra }),
            resourceAttributes: { verb: a.verb, group: '', version: 'v1', resource: a.resource, subresource: a.subresource, name: a.name },
          },
        },
        timeoutMs: 10_000,
      });
      return { allowed: res.status?.allowed === true && res.status.denied !== true, reason: res.status?.reason ?? '' };
    },
  };
}
