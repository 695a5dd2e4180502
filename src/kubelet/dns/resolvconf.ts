/**
 * resolv.conf parsing as upstream parseResolvConf: nameservers accumulate, the last `search` line wins (trailing
 * dots trimmed, "." dropped), `options` accumulate with later options of the same name replacing earlier ones.
 */

/** Parsed resolv.conf. */
export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[];
}

/** Merges options by name (the part before ':'); a later option replaces an earlier one in its place. */
export function appendOptions(options: readonly string[], more: readonly string[]): string[] {
  const byName = new Map<string, string>();
  for (const o of [...options, ...more]) byName.set(o.split(':')[0] ?? o, o);
  return [...byName.values()];
}

/** Parses resolv.conf text (comments with '#' or ';'). Pure. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const fields = trimmed.split(/\s+/).filter((f) => f !== '');
    if (fields.length === 0) continue;
    const [kw, ...rest] = fields;
    if (kw === 'nameserver' && rest[0] !== undefined) out.nameservers.push(rest[0]);
    if (kw === 'search') out.searches = rest.filter((s) => s !== '.').map((s) => s.replace(/\.$/, ''));
    if (kw === 'options') out.options = appendOptions(out.options, rest);
  }
  return out;
}

/** resolv.conf text for a DNS config (what a runtime writes for a sandbox's dnsConfig). Pure. */
export function formatResolvConf(dns: { servers: readonly string[]; searches: readonly string[]; options: readonly string[] }): string {
  const lines = dns.servers.map((s) => `nameserver ${s}`);
  if (dns.searches.length > 0) lines.push(`search ${dns.searches.join(' ')}`);
  if (dns.options.length > 0) lines.push(`options ${dns.options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}
