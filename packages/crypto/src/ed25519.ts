import { isPublicJwk, verifySignature, type Ed25519PublicJwk } from './jwk.ts';

export type { Ed25519PublicJwk };

export function isEd25519PublicJwk(value: unknown): value is Ed25519PublicJwk {
  return isPublicJwk(value) && value.kty === 'OKP';
}

export function ed25519Verify(jwk: Ed25519PublicJwk, message: Uint8Array, signature: Uint8Array): boolean {
  return verifySignature(jwk, message, signature);
}
