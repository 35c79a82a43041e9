import { randomBytes } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { domainHash } from '@briefcase/crypto';

export type OperationStatus = 'pending' | 'confirmed' | 'rejected' | 'expired' | 'failed';

export interface Operation {
  id: string;
  kind: string;
  params: Record<string, unknown>;
  /** What the person's passkey signs over (with the id): the exact change, canonicalised. */
  payload_sha256: string;
  summary: string;
  details: Record<string, unknown>;
  status: OperationStatus;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  result?: Record<string, unknown> | undefined;
  error?: string | undefined;
}

interface Row {
  id: string;
  kind: string;
  params: string;
  payload_sha256: string;
  summary: string;
  details: string;
  status: OperationStatus;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  result: string | null;
  error: string | null;
}

export const OPERATION_DOMAIN = 'briefcase.operation.v1';

/** The hash a confirmation commits to: the kind and the exact parameters. */
export function operationPayloadHash(kind: string, params: Record<string, unknown>): string {
  return domainHash(OPERATION_DOMAIN, { kind, params });
}

/**
 * Guarded administration (issue 9): once a passkey exists, a change that widens what an agent
 * can do is stored here as a pending operation and runs only when a person confirms it with a
 * passkey in the console. State changes are conditional UPDATEs, so it runs at most once.
 */
export class OperationStore {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  create(
    kind: string,
    params: Record<string, unknown>,
    summary: string,
    details: Record<string, unknown>,
    ttlSeconds: number,
    now = new Date(),
  ): Operation {
    const op: Operation = {
      id: `op_${randomBytes(12).toString('base64url')}`,
      kind,
      params,
      payload_sha256: operationPayloadHash(kind, params),
      summary,
      details,
      status: 'pending',
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + ttlSeconds * 1000).toISOString(),
      decided_at: null,
    };
    this.#db
      .prepare(
        `INSERT INTO operations (id, kind, params, payload_sha256, summary, details, status, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
      )
      .run(
        op.id,
        kind,
        JSON.stringify(params),
        op.payload_sha256,
        summary,
        JSON.stringify(details),
        op.created_at,
        op.expires_at,
      );
    return op;
  }

  get(id: string): Operation | undefined {
    const row = this.#db.prepare('SELECT * FROM operations WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  list(status?: OperationStatus): Operation[] {
    const rows = (status
      ? this.#db.prepare('SELECT * FROM operations WHERE status = ? ORDER BY created_at DESC LIMIT 200').all(status)
      : this.#db.prepare('SELECT * FROM operations ORDER BY created_at DESC LIMIT 200').all()) as unknown as Row[];
    return rows.map(fromRow);
  }

  /** pending → confirmed | rejected | expired; confirmed → failed. False when not in `from`. */
  transition(id: string, from: OperationStatus, to: OperationStatus, now = new Date()): boolean {
    const expiry = from === 'pending' && to !== 'expired' ? ' AND expires_at > ?' : '';
    const args = [to, now.toISOString(), id, from, ...(expiry ? [now.toISOString()] : [])];
    return (
      this.#db
        .prepare(`UPDATE operations SET status = ?, decided_at = ? WHERE id = ? AND status = ?${expiry}`)
        .run(...args).changes === 1
    );
  }

  finish(id: string, outcome: { result?: Record<string, unknown>; error?: string }): void {
    this.#db
      .prepare('UPDATE operations SET result = ?, error = ? WHERE id = ?')
      .run(outcome.result ? JSON.stringify(outcome.result) : null, outcome.error ?? null, id);
  }

  expireDue(now = new Date()): Operation[] {
    const due = this.#db
      .prepare("SELECT * FROM operations WHERE status = 'pending' AND expires_at <= ?")
      .all(now.toISOString()) as unknown as Row[];
    return due.filter((r) => this.transition(r.id, 'pending', 'expired', now)).map(fromRow);
  }
}

function fromRow(r: Row): Operation {
  return {
    id: r.id,
    kind: r.kind,
    params: JSON.parse(r.params) as Record<string, unknown>,
    payload_sha256: r.payload_sha256,
    summary: r.summary,
    details: JSON.parse(r.details) as Record<string, unknown>,
    status: r.status,
    created_at: r.created_at,
    expires_at: r.expires_at,
    decided_at: r.decided_at,
    ...(r.result ? { result: JSON.parse(r.result) as Record<string, unknown> } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}
