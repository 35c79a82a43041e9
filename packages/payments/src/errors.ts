import { BriefcaseError } from '@briefcase/protocol';

/**
 * Why a payment was refused or failed. Closed union: callers switch on `reason`. Every refusal
 * happens BEFORE money moves unless the reason says otherwise (`settlement_*`).
 */
export const PAYMENT_REASONS = [
  /** The 402 could not be parsed, or no offer is on a rail/scheme we can pay. */
  'malformed_challenge',
  'unsupported_offer',
  /** No active grant covers this rail/network/asset, or the grant is expired / revoked / not ours. */
  'no_grant',
  'grant_expired',
  'grant_revoked',
  'grant_invalid',
  'payee_not_allowed',
  'asset_not_allowed',
  'purpose_not_allowed',
  /** Amount above the grant's total, a cap, the authorization, or the tool's declared estimate. */
  'over_grant_total',
  'over_authorization',
  'over_estimate',
  'velocity_exceeded',
  /** A person must approve this payment first (above the grant's threshold, or above the estimate). */
  'approval_needed',
  /** The one-time budget id was seen before. */
  'budget_id_replayed',
  /** The spend ledger cannot be read or written: refuse rather than assume zero (MPCP). */
  'spend_state_unavailable',
  /** The offer expired, or is for another network than the grant's. */
  'offer_expired',
  /** The payment-helper refused to sign, or the rail refused the payment. */
  'signing_refused',
  'payment_rejected',
  /** Money may have moved but the settlement could not be verified (tx missing, wrong amount…). */
  'settlement_unverified',
] as const;
export type PaymentReason = (typeof PAYMENT_REASONS)[number];

/**
 * A payment refused or failed: `payment_failed` on the wire (or `budget_exceeded` for caps),
 * with a safe message; `reason` and `detail` go to the receipt and the log. Never put a key,
 * signature, preimage or macaroon into a message or detail.
 */
export class PaymentError extends BriefcaseError {
  readonly reason: PaymentReason;

  constructor(reason: PaymentReason, detail: string) {
    const budget = reason === 'over_grant_total' || reason === 'velocity_exceeded';
    super(budget ? 'budget_exceeded' : 'payment_failed', safeMessage(reason), `payment ${reason}: ${detail}`);
    this.name = 'PaymentError';
    this.reason = reason;
  }
}

function safeMessage(reason: PaymentReason): string {
  return `the upstream asked for a payment that was not made (${reason.replaceAll('_', ' ')})`;
}
