import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { ApprovalStatus, ApprovalTier, ApprovalView } from '@briefcase/protocol';

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
  view TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS approvals_by_hash ON approvals (call_hash, status);
`;

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
    };
    this.#db
      .prepare(
        'INSERT INTO approvals (id, call_hash, status, tier, requested_by, created_at, expires_at, decided_at, view) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)',
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
      );
    return view;
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

  /** An approved, unexpired, unconsumed approval for exactly this call, if any. */
  findUsable(callHash: string, requestedBy: 'agent' | 'admin', now = new Date()): ApprovalView | undefined {
    const row = this.#db
      .prepare(
        "SELECT * FROM approvals WHERE call_hash = ? AND requested_by = ? AND status = 'approved' AND expires_at > ? ORDER BY created_at LIMIT 1",
      )
      .get(callHash, requestedBy, now.toISOString()) as Row | undefined;
    return row ? toView(row) : undefined;
  }

  /** A still-pending approval for this call (a retry waits on it instead of asking again). */
  findPending(callHash: string, requestedBy: 'agent' | 'admin', now = new Date()): ApprovalView | undefined {
    const row = this.#db
      .prepare(
        "SELECT * FROM approvals WHERE call_hash = ? AND requested_by = ? AND status = 'pending' AND expires_at > ? ORDER BY created_at LIMIT 1",
      )
      .get(callHash, requestedBy, now.toISOString()) as Row | undefined;
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
