import { DatabaseSync } from 'node:sqlite';
import { chmodSync, existsSync } from 'node:fs';

/**
 * The daemon's one SQLite database: receipts, checkpoints, approvals and spend live together so
 * that "settle spend, consume approval, append receipt" commits as one transaction.
 * WAL + synchronous=FULL: a committed transaction survives a crash or power loss.
 */
export function openDatabase(path: string): DatabaseSync {
  const fresh = !existsSync(path);
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  db.exec('PRAGMA foreign_keys = ON');
  db.exec('PRAGMA busy_timeout = 5000');
  if (fresh) chmodSync(path, 0o600);
  return db;
}

/** Run `fn` in a transaction; roll back and rethrow on error. */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
}
