/**
 * A client of the console's JSON API for tests that play a person (or an attacker) without a
 * browser: it keeps the session cookie and the CSRF token, and sends the console's own Origin, as
 * the page does. Browser tests use Chromium instead.
 */
export class ConsoleClient {
  readonly url: string;
  #cookie = '';
  #csrf = '';

  constructor(url: string) {
    this.url = url;
  }

  async #fetch(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...(this.#cookie ? { cookie: this.#cookie } : {}),
        ...(method !== 'GET'
          ? { origin: this.url, 'x-briefcase-csrf': this.#csrf, 'content-type': 'application/json' }
          : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : method !== 'GET' ? { body: '{}' } : {}),
    });
    const set = res.headers.get('set-cookie');
    if (set) this.#cookie = set.split(';')[0]!;
    const text = await res.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    // A session that changes state (enrolling, signed in) is a new session with a new CSRF token.
    const csrf = json.csrf ?? (json.session as { csrf?: unknown } | undefined)?.csrf;
    if (typeof csrf === 'string') this.#csrf = csrf;
    return { status: res.status, json };
  }

  /** Start (or refresh) the session: cookie and CSRF token. */
  async session(): Promise<Record<string, unknown>> {
    const r = await this.#fetch('GET', '/api/session');
    this.#csrf = String(r.json.csrf ?? '');
    return r.json;
  }

  get(path: string) {
    return this.#fetch('GET', path);
  }

  post(path: string, body: unknown = {}) {
    return this.#fetch('POST', path, body);
  }
}

/** Options for @simplewebauthn/browser are wrapped as { challenge_id, options }. */
export interface Ceremony {
  challenge_id: string;
  options: { challenge: string };
}
