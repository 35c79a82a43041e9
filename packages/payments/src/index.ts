/**
 * @briefcase/payments: paying 402 challenges inside grants an agent cannot exceed.
 * Rails (x402, L402) implement `PaymentBackend`; the daemon runs the retry contract described
 * in backend.ts. See docs/payments.md.
 */
export {
  RAILS,
  assetKey,
  atomic,
  isAtomicAmount,
  toAtomic,
  maxCost,
  type AtomicAmount,
  type PaymentRequirement,
  type Rail,
} from './requirement.ts';
export type {
  Challenge,
  PaymentAuthorization,
  PaymentBackend,
  PaymentProof,
  PendingPayment,
  RetryResponse,
  Settlement,
} from './backend.ts';
export { PAYMENT_REASONS, PaymentError, type PaymentReason } from './errors.ts';
export type { GrantLimit, SpendingGrant, StoredGrant } from './grant.ts';
export type { LedgerEntry, LedgerState, ReserveInput, SpendLedger } from './ledger.ts';
export {
  GrantLimitSchema,
  GrantRequestSchema,
  SpendingGrantSchema,
  grantSigningInput,
  signGrant,
  verifyGrant,
  type GrantIssuer,
  type GrantRequest,
  type GrantTrust,
} from './grant-doc.ts';
export { checkOffer, type OfferContext, type OfferDecision } from './grant-check.ts';
export {
  PaymentFlow,
  PaymentRefused,
  type PaidCall,
  type PaymentApprovalRequest,
  type PaymentFlowDeps,
  type PaymentOutcome,
} from './flow.ts';
export { checkGrantAuthorizes } from './grant-authorizes.ts';
export { reconcilePayments, type PaymentReceiptBody } from './reconcile.ts';
