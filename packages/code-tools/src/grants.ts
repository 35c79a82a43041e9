/**
 * Whether a URL's host and port are named by a network grant of an AccessManifest: `host`,
 * `host:port`, `*.domain` (subdomains only), `1.2.3.4:80`, `[::1]:8080`. Without a port, 80 and
 * 443. This is the syntactic check that names what was refused to the code; the IP-class and
 * DNS checks (loopback, private, metadata, rebinding) are the egress's (checkedFetch).
 */
export function grantAllows(url: URL, grants: readonly string[]): boolean {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (url.username || url.password) return false;
  const host = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return grants.some((grant) => {
    const [grantHost, grantPort] = splitHostPort(grant.toLowerCase());
    if (grantPort !== undefined ? grantPort !== port : port !== '80' && port !== '443') return false;
    if (grantHost.startsWith('*.')) return host.endsWith(grantHost.slice(1)) && host.length > grantHost.length - 1;
    return host === grantHost;
  });
}

function splitHostPort(grant: string): [string, string | undefined] {
  if (grant.startsWith('[')) {
    const end = grant.indexOf(']');
    const rest = grant.slice(end + 1);
    return [grant.slice(0, end + 1), rest.startsWith(':') ? rest.slice(1) : undefined];
  }
  const i = grant.lastIndexOf(':');
  return i === -1 ? [grant, undefined] : [grant.slice(0, i), grant.slice(i + 1)];
}
