import { randomUUID } from 'node:crypto';
import { sha256, toBase64Url, utf8 } from '@briefcase/crypto';

/**
 * The part of a key the DPoP client needs. Hardware keys (PKCS#11, TPM) implement the same
 * shape, so proofs never need the private key in this process.
 */
export interface DpopKey {
  /** JWS algorithm: "EdDSA" for Ed25519, "ES256" for P-256. */
  readonly algorithm: 'EdDSA' | 'ES256';
  readonly publicJwk: object;
  /** The JWS signature over the signing input (for ES256: raw r‖s, RFC 7518 §3.4). */
  sign(signingInput: Uint8Array): Promise<Uint8Array>;
}

export interface ProofClaims {
  htm: string;
  htu: string | URL;
  /** The access token the proof accompanies (resource requests), hashed into `ath`. */
  accessToken?: string | undefined;
  /** The server's latest `DPoP-Nonce`, when it asked for one. */
  nonce?: string | undefined;
}

/** RFC 9449 §4.2: htu is the target URI without query and fragment. */
export function htuOf(url: string | URL): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

/** RFC 9449 §4.2: ath = base64url(SHA-256(ASCII access token)). */
export function accessTokenHash(token: string): string {
  return toBase64Url(sha256(utf8(token)));
}

/** A DPoP proof JWT (RFC 9449 §4.2): typ dpop+jwt, the public JWK in the header, one-time jti. */
export async function createProof(key: DpopKey, claims: ProofClaims): Promise<string> {
  const header = { typ: 'dpop+jwt', alg: key.algorithm, jwk: key.publicJwk };
  const payload = {
    jti: randomUUID(),
    htm: claims.htm.toUpperCase(),
    htu: htuOf(claims.htu),
    iat: Math.floor(Date.now() / 1000),
    ...(claims.accessToken ? { ath: accessTokenHash(claims.accessToken) } : {}),
    ...(claims.nonce ? { nonce: claims.nonce } : {}),
  };
  const signingInput = `${toBase64Url(utf8(JSON.stringify(header)))}.${toBase64Url(utf8(JSON.stringify(payload)))}`;
  const signature = await key.sign(utf8(signingInput));
  return `${signingInput}.${toBase64Url(signature)}`;
}
