import type { DatabaseSync } from 'node:sqlite';
import type { Settlement } from '../backend.ts';
import { PaymentError } from '../errors.ts';
import type { LedgerEntry, LedgerState, ReserveInput, SpendLedger } from '../ledger.ts';
import { atomic, type Rail } from '../requirement.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS payment_ledger (
  budget_id TEXT PRIMARY KEY,
  grant_id TEXT NOT NULL,
  rail TEXT NOT NULL,
  network TEXT NOT NULL,
  asset TEXT NOT NULL,
  payee TEXT NOT NULL,
  amount TEXT NOT NULL,
  purpose TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('reserved', 'settled', 'released')),
  ref TEXT,
  tx_ref TEXT,
  reserved_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE INDEX IF NOT EXISTS payment_ledger_grant ON payment_ledger (grant_id, rail, network, asset, reserved_at);
`;

interface Row {
  budget_id: string;
  grant_id: string;
  rail: string;
  network: string;
  asset: string;
  payee: string;
  amount: string;
  purpose: string;
  state: string;
  ref: string | null;
  tx_ref: string | null;
  reserved_at: number;
  finished_at: number | null;
}

/**
 * The spend ledger in the daemon's SQLite database (WAL, synchronous=FULL: a reservation is on
 * disk before `pay` runs). `reserve` checks and writes in one write transaction (BEGIN
 * IMMEDIATE, or the caller's transaction), so concurrent calls — in this process or another —
 * cannot both pass a limit. Any SQLite failure becomes `spend_state_unavailable`: refuse, never
 * assume zero.
 */
export class SqliteSpendLedger implements SpendLedger {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#guard(() => db.exec(SCHEMA));
  }

  reserve(input: ReserveInput): LedgerEntry {
    return this.#guard(() =>
      this.#tx(() => {
        const db = this.#db;
        if (db.prepare('SELECT 1 FROM payment_ledger WHERE budget_id = ?').get(input.budgetId)) {
          throw new PaymentError('budget_id_replayed', `budget id ${input.budgetId} was used before`);
        }
        const limit = input.grant.limits.find(
          (l) => l.rail === input.rail && l.network === input.network && l.asset === input.asset,
        );
        if (!limit)
          throw new PaymentError('asset_not_allowed', `grant ${input.grant.grantId} does not cover ${input.asset}`);
        const rows = db
          .prepare(
            `SELECT amount, reserved_at FROM payment_ledger
             WHERE grant_id = ? AND rail = ? AND network = ? AND asset = ? AND state IN ('reserved', 'settled')`,
          )
          .all(input.grant.grantId, input.rail, input.network, input.asset) as unknown as Pick<
          Row,
          'amount' | 'reserved_at'
        >[];
        const amount = atomic(input.amount);
        const total = rows.reduce((sum, r) => sum + atomic(r.amount), 0n);
        if (total + amount > atomic(limit.total)) {
          throw new PaymentError(
            'over_grant_total',
            `grant ${input.grant.grantId}: ${total} spent or reserved + ${amount} > total ${limit.total}`,
          );
        }
        // Sliding window (MPCP velocity): reservations count, so concurrent calls cannot slip through.
        const since = input.now - limit.velocity.windowSeconds * 1000;
        const recent = rows.filter((r) => r.reserved_at > since);
        const recentSum = recent.reduce((sum, r) => sum + atomic(r.amount), 0n);
        if (recent.length + 1 > limit.velocity.count || recentSum + amount > atomic(limit.velocity.amount)) {
          throw new PaymentError(
            'velocity_exceeded',
            `grant ${input.grant.grantId}: ${recent.length} payments (${recentSum}) in the last ${limit.velocity.windowSeconds} s`,
          );
        }
        db.prepare(
          `INSERT INTO payment_ledger (budget_id, grant_id, rail, network, asset, payee, amount, purpose, state, reserved_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'reserved', ?)`,
        ).run(
          input.budgetId,
          input.grant.grantId,
          input.rail,
          input.network,
          input.asset,
          input.payee,
          input.amount,
          input.purpose,
          input.now,
        );
        return this.#get(input.budgetId);
      }),
    );
  }

  attachRef(budgetId: string, ref: string): void {
    this.#guard(() => this.#db.prepare('UPDATE payment_ledger SET ref = ? WHERE budget_id = ?').run(ref, budgetId));
  }

  finish(budgetId: string, settlement: Settlement): LedgerEntry {
    return this.#guard(() =>
      this.#tx(() => {
        const entry = this.#get(budgetId);
        if (entry.state !== 'reserved') return entry; // finished before (recovery raced a late confirm)
        if (settlement.status === 'unknown') return entry; // stays counted as reserved
        const settled = settlement.status === 'settled';
        this.#db
          .prepare('UPDATE payment_ledger SET state = ?, amount = ?, tx_ref = ?, finished_at = ? WHERE budget_id = ?')
          .run(
            settled ? 'settled' : 'released',
            settled ? settlement.amount : '0',
            settlement.txRef ?? null,
            Date.now(),
            budgetId,
          );
        return this.#get(budgetId);
      }),
    );
  }

  pending(): LedgerEntry[] {
    return this.#guard(() =>
      (
        this.#db
          .prepare(`SELECT * FROM payment_ledger WHERE state = 'reserved' ORDER BY reserved_at`)
          .all() as unknown as Row[]
      ).map(toEntry),
    );
  }

  entries(grantId?: string): LedgerEntry[] {
    return this.#guard(() => {
      const rows = grantId
        ? this.#db.prepare('SELECT * FROM payment_ledger WHERE grant_id = ? ORDER BY reserved_at').all(grantId)
        : this.#db.prepare('SELECT * FROM payment_ledger ORDER BY reserved_at').all();
      return (rows as unknown as Row[]).map(toEntry);
    });
  }

  #get(budgetId: string): LedgerEntry {
    const row = this.#db.prepare('SELECT * FROM payment_ledger WHERE budget_id = ?').get(budgetId) as Row | undefined;
    if (!row) throw new PaymentError('spend_state_unavailable', `no ledger entry ${budgetId}`);
    return toEntry(row);
  }

  #tx<T>(fn: () => T): T {
    if (this.#db.isTransaction) return fn();
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.#db.exec('COMMIT');
      return out;
    } catch (e) {
      this.#db.exec('ROLLBACK');
      throw e;
    }
  }

  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof PaymentError) throw e;
      throw new PaymentError('spend_state_unavailable', `spend ledger: ${(e as Error).message}`);
    }
  }
}

function toEntry(r: Row): LedgerEntry {
  return {
    budgetId: r.budget_id,
    grantId: r.grant_id,
    rail: r.rail as Rail,
    network: r.network,
    asset: r.asset,
    payee: r.payee,
    amount: r.amount,
    purpose: r.purpose,
    state: r.state as LedgerState,
    ...(r.ref ? { ref: r.ref } : {}),
    ...(r.tx_ref ? { txRef: r.tx_ref } : {}),
    reservedAt: r.reserved_at,
    ...(r.finished_at !== null ? { finishedAt: r.finished_at } : {}),
  };
}
