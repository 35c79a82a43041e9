/**
 * One HTTP request to an L402-priced service, with the rail's side of the retry contract
 * (../backend.ts): try the cached token; on 402 parse, let the caller check and authorize, pay,
 * retry once with the proof, confirm from LND, cache the token. A cached token the service
 * refuses (401/402) is dropped and leads to exactly one new payment; a refused fresh token ends
 * the call (never a payment loop). Concurrent calls to one service share one payment.
 */
import type { Challenge, RetryResponse, Settlement } from '../backend.ts';
import { PaymentError } from '../errors.ts';
import type { L402Backend } from './backend.ts';

/** The retry callback the payment step calls once, with the proof's headers. */
export type Retry = (
  headers: Readonly<Record<string, string>>,
) => Promise<{ response: RetryResponse; value: Response }>;

export interface L402FetchDeps {
  /** The rail whose tokens are reused (it must be among the payment step's backends). */
  backend: L402Backend;
  /**
   * The daemon's payment step for this call — `PaymentFlow.pay(challenge, call, retry)` bound to
   * the call: checks the grant, budget and approvals, reserves, has the backend pay, calls
   * `retry` once, confirms, settles. Throws (`PaymentRefused`) to refuse before paying.
   */
  pay(challenge: Challenge, retry: Retry): Promise<{ settlement: Settlement; retry?: Response; retryError?: unknown }>;
  fetch?: typeof fetch;
}

export interface L402FetchResult {
  response: Response;
  /** The payment this call made, if it made one (public facts only). */
  payment?: Settlement;
}

const refused = (status: number) => status === 401 || status === 402;

function withAuthorization(init: RequestInit, value: string): RequestInit {
  const headers = new Headers(init.headers);
  headers.set('authorization', value);
  // A token is a bearer credential: never let a redirect carry it elsewhere.
  return { ...init, headers, redirect: 'manual' };
}

function headerRecord(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => (out[k] = v));
  return out;
}

/** `init.body` must be replayable (a string or bytes): the request may be sent up to three times. */
export async function l402Fetch(deps: L402FetchDeps, url: string, init: RequestInit = {}): Promise<L402FetchResult> {
  const doFetch = deps.fetch ?? fetch;
  const { backend } = deps;
  const send = (auth?: string) => doFetch(url, auth ? withAuthorization(init, auth) : init);

  const cached = backend.tokens.get(url);
  let first: Response | undefined;
  if (cached) {
    const r = await send(cached.expose());
    if (!refused(r.status)) return { response: r };
    backend.tokens.drop(url, cached);
    await r.body?.cancel();
  } else {
    first = await send();
    if (first.status !== 402) return { response: first };
  }

  let payment: Settlement | undefined;
  let retried: Response | undefined;
  // One payment per service at a time: the challenge is fetched and paid inside `once`, so calls
  // that meet a refused token together do not each ask for (and pay) an invoice.
  const ran = await backend.tokens.once(url, async () => {
    const fresh = backend.tokens.get(url);
    if (fresh) {
      // Another call paid between our 402 and here: try its token before paying.
      const r = await send(fresh.expose());
      if (!refused(r.status)) {
        await first?.body?.cancel();
        retried = r;
        return;
      }
      backend.tokens.drop(url, fresh);
      await r.body?.cancel();
    }
    const res = first ?? (await send());
    if (res.status !== 402) {
      retried = res; // no longer priced
      return;
    }
    const body = await res.text();
    const challenge = { url, status: res.status, headers: headerRecord(res), body: body.slice(0, 4096) };
    if (backend.parse(challenge).length === 0) {
      throw new PaymentError('unsupported_offer', 'the 402 carries no L402 challenge');
    }
    const outcome = await deps.pay(challenge, async (headers) => {
      const r = await send(headers['authorization']);
      return { response: { status: r.status, headers: headerRecord(r) }, value: r };
    });
    payment = outcome.settlement;
    if (outcome.retryError !== undefined) throw outcome.retryError;
    retried = outcome.retry;
  });
  if (!ran) {
    // Someone else paid for this service meanwhile: use their token (no payment of ours).
    await first?.body?.cancel();
    const token = backend.tokens.get(url);
    if (!token) throw new PaymentError('payment_rejected', 'a concurrent payment for this service failed');
    return { response: await send(token.expose()) };
  }
  if (!retried) throw new PaymentError('payment_rejected', 'no response to the paid retry');
  const final: Response = retried;
  if (refused(final.status)) {
    throw new PaymentError('payment_rejected', `the service refused the token it was paid for (${final.status})`);
  }
  return payment ? { response: final, payment } : { response: final };
}
