import { PaymentError } from './errors.ts';
import type { GrantLimit, SpendingGrant } from './grant.ts';
import { atomic, maxCost, toAtomic, type PaymentRequirement } from './requirement.ts';

export interface OfferContext {
  /** What the payment is for: the tool's name (and its tags), matched against grant purposes. */
  purposes: readonly string[];
  /** The tool's declared estimate for one call in this asset, atomic units; undefined = none declared. */
  estimate?: bigint | undefined;
  now: number;
}

export interface OfferDecision {
  limit: GrantLimit;
  /** Why a person must approve this payment first (threshold, over the estimate), or []. */
  approvalReasons: string[];
}

/**
 * The stateless half of "check before paying": does this (verified) grant cover this offer?
 * Rail, network and asset must match a limit exactly (amounts in different assets never add
 * up); the payee must be on the allowlist; the purpose allowed; the offer not expired; the
 * amount plus its fee allowance at most the grant's total and velocity amount. The stateful half (cumulative spend,
 * velocity, replay) is the ledger's reserve, done atomically.
 */
export function checkOffer(grant: SpendingGrant, offer: PaymentRequirement, ctx: OfferContext): OfferDecision {
  const limit = grant.limits.find(
    (l) => l.rail === offer.rail && l.network === offer.network && l.asset === offer.asset,
  );
  if (!limit) {
    throw new PaymentError(
      'asset_not_allowed',
      `grant ${grant.grantId} does not cover ${offer.asset} on ${offer.network}`,
    );
  }
  if (!grant.payees.includes(offer.payee)) {
    throw new PaymentError('payee_not_allowed', `payee ${offer.payee} is not on grant ${grant.grantId}'s allowlist`);
  }
  if (!ctx.purposes.some((p) => grant.purposes.includes(p))) {
    throw new PaymentError(
      'purpose_not_allowed',
      `grant ${grant.grantId} does not allow paying for ${ctx.purposes[0] ?? '?'}`,
    );
  }
  if (offer.expiresAt !== undefined && offer.expiresAt <= ctx.now) {
    throw new PaymentError('offer_expired', `the offer expired at ${new Date(offer.expiresAt).toISOString()}`);
  }
  const amount = atomic(offer.amount);
  if (amount === 0n) throw new PaymentError('malformed_challenge', 'the offer asks for zero');
  // Routing fees are spend too: the grant's limits and its approval threshold see the most this
  // payment can cost. The ledger settles what was really paid and releases the rest.
  const cost = maxCost(offer);
  const costText =
    cost === amount ? offer.amount : `up to ${toAtomic(cost)} (${offer.amount} + fees up to ${offer.maxFee})`;
  if (cost > atomic(limit.total) || cost > atomic(limit.velocity.amount)) {
    throw new PaymentError('over_grant_total', `${costText} is more than grant ${grant.grantId} allows at once`);
  }
  const approvalReasons: string[] = [];
  if (limit.approvalAbove !== undefined && cost > atomic(limit.approvalAbove)) {
    approvalReasons.push(`payment of ${costText} is above the grant's approval threshold ${limit.approvalAbove}`);
  }
  // The estimate is the tool's declared price: compared with the price, not the fee allowance.
  if (ctx.estimate !== undefined && amount > ctx.estimate) {
    approvalReasons.push(`the upstream asks ${offer.amount}, more than the tool's declared estimate ${ctx.estimate}`);
  }
  return { limit, approvalReasons };
}
