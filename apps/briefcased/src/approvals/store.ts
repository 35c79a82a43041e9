import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { ApprovalStatus, ApprovalTier, ApprovalView, PaymentApprovalView } from '@briefcase/protocol';
import { tierRank } from '@briefcase/policy';

export const APPROVALS_SCHEMA = `
CREATE TABLE IF NOT EXISTS approvals (
  id TEXT PRIMARY KEY,
  call_hash TEXT NOT NULL,
  status TEXT NOT NULL,
  tier TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  decided_at TEXT,
  view TEXT NOT NULL,
  budget_caps TEXT NOT NULL DEFAULT '[]',
  payment_hash TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS approvals_by_hash ON approvals (call_hash, status);
CREATE INDEX IF NOT EXISTS approvals_by_status ON approvals (status, requested_by);
`;

/** `ApprovalNeed.paymentHash` matching an approval of any one payment of the call. */
export const ANY_PAYMENT = '*';

/** What a call needs from an approval to run now (step 7 of DESIGN.md §2). */
export interface ApprovalNeed {
  /** The tier policy and budget require now; a weaker approval does not count. */
  tier: ApprovalTier;
  /** Caps (on_exceed "approval") this call would exceed now; the approval must have been given for each. */
  budgetCaps: string[];
  /**
   * The payment (PaymentApprovalView.hash) the approval must be for; absent: an approval of the
   * call itself. `ANY_PAYMENT`: an approval of this call and one of its payments (which also
   * lets the call run once: pipeline/admission.ts). A call approval never stands in for a payment.
   */
  paymentHash?: string;
}

export interface NewApproval {
  callHash: string;
  tier: ApprovalTier;
  requestedBy: 'agent' | 'admin';
  tool: string;
  origin: string;
  category: string;
  args: Record<string, unknown>;
  reason: string;
  reads: string | null;
  changes: string | null;
  estimatedCost: number;
  currency: string;
  ttlSeconds: number;
  /** The budget caps the call would exceed: approving it approves exceeding them. */
  budgetCaps: string[];
  /** A payment approval: the exact offer approved (its hash binds the approval). */
  payment?: PaymentApprovalView;
}

interface Row {
  id: string;
  call_hash: string;
  status: ApprovalStatus;
  tier: ApprovalTier;
  requested_by: 'agent' | 'admin';
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  view: string;
  budget_caps: string;
  payment_hash: string | null;
}

/**
 * Approvals (DESIGN.md §4): bound to a call_hash, single-use, expiring. State changes are
 * conditional UPDATEs (`WHERE status = 'pending'`), so two approvers or two retries racing can
 * never both win. Receipts for each transition are appended by the caller in the same
 * transaction. `changed` fires after a transition so long-polls wake up.
 */
export class ApprovalStore {
  readonly changed = new EventEmitter<{ change: [id: string] }>();
  readonly #db: DatabaseSync;
  readonly #byId: StatementSync;
  readonly #transition: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    // Databases from before budget_caps: add the column (old approvals cover no budget cap).
    const table = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'approvals'").get();
    if (table && !db.prepare("SELECT 1 FROM pragma_table_info('approvals') WHERE name = 'budget_caps'").get()) {
      db.exec("ALTER TABLE approvals ADD COLUMN budget_caps TEXT NOT NULL DEFAULT '[]'");
    }
    // Databases from before payment approvals: every older approval is of a call, not a payment.
    if (table && !db.prepare("SELECT 1 FROM pragma_table_info('approvals') WHERE name = 'payment_hash'").get()) {
      db.exec('ALTER TABLE approvals ADD COLUMN payment_hash TEXT');
    }
    db.exec(APPROVALS_SCHEMA);
    this.changed.setMaxListeners(0);
    this.#byId = db.prepare('SELECT * FROM approvals WHERE id = ?');
    this.#transition = db.prepare(
      'UPDATE approvals SET status = ?, decided_at = ? WHERE id = ? AND status = ? AND expires_at > ?',
    );
  }

  create(input: NewApproval, now = new Date()): ApprovalView {
    const id = `apr_${randomBytes(9).toString('base64url')}`;
    const expires = new Date(now.getTime() + input.ttlSeconds * 1000);
    const view: ApprovalView = {
      id,
      status: 'pending',
      tier: input.tier,
      tool: input.tool,
      origin: input.origin,
      category: input.category,
      args: input.args,
      call_hash: input.callHash,
      reason: input.reason,
      reads: input.reads,
      changes: input.changes,
      estimated_cost: input.estimatedCost,
      currency: input.currency,
      requested_by: input.requestedBy,
      created_at: now.toISOString(),
      expires_at: expires.toISOString(),
      decided_at: null,
      ...(input.payment ? { payment: input.payment } : {}),
    };
    this.#db
      .prepare(
        'INSERT INTO approvals (id, call_hash, status, tier, requested_by, created_at, expires_at, decided_at, view, budget_caps, payment_hash) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)',
      )
      .run(
        id,
        input.callHash,
        'pending',
        input.tier,
        input.requestedBy,
        view.created_at,
        view.expires_at,
        JSON.stringify(view),
        JSON.stringify(input.budgetCaps),
        input.payment?.hash ?? null,
      );
    // Watchers (the console) hear of it once the creating transaction has committed.
    setImmediate(() => this.changed.emit('change', id));
    return view;
  }

  /** The payment hash an approval is bound to, or null for an approval of the call. */
  paymentHash(id: string): string | null {
    return (this.#byId.get(id) as Row | undefined)?.payment_hash ?? null;
  }

  /** The budget caps approving this call approves exceeding. */
  budgetCaps(id: string): string[] {
    const row = this.#byId.get(id) as Row | undefined;
    return row ? (JSON.parse(row.budget_caps) as string[]) : [];
  }

  get(id: string): ApprovalView | undefined {
    const row = this.#byId.get(id) as Row | undefined;
    return row ? toView(row) : undefined;
  }

  list(status?: ApprovalStatus): ApprovalView[] {
    const rows = status
      ? this.#db.prepare('SELECT * FROM approvals WHERE status = ? ORDER BY created_at DESC').all(status)
      : this.#db.prepare('SELECT * FROM approvals ORDER BY created_at DESC LIMIT 500').all();
    return (rows as unknown as Row[]).map(toView);
  }

  /**
   * An approved, unexpired, unconsumed approval for exactly this call that is enough now: of the
   * tier required now and given for every budget cap the call would exceed now (the budget may
   * have moved since the approval was asked for). Run inside the transaction that consumes it.
   */
  findUsable(callHash: string, requestedBy: 'agent' | 'admin', need: ApprovalNeed, now = new Date()) {
    return this.#findEnough('approved', callHash, requestedBy, need, now);
  }

  /** A still-pending approval for this call that will be enough once approved (a retry waits on it). */
  findPending(callHash: string, requestedBy: 'agent' | 'admin', need: ApprovalNeed, now = new Date()) {
    return this.#findEnough('pending', callHash, requestedBy, need, now);
  }

  /** How many approvals this requester has waiting for a person, and when the first of them expires. */
  pendingCount(requestedBy: 'agent' | 'admin', now = new Date()): { count: number; firstExpiry: string | null } {
    const row = this.#db
      .prepare(
        "SELECT COUNT(*) AS n, MIN(expires_at) AS first FROM approvals WHERE status = 'pending' AND requested_by = ? AND expires_at > ?",
      )
      .get(requestedBy, now.toISOString()) as { n: number; first: string | null };
    return { count: Number(row.n), firstExpiry: row.first };
  }

  #findEnough(
    status: 'approved' | 'pending',
    callHash: string,
    requestedBy: 'agent' | 'admin',
    need: ApprovalNeed,
    now: Date,
  ): ApprovalView | undefined {
    const any = need.paymentHash === ANY_PAYMENT;
    const rows = this.#db
      .prepare(
        `SELECT * FROM approvals WHERE call_hash = ? AND requested_by = ? AND status = ? AND expires_at > ? AND ${any ? 'payment_hash IS NOT NULL' : 'payment_hash IS ?'} ORDER BY created_at`,
      )
      .all(
        callHash,
        requestedBy,
        status,
        now.toISOString(),
        ...(any ? [] : [need.paymentHash ?? null]),
      ) as unknown as Row[];
    const row = rows.find((r) => {
      if (tierRank(r.tier) < tierRank(need.tier)) return false;
      const covered = JSON.parse(r.budget_caps) as string[];
      return need.budgetCaps.every((cap) => covered.includes(cap));
    });
    return row ? toView(row) : undefined;
  }

  /** pending → approved | rejected; approved → consumed. False when the approval was not in `from`. */
  transition(id: string, from: ApprovalStatus, to: ApprovalStatus, now = new Date()): boolean {
    const changes = this.#transition.run(to, now.toISOString(), id, from, now.toISOString()).changes;
    return Number(changes) === 1;
  }

  /** Pending or approved approvals past their expiry, now marked expired. */
  expireDue(now = new Date()): ApprovalView[] {
    const rows = this.#db
      .prepare("SELECT * FROM approvals WHERE status IN ('pending', 'approved') AND expires_at <= ?")
      .all(now.toISOString()) as unknown as Row[];
    const expired: ApprovalView[] = [];
    const stmt = this.#db.prepare('UPDATE approvals SET status = ?, decided_at = ? WHERE id = ? AND status = ?');
    for (const row of rows) {
      if (Number(stmt.run('expired', now.toISOString(), row.id, row.status).changes) === 1) {
        expired.push({ ...toView(row), status: 'expired', decided_at: now.toISOString() });
      }
    }
    return expired;
  }

  notify(id: string): void {
    this.changed.emit('change', id);
  }

  /** Resolve when the approval leaves `pending` or after `ms`, whichever comes first. */
  waitForChange(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.changed.off('change', onChange);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const onChange = (changed: string) => {
        if (changed === id) done();
      };
      const timer = setTimeout(done, ms);
      this.changed.on('change', onChange);
      signal?.addEventListener('abort', done);
    });
  }
}

function toView(row: Row): ApprovalView {
  const view = JSON.parse(row.view) as ApprovalView;
  return { ...view, status: row.status, decided_at: row.decided_at };
}
