import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { OAuthStore } from '@briefcase/oauth';
import { Secret, type Vault } from '@briefcase/vault';

/**
 * A remote server's OAuth state in the daemon. The refresh token and the client registration
 * live in the vault only (as `oauth.<server>.refresh` and `oauth.<server>.client`); the access
 * token is kept in memory and re-obtained by refresh after a restart. Nothing here is ever logged
 * or returned to the agent.
 */
export class VaultOAuthStore implements OAuthStore {
  readonly #vault: Vault;
  readonly #server: string;
  #access: OAuthTokens | undefined;

  constructor(vault: Vault, server: string) {
    this.#vault = vault;
    this.#server = server;
  }

  get #refreshName(): string {
    return `oauth.${this.#server}.refresh`;
  }
  get #clientName(): string {
    return `oauth.${this.#server}.client`;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    const raw = this.#vault.get(this.#clientName)?.expose();
    return raw ? (JSON.parse(raw) as OAuthClientInformationMixed) : undefined;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.#vault.set(
      this.#clientName,
      new Secret(JSON.stringify(info)),
      `OAuth client registration for ${this.#server}`,
    );
  }

  tokens(): OAuthTokens | undefined {
    return this.#access;
  }

  refreshToken(): string | undefined {
    return this.#vault.get(this.#refreshName)?.expose();
  }

  saveTokens(tokens: OAuthTokens): void {
    const { refresh_token, ...access } = tokens;
    const refresh = refresh_token ?? this.refreshToken();
    this.#access = { ...access, ...(refresh ? { refresh_token: refresh } : {}) };
    if (refresh_token)
      this.#vault.set(this.#refreshName, new Secret(refresh_token), `OAuth refresh token for ${this.#server}`);
  }

  /** After a restart: a token set with only the refresh token, so the SDK refreshes first. */
  restore(): boolean {
    const refresh = this.refreshToken();
    if (!refresh || this.#access) return false;
    this.#access = { access_token: '', token_type: 'Bearer', refresh_token: refresh };
    return true;
  }

  clear(what: 'all' | 'client' | 'tokens'): void {
    if (what !== 'client') {
      this.#access = undefined;
      this.#vault.remove(this.#refreshName);
    }
    if (what !== 'tokens') this.#vault.remove(this.#clientName);
  }

  /** Secrets to scrub: the current access token is not in the vault but must never leak either. */
  accessToken(): string | undefined {
    return this.#access?.access_token || undefined;
  }
}
