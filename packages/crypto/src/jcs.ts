import canonicalizeImpl from 'canonicalize';

/**
 * RFC 8785 JSON Canonicalization Scheme. Refuses values JCS cannot represent (undefined at the top,
 * non-finite numbers) instead of silently producing something else.
 */
export function canonicalize(value: unknown): string {
  const out = (canonicalizeImpl as (v: unknown) => string | undefined)(value);
  if (out === undefined) throw new TypeError('JCS: value has no canonical JSON form');
  return out;
}

const encoder = new TextEncoder();

export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalize(value));
}
