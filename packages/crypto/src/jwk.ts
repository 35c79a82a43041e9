import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { fromBase64Url, toBase64Url } from './encoding.ts';
import { sha256 } from './hash.ts';
import { canonicalize } from './jcs.ts';

/** An Ed25519 public key as a JWK (RFC 8037). */
export interface Ed25519PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
}

/** A P-256 public key as a JWK (RFC 7518 §6.2). */
export interface P256PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
}

export type PublicJwk = Ed25519PublicJwk | P256PublicJwk;

export function isPublicJwk(value: unknown): value is PublicJwk {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (v.kty === 'OKP') return v.crv === 'Ed25519' && typeof v.x === 'string';
  return v.kty === 'EC' && v.crv === 'P-256' && typeof v.x === 'string' && typeof v.y === 'string';
}

/** The JWS algorithm a key signs with: EdDSA (RFC 8037) or ES256 (RFC 7518 §3.4). */
export function jwsAlgorithm(jwk: PublicJwk): 'EdDSA' | 'ES256' {
  return jwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
}

/**
 * Verify a signature in its JOSE form: Ed25519 over the message; ES256 as raw r‖s (64 bytes)
 * over SHA-256 of the message. Runtime-neutral (no Node APIs).
 */
export function verifySignature(jwk: PublicJwk, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (jwk.kty === 'OKP') return ed25519.verify(signature, message, fromBase64Url(jwk.x));
    const point = new Uint8Array(65);
    point[0] = 0x04;
    point.set(fromBase64Url(jwk.x), 1);
    point.set(fromBase64Url(jwk.y), 33);
    return p256.verify(signature, sha256(message), point, { prehash: false, lowS: false });
  } catch {
    return false;
  }
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) over the required members in lexical order. */
export function jwkThumbprint(jwk: PublicJwk): string {
  const members =
    jwk.kty === 'OKP' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return toBase64Url(sha256(canonicalize(members)));
}
