import { randomInt } from 'node:crypto';
import { invalidValue, type StatusCause } from './status.js';

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** Five random characters from the alphabet upstream uses for generateName and volume suffixes. */
export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHANUMS[randomInt(ALPHANUMS.length)];
  return s;
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Validates an RFC 1123 subdomain (most object names) with upstream's exact message. */
export function checkSubdomain(field: string, v: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (v.length > 253) out.push(invalidValue(field, v, 'must be no more than 253 characters'));
  if (!SUBDOMAIN.test(v)) {
    out.push(
      invalidValue(
        field,
        v,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ),
    );
  }
  return out;
}

/** Validates an RFC 1123 label (namespaces, services, container names). */
export function checkLabel(field: string, v: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (v.length > 63) out.push(invalidValue(field, v, 'must be no more than 63 characters'));
  if (!LABEL.test(v)) {
    out.push(
      invalidValue(
        field,
        v,
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      ),
    );
  }
  return out;
}

/** Validates a Service name (RFC 1035 label: must start with a letter). */
export function checkDns1035(field: string, v: string): StatusCause[] {
  if (/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(v) && v.length <= 63) return [];
  return [
    invalidValue(
      field,
      v,
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ),
  ];
}
