/**
 * Egress allowlist (DESIGN.md §2 step 9): the final URL's host and port must match an entry.
 * Entries are `host`, `host:port` or `*.domain` (subdomains only). Default ports: 80/443.
 */
export function egressAllowed(url: URL, allow: string[]): boolean {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (url.username || url.password) return false;
  const host = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allow.some((entry) => {
    const e = entry.toLowerCase();
    const [entryHost = '', entryPort] = splitHostPort(e);
    if (entryPort !== undefined && entryPort !== port) return false;
    if (entryPort === undefined && port !== '80' && port !== '443') return false;
    if (entryHost.startsWith('*.')) return host.endsWith(entryHost.slice(1)) && host.length > entryHost.length - 1;
    return host === entryHost;
  });
}

function splitHostPort(entry: string): [string, string | undefined] {
  if (entry.startsWith('[')) {
    const end = entry.indexOf(']');
    const rest = entry.slice(end + 1);
    return [entry.slice(0, end + 1), rest.startsWith(':') ? rest.slice(1) : undefined];
  }
  const i = entry.lastIndexOf(':');
  return i === -1 ? [entry, undefined] : [entry.slice(0, i), entry.slice(i + 1)];
}
