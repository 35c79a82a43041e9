import { auth, discoverOAuthServerInfo, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { BriefcaseOAuthProvider, dpopFetch, type DpopKey, type Fetch } from '@briefcase/oauth';
import { BriefcaseError } from '@briefcase/protocol';
import { loopbackListener } from './loopback.ts';
import type { RemoteOAuthConfig } from './config.ts';
import type { VaultOAuthStore } from './oauth-store.ts';
import { cli } from '../cli-hint.ts';

const LOGIN_TIMEOUT_MS = 10 * 60 * 1000;
const REFRESH_EARLY_MS = 30_000;

/**
 * OAuth for one remote Streamable HTTP server (MCP 2025-11-25 Authorization), in the daemon:
 * login through a loopback redirect, DPoP-bound tokens when the authorization server supports
 * them, refresh before expiry and after a 401, RFC 7009 revocation on logout.
 */
export class OAuthSession {
  readonly fetch: Fetch;
  readonly provider: BriefcaseOAuthProvider;
  readonly #url: URL;
  readonly #store: VaultOAuthStore;
  readonly #server: string;
  #expiresAt = 0;

  readonly #client: { preRegistered?: { client_id: string; client_secret?: string }; clientMetadataUrl?: string };

  constructor(
    server: string,
    url: URL,
    store: VaultOAuthStore,
    dpopKey: () => DpopKey | undefined,
    client: RemoteOAuthConfig & { clientSecret?: string | undefined } = {},
    /** Every request goes through it: the server's egress rules (remote/egress.ts). */
    base: Fetch = fetch,
  ) {
    this.#client = {
      ...(client.client_id
        ? {
            preRegistered: {
              client_id: client.client_id,
              ...(client.clientSecret ? { client_secret: client.clientSecret } : {}),
            },
          }
        : {}),
      ...(client.client_metadata_url ? { clientMetadataUrl: client.client_metadata_url } : {}),
    };
    this.#server = server;
    this.#url = url;
    this.#store = store;
    // RFC 9449 §7.1: a DPoP-bound access token travels as `Authorization: DPoP`, not Bearer.
    // Proofs go only where they matter: token requests (to get a DPoP-bound token) and requests
    // carrying a DPoP-bound token. An MCP server that needs no OAuth never sees one.
    this.fetch = dpopKey()
      ? dpopFetch(() => dpopKey()!, base, {
          bindBearer: () => this.#isDpop(),
          needsProof: (_url, method, headers, body) =>
            (headers.has('authorization') && this.#isDpop()) ||
            (method === 'POST' &&
              (body instanceof URLSearchParams ? body.has('grant_type') : /(^|&)grant_type=/.test(String(body ?? '')))),
        })
      : base;
    this.provider = this.#provider('http://127.0.0.1/callback', () => {
      throw new BriefcaseError('oauth_required', this.#loginHint());
    });
  }

  get authorized(): boolean {
    return this.#store.tokens() !== undefined || this.#store.refreshToken() !== undefined;
  }

  /** Before a call: restore after a restart, refresh a token about to expire. */
  async ensureFresh(): Promise<void> {
    const restored = this.#store.restore();
    if (!restored && (this.#expiresAt === 0 || Date.now() < this.#expiresAt - REFRESH_EARLY_MS)) return;
    try {
      if ((await auth(this.provider, { serverUrl: this.#url, fetchFn: this.fetch })) === 'AUTHORIZED') return;
    } catch (e) {
      if (e instanceof BriefcaseError) throw e;
    }
    throw new BriefcaseError('oauth_required', this.#loginHint());
  }

  noteTokens(): void {
    const expiresIn = this.#store.tokens()?.expires_in;
    this.#expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : 0;
  }

  /** Start a login; resolves with the URL a person opens, and completes in the background. */
  async login(onDone: (error: Error | null) => void): Promise<string> {
    this.#store.clear('tokens');
    const listener = await loopbackListener();
    let authorizationUrl: URL | undefined;
    const provider = this.#provider(listener.redirectUrl, (url) => {
      authorizationUrl = url;
    });
    try {
      const first = await auth(provider, { serverUrl: this.#url, fetchFn: this.fetch });
      if (first === 'AUTHORIZED' || !authorizationUrl) throw new Error('the server did not ask for authorization');
      const state = authorizationUrl.searchParams.get('state');
      if (!state) throw new Error('the authorization request carries no state');
      listener.expectState(state);
    } catch (e) {
      listener.close();
      throw new BriefcaseError('upstream_error', `could not start authorization with ${this.#server}`, String(e));
    }
    void (async () => {
      try {
        // Only a callback with our state gets here (loopback.ts); checked again as a second lock.
        const params = await listener.wait(LOGIN_TIMEOUT_MS);
        if (!provider.checkState(params.get('state'))) throw new Error('state mismatch: the callback is not ours');
        if (params.get('error')) throw new Error(`authorization refused: ${params.get('error')}`);
        // RFC 9207: when the server says it sends `iss`, it must be its own issuer (mix-up defence).
        const metadata = provider.discoveryState()?.authorizationServerMetadata as
          { issuer: string; authorization_response_iss_parameter_supported?: boolean } | undefined;
        if (metadata?.authorization_response_iss_parameter_supported && params.get('iss') !== metadata.issuer) {
          throw new Error('issuer mismatch on the authorization response');
        }
        const code = params.get('code');
        if (!code) throw new Error('no authorization code in the callback');
        await auth(provider, { serverUrl: this.#url, authorizationCode: code, fetchFn: this.fetch });
        this.noteTokens();
        onDone(null);
      } catch (e) {
        onDone(e as Error);
      } finally {
        listener.close();
      }
    })();
    return authorizationUrl.toString();
  }

  /** Revoke refresh and access tokens where the server can (RFC 7009), then forget them. */
  async logout(): Promise<{ revoked: string[] }> {
    const revoked: string[] = [];
    const client = this.#store.clientInformation();
    const tokens: [string, string | undefined][] = [
      ['refresh_token', this.#store.refreshToken()],
      ['access_token', this.#store.accessToken()],
    ];
    try {
      const info = await discoverOAuthServerInfo(this.#url, { fetchFn: this.fetch });
      const endpoint = (info.authorizationServerMetadata as { revocation_endpoint?: string } | undefined)
        ?.revocation_endpoint;
      if (endpoint && client) {
        for (const [hint, token] of tokens) {
          if (!token) continue;
          const body = new URLSearchParams({ token, token_type_hint: hint, client_id: client.client_id });
          if ('client_secret' in client && client.client_secret) body.set('client_secret', client.client_secret);
          const res = await this.fetch(endpoint, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body,
          });
          if (res.ok) revoked.push(hint);
        }
      }
    } finally {
      this.#store.clear('tokens');
    }
    return { revoked };
  }

  /** A call failed for lack of authorization: say so with the command that fixes it. */
  isAuthError(e: unknown): boolean {
    return e instanceof UnauthorizedError || (e instanceof BriefcaseError && e.code === 'oauth_required');
  }

  accessToken(): string | undefined {
    return this.#store.accessToken();
  }

  loginHint(): string {
    return this.#loginHint();
  }

  #loginHint(): string {
    return `the MCP server "${this.#server}" needs authorization: run \`${cli('remote', 'login', this.#server)}\``;
  }

  #isDpop(): boolean {
    return this.#store.tokens()?.token_type?.toLowerCase() === 'dpop';
  }

  #provider(redirectUrl: string, onAuthorizationUrl: (url: URL) => void): BriefcaseOAuthProvider {
    const store = this.#store;
    return new BriefcaseOAuthProvider({
      redirectUrl,
      clientName: 'Briefcase',
      ...this.#client,
      store: {
        clientInformation: () => store.clientInformation(),
        saveClientInformation: (info) => store.saveClientInformation(info),
        tokens: () => store.tokens(),
        saveTokens: (t) => {
          store.saveTokens(t);
          this.noteTokens();
        },
        clear: (what) => store.clear(what),
      },
      onAuthorizationUrl,
    });
  }
}
