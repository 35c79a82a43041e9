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
