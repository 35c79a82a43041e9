/**
 * The L402 challenge (bLIP-26): `WWW-Authenticate: L402 macaroon="<base64>", invoice="<BOLT11>"`,
 * also under the legacy scheme name `LSAT` (bLIP-26 asks clients to accept both). Several
 * challenges may share one header value (fetch joins repeated headers with ", "), so this is a
 * small RFC 9110 §11.6.1 challenge parser, not a regex. Runtime-neutral.
 */

/** An L402 offer exactly as the server sent it. The macaroon is a bearer credential once paid. */
export interface L402Offer {
  scheme: 'L402' | 'LSAT';
  /** Base64 (standard or URL-safe), possibly several comma-separated macaroons. */
  macaroon: string;
  /** The BOLT11 payment request. */
  invoice: string;
}

/** Longer headers are refused: a hostile server should not make us parse megabytes. */
export const MAX_CHALLENGE_LENGTH = 16_384;

interface RawChallenge {
  scheme: string;
  params: Map<string, string>;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/** Parse every challenge in a `WWW-Authenticate` value; throws TypeError on broken syntax. */
export function parseChallenges(value: string): RawChallenge[] {
  if (value.length > MAX_CHALLENGE_LENGTH) throw new TypeError(`longer than ${MAX_CHALLENGE_LENGTH} characters`);
  const out: RawChallenge[] = [];
  let i = 0;
  const ws = () => {
    while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
  };
  const token = () => {
    const start = i;
    while (i < value.length && TOKEN.test(value[i] ?? '')) i++;
    return value.slice(start, i);
  };
  const quoted = () => {
    let s = '';
    i++; // opening quote
    while (i < value.length && value[i] !== '"') {
      if (value[i] === '\\') i++;
      s += value[i] ?? '';
      i++;
    }
    if (value[i] !== '"') throw new TypeError('unterminated quoted string');
    i++;
    return s;
  };
  /** Is the text at `at` a `name=` auth-param (rather than the next challenge's scheme)? */
  // A token68 (`Negotiate abc==`) ends in '=' with no value after it; a param has a value.
  const paramAhead = (at: number) =>
    /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t]*=[ \t]*["!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(value.slice(at, at + 512));
  for (;;) {
    while (i < value.length && /[ \t,]/.test(value[i] ?? '')) i++;
    if (i >= value.length) break;
    const scheme = token();
    if (!scheme) throw new TypeError(`unexpected ${JSON.stringify(value[i])} at ${i}`);
    const params = new Map<string, string>();
    ws();
    while (i < value.length && paramAhead(i)) {
      const name = token().toLowerCase();
      ws();
      i++; // '='
      ws();
      const v = value[i] === '"' ? quoted() : token();
      if (params.has(name)) throw new TypeError(`parameter ${name} repeated`);
      params.set(name, v);
      ws();
      if (value[i] !== ',') break;
      // A comma either separates this challenge's params or starts the next challenge.
      let j = i + 1;
      while (j < value.length && /[ \t,]/.test(value[j] ?? '')) j++;
      if (!paramAhead(j)) break;
      i = j;
    }
    if (params.size === 0 && i < value.length && value[i] !== ',') {
      token(); // token68 form (e.g. `Bearer abc`): not ours, skip it
      while (value[i] === '=') i++;
    }
    out.push({ scheme, params });
  }
  return out;
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}(,[A-Za-z0-9+/_-]+={0,2})*$/;
const BOLT11 = /^ln[a-z0-9]+$/i;

/**
 * The L402 offers in a `WWW-Authenticate` value. `[]` when none is L402/LSAT (another rail's
 * challenge); throws TypeError naming what is wrong when an L402 challenge is malformed.
 * When a server sends both `LSAT` and `L402` for the same offer, the L402 one comes first.
 */
export function parseL402Challenge(value: string): L402Offer[] {
  const offers: L402Offer[] = [];
  for (const c of parseChallenges(value)) {
    const scheme = c.scheme.toUpperCase();
    if (scheme !== 'L402' && scheme !== 'LSAT') continue;
    const macaroon = c.params.get('macaroon');
    const invoice = c.params.get('invoice');
    if (!macaroon || !BASE64.test(macaroon)) throw new TypeError(`${scheme} challenge without a base64 macaroon`);
    if (!invoice || !BOLT11.test(invoice)) throw new TypeError(`${scheme} challenge without a BOLT11 invoice`);
    offers.push({ scheme, macaroon, invoice });
  }
  const seen = new Set<string>();
  return offers
    .sort((a, b) => (a.scheme === b.scheme ? 0 : a.scheme === 'L402' ? -1 : 1))
    .filter((o) => !seen.has(o.invoice) && seen.add(o.invoice));
}

/** The `Authorization` value for a paid offer (bLIP-26: macaroons base64, preimage hex). */
export function authorizationValue(macaroon: string, preimageHex: string): string {
  return `L402 ${macaroon}:${preimageHex}`;
}
