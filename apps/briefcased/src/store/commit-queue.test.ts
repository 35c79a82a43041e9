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

describe('CommitQueue at shutdown', () => {
  it('commits what was queued before close, refuses what comes after, and never touches the closed database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bc-cq-close-'));
    try {
      const db = openDatabase(join(dir, 'q.db'));
      db.exec('CREATE TABLE t (n INTEGER NOT NULL) STRICT');
      const queue = new CommitQueue(db, { afterRollback: () => undefined });
      const queued = queue.run(() => db.prepare('INSERT INTO t VALUES (1)').run());
      await queue.close();
      await queued;
      assert.equal(Number((db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n), 1);
      db.close();
      // A call that ends after the database closed (one aborted at shutdown) is refused; before
      // this, its job ran against the closed database and the daemon exited with an error.
      await assert.rejects(
        queue.run(() => db.prepare('INSERT INTO t VALUES (2)').run()),
        (e: unknown) => (e as { code?: string }).code === 'unavailable',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
