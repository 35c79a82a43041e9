import { checkedFetch, classify, EgressViolation, parseIp, type EgressRules } from '@briefcase/egress';
import type { Fetch } from '@briefcase/oauth';
import type { AccessManifest } from '@briefcase/protocol';

/**
 * Where the daemon may go on behalf of one HTTP remote MCP server (issue 10): the server URL's
 * host and port, its authorization server as its protected resource metadata names it (RFC 9728
 * §2 `authorization_servers`, learned as the metadata is read), and what the server's
 * `access.network` adds; names resolve to loopback or private addresses only with
 * `access.allow_private`. Every request, OAuth discovery and token requests included, goes
 * through `checkedFetch`, so each redirect hop is checked as well.
 */
export class RemoteEgress {
  readonly fetch: Fetch;
  readonly #server: URL;
  readonly #base: string[];
  readonly #allowPrivate: boolean;
  readonly #learned = new Set<string>();

  constructor(serverUrl: URL, access: Pick<AccessManifest, 'network' | 'allow_private'> | undefined) {
    this.#server = serverUrl;
    this.#base = [hostPort(serverUrl), ...(access?.network ?? [])];
    this.#allowPrivate = access?.allow_private ?? false;
    this.fetch = async (input, init = {}) => {
      const url = new URL(input instanceof Request ? input.url : input);
      const response = await checkedFetch(input, { ...init, rules: this.rules() });
      if (url.host === this.#server.host && url.pathname.startsWith('/.well-known/oauth-protected-resource')) {
        await this.#learn(response);
      }
      return response;
    };
  }

  rules(): EgressRules {
    return { grants: [...this.#base, ...this.#learned], allowPrivate: this.#allowPrivate };
  }

  async #learn(response: Response): Promise<void> {
    if (!response.ok) return;
    let metadata: unknown;
    try {
      metadata = await response.clone().json();
    } catch {
      return;
    }
    const grant = authorizationServerGrant(this.#server, metadata, this.#allowPrivate);
    if (grant) this.#learned.add(grant);
  }
}

/**
 * The grant for the authorization server protected resource metadata names (the first one: the
 * one the SDK uses), or null. A loopback or private IP literal is granted only when the server
 * itself is at such a literal (a local server with a local authorization server) or
 * `allow_private` is on: a public server cannot point the daemon at a local address by naming
 * it as its authorization server.
 */
export function authorizationServerGrant(server: URL, metadata: unknown, allowPrivate: boolean): string | null {
  const first = (metadata as { authorization_servers?: unknown } | null)?.authorization_servers;
  const url = Array.isArray(first) && typeof first[0] === 'string' ? URL.parse(first[0]) : null;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return null;
  if (isLocalLiteral(url) && !allowPrivate && !isLocalLiteral(server)) return null;
  return hostPort(url);
}

function hostPort(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
}

function isLocalLiteral(url: URL): boolean {
  const ip = parseIp(url.hostname.replace(/^\[|\]$/g, ''));
  return ip !== null && classify(ip).class !== 'public';
}

/** The egress violation behind an error the SDK passed along, if there is one. */
export function egressViolationIn(e: unknown): EgressViolation | undefined {
  for (let x = e, depth = 0; x instanceof Error && depth < 5; x = x.cause, depth++) {
    if (x instanceof EgressViolation) return x;
  }
  return undefined;
}
