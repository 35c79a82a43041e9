import canonicalizeImpl from 'canonicalize';

/**
 * A value RFC 8785 cannot represent: a lone surrogate (§3.2.2.2: strings are Unicode, and a lone
 * surrogate is not a Unicode scalar value), a non-finite number (§3.2.2.3), a cycle, or
 * `undefined` at the top. Typed so that callers can tell hostile input from a bug.
 */
export class JcsError extends TypeError {
  readonly code = 'jcs_unrepresentable';

  constructor(message: string) {
    super(`JCS: ${message}`);
    this.name = 'JcsError';
  }
}

/**
 * RFC 8785 JSON Canonicalization Scheme. Refuses values JCS cannot represent (undefined at the top,
 * non-finite numbers, lone surrogates) with a JcsError instead of silently producing something else.
 */
export function canonicalize(value: unknown): string {
  let out: string | undefined;
  try {
    out = (canonicalizeImpl as (v: unknown) => string | undefined)(value);
  } catch (e) {
    throw new JcsError((e as Error).message);
  }
  if (out === undefined) throw new JcsError('value has no canonical JSON form');
  return out;
}

const encoder = new TextEncoder();

export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalize(value));
}
