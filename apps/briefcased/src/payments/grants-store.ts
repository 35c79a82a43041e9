import type { DatabaseSync } from 'node:sqlite';
import type { SpendingGrant, StoredGrant } from '@briefcase/payments';

/** Spending grants in the daemon database; revocation is a timestamp, never a delete. */
export class GrantStore {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(`CREATE TABLE IF NOT EXISTS payment_grants (
      grant_id TEXT PRIMARY KEY,
      doc TEXT NOT NULL,
      created_at TEXT NOT NULL,
      revoked_at TEXT
    )`);
  }

  add(grant: SpendingGrant): void {
    this.#db
      .prepare('INSERT INTO payment_grants (grant_id, doc, created_at) VALUES (?, ?, ?)')
      .run(grant.grantId, JSON.stringify(grant), grant.createdAt);
  }

  list(): StoredGrant[] {
    const rows = this.#db.prepare('SELECT doc, revoked_at FROM payment_grants ORDER BY created_at').all() as {
      doc: string;
      revoked_at: string | null;
    }[];
    return rows.map((r) => ({
      grant: JSON.parse(r.doc) as SpendingGrant,
      ...(r.revoked_at ? { revokedAt: r.revoked_at } : {}),
    }));
  }

  revoke(grantId: string, at: string): boolean {
    const r = this.#db
      .prepare('UPDATE payment_grants SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL')
      .run(at, grantId);
    return Number(r.changes) === 1;
  }
}
