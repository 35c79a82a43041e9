import type { AtomicAmount, Rail } from './requirement.ts';
import type { Settlement } from './backend.ts';
import type { SpendingGrant } from './grant.ts';

/**
 * The durable spend ledger: one entry per one-time budget id. Reserve BEFORE paying (the check
 * of total, velocity and replay and the write are one atomic step), settle or release after,
 * recover on restart. If the ledger cannot be read or written, every method throws
 * `PaymentError('spend_state_unavailable')`: never assume zero spent (MPCP trust-model).
 */
export interface SpendLedger {
  /**
   * Atomically: refuse a used `budgetId` (`budget_id_replayed`), refuse if settled + reserved +
   * amount would pass the grant limit's total (`over_grant_total`) or its velocity window
   * (`velocity_exceeded`), else write a `reserved` entry. Returns the entry.
   */
  reserve(input: ReserveInput): LedgerEntry;
  /** Record the rail's public reference (found again by `recover`) once `pay` returned it. */
  attachRef(budgetId: string, ref: string): void;
  /** Settled: count `settlement.amount` (the amount really paid). Not settled: release. */
  finish(budgetId: string, settlement: Settlement): LedgerEntry;
  /** Entries still `reserved` (outcome unknown): crash recovery works through these. */
  pending(): LedgerEntry[];
  /** All entries for a grant, oldest first (receipt reconciliation, CLI). */
  entries(grantId?: string): LedgerEntry[];
}

export interface ReserveInput {
  grant: SpendingGrant;
  budgetId: string;
  rail: Rail;
  network: string;
  asset: string;
  payee: string;
  amount: AtomicAmount;
  /** What the payment is for (tool name); for the record. */
  purpose: string;
  now: number;
}

export type LedgerState = 'reserved' | 'settled' | 'released';

export interface LedgerEntry {
  budgetId: string;
  grantId: string;
  rail: Rail;
  network: string;
  asset: string;
  payee: string;
  /** Reserved amount while `reserved`; the settled amount once `settled`; "0" once released. */
  amount: AtomicAmount;
  purpose: string;
  state: LedgerState;
  ref?: string;
  txRef?: string;
  reservedAt: number;
  finishedAt?: number;
}
