export { canonicalize, canonicalBytes, JcsError } from './jcs.ts';
export { sha256, sha256Hex, portableSha256, domainHash, callHash, utf8, bytesToHex, hexToBytes } from './hash.ts';
export type { RemoteToolIdentity } from './hash.ts';
export { toBase64, fromBase64, toBase64Url, fromBase64Url } from './encoding.ts';
export { ed25519Verify, isEd25519PublicJwk, type Ed25519PublicJwk } from './ed25519.ts';
export {
  isPublicJwk,
  jwkThumbprint,
  jwsAlgorithm,
  verifySignature,
  type P256PublicJwk,
  type PublicJwk,
} from './jwk.ts';
export { signCompactJws, verifyCompactJws, type JwsSigner } from './jws.ts';
