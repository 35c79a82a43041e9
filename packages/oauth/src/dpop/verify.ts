import { EmbeddedJWK, calculateJwkThumbprint, jwtVerify, type JWK } from 'jose';
import { accessTokenHash, htuOf } from './proof.ts';

export type DpopError =
  | 'missing_proof'
  | 'invalid_proof'
  | 'wrong_method'
  | 'wrong_url'
  | 'stale_proof'
  | 'replayed_proof'
  | 'wrong_token'
  | 'wrong_key'
  | 'use_dpop_nonce';

export interface VerifyRequest {
  method: string;
  url: string | URL;
  /** The DPoP header(s) of the request. */
  proof: string | string[] | undefined;
  /** The access token (resource requests), to check `ath`. */
  accessToken?: string;
  /** The `cnf.jkt` the access token is bound to, to check the proof's key. */
  expectedJkt?: string;
  /** When set, the proof must carry this nonce. */
  nonce?: string;
}

/**
 * The server side of DPoP (RFC 9449 §4.3): one proof, typ dpop+jwt, a valid signature by the
 * embedded public key, matching htm and htu, fresh iat, a jti never seen before (replay), the
 * access token's hash, the key the token is bound to, and the server's nonce when it requires one.
 */
export class DpopVerifier {
  readonly #seen = new Map<string, number>();
  readonly #maxAgeSeconds: number;

  constructor(options: { maxAgeSeconds?: number } = {}) {
    this.#maxAgeSeconds = options.maxAgeSeconds ?? 60;
  }

  async verify(req: VerifyRequest): Promise<{ ok: true; jkt: string } | { ok: false; error: DpopError }> {
    if (req.proof === undefined || Array.isArray(req.proof)) return { ok: false, error: 'missing_proof' };
    let payload: Record<string, unknown>;
    let jwk: JWK;
    try {
      const verified = await jwtVerify(req.proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256', 'EdDSA'] });
      payload = verified.payload as Record<string, unknown>;
      jwk = verified.protectedHeader.jwk as JWK;
    } catch {
      return { ok: false, error: 'invalid_proof' };
    }
    if (payload.htm !== req.method.toUpperCase()) return { ok: false, error: 'wrong_method' };
    if (payload.htu !== htuOf(req.url)) return { ok: false, error: 'wrong_url' };
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > this.#maxAgeSeconds) {
      return { ok: false, error: 'stale_proof' };
    }
    if (req.nonce !== undefined && payload.nonce !== req.nonce) return { ok: false, error: 'use_dpop_nonce' };
    if (typeof payload.jti !== 'string' || payload.jti.length < 16) return { ok: false, error: 'invalid_proof' };
    this.#forgetOld(now);
    if (this.#seen.has(payload.jti)) return { ok: false, error: 'replayed_proof' };
    if (req.accessToken !== undefined && payload.ath !== accessTokenHash(req.accessToken)) {
      return { ok: false, error: 'wrong_token' };
    }
    const jkt = await calculateJwkThumbprint(jwk, 'sha256');
    if (req.expectedJkt !== undefined && jkt !== req.expectedJkt) return { ok: false, error: 'wrong_key' };
    this.#seen.set(payload.jti, now);
    return { ok: true, jkt };
  }

  #forgetOld(now: number): void {
    for (const [jti, at] of this.#seen) if (now - at > 2 * this.#maxAgeSeconds) this.#seen.delete(jti);
  }
}
