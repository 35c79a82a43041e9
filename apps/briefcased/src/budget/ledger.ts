import { randomBytes } from 'node:crypto';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { capApplies, exceeds, windowKey, type BudgetCap, type BudgetCheck } from '@briefcase/policy';

export const SPEND_SCHEMA = `
CREATE TABLE IF NOT EXISTS spend (
  id TEXT PRIMARY KEY,
  tool TEXT NOT NULL,
  category TEXT NOT NULL,
  day TEXT NOT NULL,
  month TEXT NOT NULL,
  estimated INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  status TEXT NOT NULL,
  created_at TEXT NOT NULL,
  settled_at TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS spend_day ON spend (day);
CREATE INDEX IF NOT EXISTS spend_month ON spend (month);
`;

export type SpendStatus = 'reserved' | 'settled' | 'in_doubt' | 'released';

export interface Reservation {
  id: string;
  tool: string;
  category: string;
  estimated: number;
}

/**
 * Durable spend (DESIGN.md §2 step 6). A reservation for the estimated cost is committed before
 * the call leaves the daemon; it is settled to the actual cost in the same transaction as the
 * call's receipt. After a crash, reservations still open are marked `in_doubt` and keep counting
 * at their estimate: spend is never lost and each call is counted exactly once.
 */
export class SpendLedger {
  readonly #db: DatabaseSync;
  readonly #reserve: StatementSync;
  readonly #settle: StatementSync;
  readonly #sumDay: StatementSync;
  readonly #sumMonth: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(SPEND_SCHEMA);
    this.#reserve = db.prepare(
      "INSERT INTO spend (id, tool, category, day, month, estimated, amount, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'reserved', ?)",
    );
    this.#settle = db.prepare(
      "UPDATE spend SET amount = ?, status = ?, settled_at = ? WHERE id = ? AND status = 'reserved'",
    );
    const counted = "status IN ('reserved', 'settled', 'in_doubt')";
    this.#sumDay = db.prepare(
      `SELECT tool, category, SUM(amount) AS total FROM spend WHERE day = ? AND ${counted} GROUP BY tool, category`,
    );
    this.#sumMonth = db.prepare(
      `SELECT tool, category, SUM(amount) AS total FROM spend WHERE month = ? AND ${counted} GROUP BY tool, category`,
    );
  }

  /** The caps `tool` would exceed with `estimated` more spend now. */
  check(caps: BudgetCap[], tool: string, category: string, estimated: number, now = new Date()): BudgetCheck[] {
    const applicable = caps.filter((c) => capApplies(c, tool, category));
    if (applicable.length === 0) return [];
    const totals = new Map<string, { tool: string; category: string; total: number }[]>();
    const rows = (window: 'day' | 'month') => {
      let r = totals.get(window);
      if (!r) {
        const stmt = window === 'day' ? this.#sumDay : this.#sumMonth;
        r = stmt.all(windowKey(window, now)) as unknown as { tool: string; category: string; total: number }[];
        totals.set(window, r);
      }
      return r;
    };
    const over: BudgetCheck[] = [];
    for (const cap of applicable) {
      const spent =
        cap.window === 'call'
          ? 0
          : rows(cap.window)
              .filter((r) => capApplies(cap, r.tool, r.category))
              .reduce((sum, r) => sum + Number(r.total), 0);
      const check = { cap, spent, estimated };
      if (exceeds(check)) over.push(check);
    }
    return over;
  }

  /** What counts against `cap` in its current window (0 for per-call caps). */
  spentFor(cap: BudgetCap, now = new Date()): number {
    if (cap.window === 'call') return 0;
    const stmt = cap.window === 'day' ? this.#sumDay : this.#sumMonth;
    const rows = stmt.all(windowKey(cap.window, now)) as unknown as { tool: string; category: string; total: number }[];
    return rows.filter((r) => capApplies(cap, r.tool, r.category)).reduce((sum, r) => sum + Number(r.total), 0);
  }

  /** Counted spend per day over the last `days` days, oldest first (days without spend are 0). */
  series(days: number, now = new Date()): { day: string; total: number }[] {
    const rows = this.#db
      .prepare(
        "SELECT day, SUM(amount) AS total FROM spend WHERE status IN ('reserved', 'settled', 'in_doubt') GROUP BY day",
      )
      .all() as { day: string; total: number }[];
    const byDay = new Map(rows.map((r) => [r.day, Number(r.total)]));
    return Array.from({ length: days }, (_, i) => {
      const day = windowKey('day', new Date(now.getTime() - (days - 1 - i) * 86_400_000));
      return { day, total: byDay.get(day) ?? 0 };
    });
  }

  reserve(tool: string, category: string, estimated: number, now = new Date()): Reservation {
    const id = `sp_${randomBytes(9).toString('base64url')}`;
    this.#reserve.run(
      id,
      tool,
      category,
      windowKey('day', now),
      windowKey('month', now),
      estimated,
      estimated,
      now.toISOString(),
    );
    return { id, tool, category, estimated };
  }

  /** Record what the call actually cost (or release it when nothing was spent). */
  settle(reservation: Reservation, amount: number, now = new Date()): void {
    const status: SpendStatus = amount === 0 ? 'released' : 'settled';
    this.#settle.run(amount, status, now.toISOString(), reservation.id);
  }

  /** Start-up recovery: open reservations from a crashed run keep counting, flagged in_doubt. */
  recoverOpen(now = new Date()): { id: string; tool: string; estimated: number }[] {
    const open = this.#db
      .prepare("SELECT id, tool, estimated FROM spend WHERE status = 'reserved'")
      .all() as unknown as { id: string; tool: string; estimated: number }[];
    const mark = this.#db.prepare(
      "UPDATE spend SET status = 'in_doubt', settled_at = ? WHERE id = ? AND status = 'reserved'",
    );
    for (const row of open) mark.run(now.toISOString(), row.id);
    return open;
  }

  /** Totals for status output and tests. */
  totals(now = new Date()): { day: number; month: number; in_doubt: number } {
    const one = (sql: string, arg: string) => Number((this.#db.prepare(sql).get(arg) as { t: number | null }).t ?? 0);
    const counted = "status IN ('reserved', 'settled', 'in_doubt')";
    return {
      day: one(`SELECT SUM(amount) AS t FROM spend WHERE day = ? AND ${counted}`, windowKey('day', now)),
      month: one(`SELECT SUM(amount) AS t FROM spend WHERE month = ? AND ${counted}`, windowKey('month', now)),
      in_doubt: one(
        "SELECT SUM(amount) AS t FROM spend WHERE status = 'in_doubt' AND month = ?",
        windowKey('month', now),
      ),
    };
  }
}
