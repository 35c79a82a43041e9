import { randomBytes } from 'node:crypto';
import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';

/**
 * Where a server's OAuth state lives. The daemon keeps refresh tokens in the vault only; the
 * conformance client keeps everything in memory. Never logged, never returned to the agent.
 */
export interface OAuthStore {
  clientInformation(): OAuthClientInformationMixed | undefined;
  saveClientInformation(info: OAuthClientInformationMixed): void;
  tokens(): OAuthTokens | undefined;
  saveTokens(tokens: OAuthTokens): void;
  clear(what: 'all' | 'client' | 'tokens'): void;
}

export class MemoryOAuthStore implements OAuthStore {
  #client: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  clientInformation() {
    return this.#client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.#client = info;
  }
  tokens() {
    return this.#tokens;
  }
  saveTokens(tokens: OAuthTokens) {
    this.#tokens = tokens;
  }
  clear(what: 'all' | 'client' | 'tokens') {
    if (what !== 'client') this.#tokens = undefined;
    if (what !== 'tokens') this.#client = undefined;
  }
}

export interface ProviderOptions {
  /** The loopback redirect URI the authorization server sends the code back to. */
  redirectUrl: string;
  store: OAuthStore;
  /** Receives the authorization URL: print it, open it, or (tests) follow it. */
  onAuthorizationUrl(url: URL): void | Promise<void>;
  /** A client ID metadata document URL, when the Briefcase publishes one. */
  clientMetadataUrl?: string;
  /** Pre-registered credentials win over CIMD and dynamic registration (MCP 2025-11-25). */
  preRegistered?: { client_id: string; client_secret?: string };
  clientName?: string;
}

/**
 * The MCP client side of OAuth for one remote server, on the official SDK's auth helpers (RFC 9728
 * discovery, RFC 8414/OIDC metadata, PKCE S256, RFC 8707 `resource`, dynamic registration,
 * refresh). This class decides where state lives and checks `state` on the way back.
 */
export class BriefcaseOAuthProvider implements OAuthClientProvider {
  readonly #o: ProviderOptions;
  #verifier: string | undefined;
  #state: string | undefined;
  #discovery: OAuthDiscoveryState | undefined;
  readonly clientMetadataUrl?: string;

  constructor(options: ProviderOptions) {
    this.#o = options;
    if (options.clientMetadataUrl) this.clientMetadataUrl = options.clientMetadataUrl;
  }

  get redirectUrl(): string {
    return this.#o.redirectUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.#o.clientName ?? 'Briefcase',
      redirect_uris: [this.#o.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      // RFC 8252: a native app with a loopback redirect (any port on 127.0.0.1).
      application_type: 'native',
    } as OAuthClientMetadata;
  }

  state(): string {
    this.#state = randomBytes(24).toString('base64url');
    return this.#state;
  }

  /** The callback's `state` must be the one this provider sent (CSRF, RFC 6749 §10.12). */
  checkState(returned: string | null): boolean {
    return this.#state !== undefined && returned === this.#state;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#o.store.clientInformation() ?? this.#o.preRegistered;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.#o.store.saveClientInformation(info);
  }

  tokens(): OAuthTokens | undefined {
    return this.#o.store.tokens();
  }

  saveTokens(tokens: OAuthTokens): void {
    this.#o.store.saveTokens(tokens);
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    // MCP 2025-11-25 §authorization code protection: PKCE S256 is mandatory, and a client must
    // refuse an authorization server whose metadata does not advertise it (the SDK only refuses
    // when the field is present without S256).
    const metadata = this.#discovery?.authorizationServerMetadata as
      { code_challenge_methods_supported?: string[] } | undefined;
    if (metadata && !metadata.code_challenge_methods_supported?.includes('S256')) {
      throw new Error('the authorization server does not advertise PKCE S256: refusing to authorize there');
    }
    // Step-up (MCP 2025-11-25 §scope challenge handling): a 403 insufficient_scope names the
    // scopes the operation needs; asking for those alone would drop what was already granted, so
    // the request carries the union.
    const granted = this.#o.store.tokens()?.scope?.split(' ').filter(Boolean) ?? [];
    const requested = url.searchParams.get('scope')?.split(' ').filter(Boolean) ?? [];
    if (granted.length > 0 && requested.length > 0) {
      url.searchParams.set('scope', [...new Set([...granted, ...requested])].join(' '));
    }
    await this.#o.onAuthorizationUrl(url);
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.#verifier) throw new Error('no PKCE code verifier: the authorization was not started here');
    return this.#verifier;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'verifier') this.#verifier = undefined;
    else if (scope === 'discovery') this.#discovery = undefined;
    else this.#o.store.clear(scope);
  }

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.#discovery = state;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.#discovery;
  }
}
