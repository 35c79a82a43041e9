import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { StoreBusyError } from './busy.ts';
import { CommitQueue } from './commit-queue.ts';
import { openDatabase } from './db.ts';

describe('CommitQueue under another process’s write lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bc-cq-'));
  const path = join(dir, 'q.db');
  const db = openDatabase(path);
  db.exec('CREATE TABLE t (n INTEGER NOT NULL) STRICT');
  const other = new DatabaseSync(path);
  after(() => {
    other.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const count = () => Number((db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n);

  it('waits with timers (the event loop keeps turning) and commits once the lock is released', async () => {
    const queue = new CommitQueue(db, { afterRollback: () => undefined, lockWaitMs: 60_000 });
    other.exec('BEGIN IMMEDIATE');
    const jobs = Promise.all([1, 2, 3].map((n) => queue.run(() => db.prepare('INSERT INTO t VALUES (?)').run(n))));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    await new Promise((r) => setTimeout(r, 300));
    clearInterval(timer);
    assert.ok(ticks >= 2, `timers fired while the lock was held (${ticks})`);
    assert.equal(count(), 0);
    other.exec('ROLLBACK');
    await jobs;
    assert.equal(count(), 3);
  });

  it('fails a job that waited longer than lockWaitMs with StoreBusyError (unavailable), then recovers', async () => {
    const queue = new CommitQueue(db, { afterRollback: () => undefined, lockWaitMs: 100 });
    other.exec('BEGIN IMMEDIATE');
    try {
      await assert.rejects(
        queue.run(() => db.prepare('INSERT INTO t VALUES (9)').run()),
        (e: unknown) => e instanceof StoreBusyError && e.code === 'unavailable',
      );
    } finally {
      other.exec('ROLLBACK');
    }
    await queue.run(() => db.prepare('INSERT INTO t VALUES (10)').run());
    assert.equal(count(), 4);
  });
});
