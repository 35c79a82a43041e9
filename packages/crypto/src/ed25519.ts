import { ed25519 } from '@noble/curves/ed25519.js';
import { fromBase64Url, toBase64Url } from './encoding.ts';
import { sha256 } from './hash.ts';
import { canonicalize } from './jcs.ts';

/** An Ed25519 public key as a JWK (RFC 8037). */
export interface Ed25519PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
}

export function isEd25519PublicJwk(value: unknown): value is Ed25519PublicJwk {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return v.kty === 'OKP' && v.crv === 'Ed25519' && typeof v.x === 'string';
}

export function ed25519Verify(jwk: Ed25519PublicJwk, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, fromBase64Url(jwk.x));
  } catch {
    return false;
  }
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) over the required members in lexical order. */
export function jwkThumbprint(jwk: Ed25519PublicJwk): string {
  return toBase64Url(sha256(canonicalize({ crv: jwk.crv, kty: jwk.kty, x: jwk.x })));
}
