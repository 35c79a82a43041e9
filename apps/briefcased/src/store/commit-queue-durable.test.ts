// Issue 13, AC 4: the fsync left SQLite's COMMIT for a thread-pool thread; a job's promise (and
// so the answer to a call) still settles only after the WAL holding its commit is fsync'd.
import assert from 'node:assert/strict';
import { fstatSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CommitQueue } from './commit-queue.ts';
import { openDatabase } from './db.ts';

/** A sync the test releases by hand; records the files it was asked to make durable. */
function heldSync() {
  const pending: { fd: number; release: (error?: Error) => void }[] = [];
  const fn = (fd: number) =>
    new Promise<void>((resolve, reject) => pending.push({ fd, release: (e) => (e ? reject(e) : resolve()) }));
  return { fn, pending };
}

const until = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), `timed out waiting for: ${what}`);
};

describe('CommitQueue: durable before the answer, fsync off the event loop', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bc-cqd-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function setup(name: string, sync: (fd: number) => Promise<void>) {
    const path = join(dir, name);
    const db = openDatabase(path);
    db.exec('CREATE TABLE t (n INTEGER NOT NULL) STRICT');
    const queue = new CommitQueue(db, { afterRollback: () => undefined, syncFile: sync });
    const reader = new DatabaseSync(path);
    const count = () => Number((reader.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n);
    const insert = (n: number) => queue.run(() => db.prepare('INSERT INTO t VALUES (?)').run(n));
    const close = async () => {
      await queue.close();
      reader.close();
      db.close();
    };
    return { path, db, queue, count, insert, close };
  }

  it('does not settle a committed job until the fsync of the WAL file completes', async () => {
    const sync = heldSync();
    const q = setup('a.db', sync.fn);
    let settled = false;
    const job = q.insert(1).then(() => (settled = true));
    await until(() => sync.pending.length === 1, 'the fsync to be requested');
    // Committed (another connection sees the row) but not durable: the caller has not heard back.
    assert.equal(q.count(), 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(settled, false, 'the job settled before its commit was fsync’d');
    // The file being fsync'd is the database's write-ahead log, where SQLite put the commit.
    assert.equal(fstatSync(sync.pending[0]!.fd).ino, statSync(`${q.path}-wal`).ino);
    sync.pending[0]!.release();
    await job;
    assert.equal(settled, true);
    assert.equal((q.db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous, 2, 'FULL again');
    await q.close();
  });

  it('keeps group commit: jobs committed during an fsync wait for the next one, together', async () => {
    const sync = heldSync();
    const q = setup('b.db', sync.fn);
    const settled: number[] = [];
    const first = q.insert(1).then(() => settled.push(1));
    await until(() => sync.pending.length === 1, 'the first fsync');
    const rest = [2, 3, 4, 5].map((n) => q.insert(n).then(() => settled.push(n)));
    await until(() => q.count() === 5, 'the next batch to commit while the first fsync is in flight');
    assert.equal(sync.pending.length, 1, 'one fsync at a time');
    sync.pending[0]!.release();
    await first;
    await until(() => sync.pending.length === 2, 'the second fsync, for the jobs that committed meanwhile');
    assert.deepEqual(settled, [1], 'jobs 2–5 waited for their own fsync');
    sync.pending[1]!.release();
    await Promise.all(rest);
    assert.deepEqual(settled, [1, 2, 3, 4, 5]);
    assert.equal(sync.pending.length, 2, 'five jobs, two fsyncs');
    await q.close();
  });

  it('fails closed when an fsync fails: the job and every later one are rejected as unavailable', async () => {
    const sync = heldSync();
    const q = setup('c.db', sync.fn);
    const job = q.insert(1);
    await until(() => sync.pending.length === 1, 'the fsync');
    sync.pending[0]!.release(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    const isUnavailable = (e: unknown) => (e as { code?: string }).code === 'unavailable';
    await assert.rejects(job, isUnavailable);
    await assert.rejects(q.insert(2), isUnavailable);
    assert.equal(q.count(), 1, 'nothing written after the failed fsync');
    await q.close();
  });

  it('fsyncs for real by default (the WAL file, on the thread pool)', async () => {
    const path = join(dir, 'd.db');
    const db = openDatabase(path);
    db.exec('CREATE TABLE t (n INTEGER NOT NULL) STRICT');
    const queue = new CommitQueue(db, { afterRollback: () => undefined });
    await Promise.all([1, 2, 3].map((n) => queue.run(() => db.prepare('INSERT INTO t VALUES (?)').run(n))));
    await queue.close();
    db.close();
    const again = new DatabaseSync(path);
    assert.equal(Number((again.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n), 3);
    again.close();
  });
});
