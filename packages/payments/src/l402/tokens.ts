/**
 * Paid L402 tokens, per service, reused until the service refuses one. A token is a bearer
 * credential (macaroon + preimage): it lives only in this process's memory, redacted. Concurrent
 * calls to one service share one payment (`once`): twenty calls that all meet a 402 pay once.
 */
import type { SecretValue } from './redacted.ts';

/** The service a token is for: the URL's origin (bLIP-26 leaves scoping to the server). */
export function serviceOf(url: string): string {
  return new URL(url).origin;
}

export class TokenCache {
  readonly #tokens = new Map<string, SecretValue>();
  readonly #inflight = new Map<string, Promise<unknown>>();

  /** The `Authorization` value to try first for `url`, if a paid token is cached. */
  get(url: string): SecretValue | undefined {
    return this.#tokens.get(serviceOf(url));
  }

  set(url: string, authorization: SecretValue): void {
    this.#tokens.set(serviceOf(url), authorization);
  }

  /** Forget `token` for `url`'s service (it was refused) — unless another call already replaced it. */
  drop(url: string, token: SecretValue): void {
    const key = serviceOf(url);
    if (this.#tokens.get(key) === token) this.#tokens.delete(key);
  }

  /**
   * Run `pay` for `url`'s service unless a payment for it is already running; then every caller
   * waits for that one. Returns whether this caller ran it.
   */
  async once(url: string, pay: () => Promise<unknown>): Promise<boolean> {
    const key = serviceOf(url);
    const running = this.#inflight.get(key);
    if (running) {
      await running.catch(() => undefined);
      return false;
    }
    const p = pay();
    this.#inflight.set(key, p);
    try {
      await p;
    } finally {
      this.#inflight.delete(key);
    }
    return true;
  }
}
