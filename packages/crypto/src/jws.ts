import { fromBase64Url, toBase64Url } from './encoding.ts';
import { utf8 } from './hash.ts';
import { isPublicJwk, jwsAlgorithm, verifySignature, type PublicJwk } from './jwk.ts';

/** Whatever signs in the JOSE form (a Briefcase `Signer`, a DPoP key). */
export interface JwsSigner {
  readonly algorithm: 'EdDSA' | 'ES256';
  readonly publicJwk: PublicJwk;
  sign(signingInput: Uint8Array): Promise<Uint8Array>;
}

/** A compact JWS (RFC 7515) whose header carries the signer's public JWK. */
export async function signCompactJws(signer: JwsSigner, typ: string, payload: unknown): Promise<string> {
  const header = { alg: signer.algorithm, typ, jwk: signer.publicJwk };
  const input = `${toBase64Url(utf8(JSON.stringify(header)))}.${toBase64Url(utf8(JSON.stringify(payload)))}`;
  return `${input}.${toBase64Url(await signer.sign(utf8(input)))}`;
}

/**
 * Verify a compact JWS against the public JWK in its own header; the caller decides whether that
 * key is one it trusts (by thumbprint). Null when malformed, mistyped or badly signed.
 * Runtime-neutral.
 */
export function verifyCompactJws(token: string, typ: string): { jwk: PublicJwk; payload: unknown } | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const header = JSON.parse(new TextDecoder().decode(fromBase64Url(parts[0]!))) as {
      alg?: unknown;
      typ?: unknown;
      jwk?: unknown;
    };
    if (header.typ !== typ || !isPublicJwk(header.jwk) || header.alg !== jwsAlgorithm(header.jwk)) return null;
    const ok = verifySignature(header.jwk, utf8(`${parts[0]}.${parts[1]}`), fromBase64Url(parts[2]!));
    if (!ok) return null;
    return { jwk: header.jwk, payload: JSON.parse(new TextDecoder().decode(fromBase64Url(parts[1]!))) };
  } catch {
    return null;
  }
}
