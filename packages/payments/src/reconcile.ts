import type { LedgerEntry } from './ledger.ts';

/** A `payment` receipt's body, as far as reconciliation reads it. */
export interface PaymentReceiptBody {
  event?: unknown;
  budget_id?: unknown;
  status?: unknown;
  amount?: unknown;
  tx?: unknown;
  grant_id?: unknown;
}

/**
 * `receipts verify`, payments part: the payment receipts and the spend ledger tell the same
 * story. Every settled ledger entry has exactly one receipt saying settled with the same amount,
 * transaction and grant; every receipt saying settled has that ledger entry; no budget id is
 * settled twice. Returns the problems, each naming the budget id.
 */
export function reconcilePayments(receipts: PaymentReceiptBody[], ledger: LedgerEntry[]): string[] {
  const problems: string[] = [];
  const settledReceipts = new Map<string, PaymentReceiptBody[]>();
  for (const r of receipts) {
    if (!['payment', 'recovered', 'resolved'].includes(String(r.event)) || r.status !== 'settled') continue;
    const id = String(r.budget_id);
    settledReceipts.set(id, [...(settledReceipts.get(id) ?? []), r]);
  }
  const byId = new Map(ledger.map((e) => [e.budgetId, e]));
  for (const [id, rs] of settledReceipts) {
    if (rs.length > 1) problems.push(`budget ${id}: ${rs.length} receipts say it settled (counted more than once)`);
    const e = byId.get(id);
    const r = rs[0]!;
    if (!e) problems.push(`budget ${id}: a receipt says it settled, the ledger has no such payment`);
    else if (e.state !== 'settled') problems.push(`budget ${id}: a receipt says settled, the ledger says ${e.state}`);
    else {
      if (String(r.amount) !== e.amount)
        problems.push(`budget ${id}: receipt amount ${String(r.amount)}, ledger ${e.amount}`);
      if (String(r.tx) !== (e.txRef ?? '')) problems.push(`budget ${id}: receipt tx differs from the ledger's`);
      if (String(r.grant_id) !== e.grantId) problems.push(`budget ${id}: receipt grant differs from the ledger's`);
    }
  }
  for (const e of ledger) {
    if (e.state === 'settled' && !settledReceipts.has(e.budgetId)) {
      problems.push(`budget ${e.budgetId}: the ledger counts ${e.amount} settled, no receipt says so`);
    }
  }
  return problems;
}
