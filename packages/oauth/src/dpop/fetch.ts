import { createProof, type DpopKey } from './proof.ts';

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * A fetch that sends a DPoP proof with every request (RFC 9449): token requests get a proof;
 * resource requests carrying `Authorization: DPoP <token>` get a proof bound to that token (ath).
 * When a server answers that it wants a nonce (§8: 400 `use_dpop_nonce` from the authorization
 * server; §9: 401 with `WWW-Authenticate: DPoP error="use_dpop_nonce"` from a resource server),
 * the request is retried once with the nonce from `DPoP-Nonce`. Nonces are kept per origin.
 */
export interface DpopFetchOptions {
  /** True when the current access token is DPoP-bound: `Bearer` is then sent as `DPoP`. */
  bindBearer?: () => boolean;
  /** Which requests get a proof (default: all). Proofs cost a signature; most requests need none. */
  needsProof?: (url: URL, method: string, headers: Headers, body: unknown) => boolean;
}

export function dpopFetch(key: DpopKey | (() => DpopKey), base: Fetch = fetch, options: DpopFetchOptions = {}): Fetch {
  // A getter lets the key be rotated under a live client: the next proof uses the new key.
  const currentKey = typeof key === 'function' ? key : () => key;
  const nonces = new Map<string, string>();
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const method = (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    // The SDK sends `Bearer`; a DPoP-bound token must travel as `DPoP` (RFC 9449 §7.1).
    const bearer = headers.get('authorization');
    if (bearer?.startsWith('Bearer ') && options.bindBearer?.())
      headers.set('authorization', `DPoP ${bearer.slice(7)}`);
    if (options.needsProof && !options.needsProof(url, method, headers, init.body)) {
      return base(input instanceof Request ? input.url : input, { ...init, method, headers });
    }
    const auth = headers.get('authorization');
    const accessToken = auth?.toLowerCase().startsWith('dpop ') ? auth.slice(5).trim() : undefined;
    const send = async (): Promise<Response> => {
      headers.set(
        'dpop',
        await createProof(currentKey(), { htm: method, htu: url, accessToken, nonce: nonces.get(url.origin) }),
      );
      return base(input instanceof Request ? input.url : input, { ...init, method, headers });
    };
    let response = await send();
    const nonce = response.headers.get('dpop-nonce');
    if (nonce) {
      const asked = await wantsNonce(response);
      nonces.set(url.origin, nonce);
      if (asked) response = await send();
    }
    return response;
  };
}

async function wantsNonce(response: Response): Promise<boolean> {
  if (response.status === 401) {
    return /error="?use_dpop_nonce"?/.test(response.headers.get('www-authenticate') ?? '');
  }
  if (response.status === 400) {
    try {
      const body = (await response.clone().json()) as { error?: string };
      return body.error === 'use_dpop_nonce';
    } catch {
      return false;
    }
  }
  return false;
}
