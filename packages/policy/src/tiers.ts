/**
 * Approval tiers, weakest first (DESIGN.md §4). `local`: any admin surface. `presence`: a WebAuthn
 * assertion with user verification. `signer`: a paired mobile signer. Only `local` has a surface
 * today; a call that needs a higher tier waits for a surface that can give it.
 */
export const TIERS = ['local', 'presence', 'signer'] as const;
export type Tier = (typeof TIERS)[number];

export function isTier(value: unknown): value is Tier {
  return typeof value === 'string' && (TIERS as readonly string[]).includes(value);
}

export function tierRank(tier: Tier): number {
  return TIERS.indexOf(tier);
}

/** Tighten-only: the stronger of two requirements. */
export function maxTier(a: Tier | null, b: Tier | null): Tier | null {
  if (a === null) return b;
  if (b === null) return a;
  return tierRank(a) >= tierRank(b) ? a : b;
}
