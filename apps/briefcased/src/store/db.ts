import { DatabaseSync } from 'node:sqlite';
import { chmodSync, existsSync } from 'node:fs';
import { BriefcaseError } from '@briefcase/protocol';
import { isBusy } from './busy.ts';

/**
 * SQLite's busy handler sleeps synchronously, freezing the event loop for as long as another
 * process holds the write lock. Keep it short: the commit queue waits for longer locks with timers.
 */
export const BUSY_TIMEOUT_MS = 20;

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
  db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  if (fresh) chmodSync(path, 0o600);
  return db;
}

/**
 * Run `fn` in a transaction; roll back and rethrow on error. For admin actions that may fail when
 * another process holds the write lock (`unavailable`); calls go through the CommitQueue, which waits.
 */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (e) {
    if (!isBusy(e)) throw e;
    throw new BriefcaseError('unavailable', 'the database is locked by another process; try again', String(e));
  }
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
}
