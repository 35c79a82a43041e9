import type { DatabaseSync } from 'node:sqlite';

interface Job {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit. Work queued in the same turn of the event loop runs in one SQLite transaction,
 * each job inside its own savepoint (a failing job rolls back alone), and every caller hears back
 * only after the single COMMIT — one fsync for many concurrent calls instead of one each, with
 * the same guarantee: a receipt is durable before its result is returned.
 */
export class CommitQueue {
  readonly #db: DatabaseSync;
  readonly #afterRollback: () => void;
  #jobs: Job[] = [];
  #scheduled = false;

  constructor(db: DatabaseSync, afterRollback: () => void) {
    this.#db = db;
    this.#afterRollback = afterRollback;
  }

  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#jobs.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    const jobs = this.#jobs;
    this.#jobs = [];
    this.#scheduled = false;
    const db = this.#db;
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      for (const job of jobs) job.reject(error);
      return;
    }
    for (const job of jobs) {
      db.exec('SAVEPOINT job');
      try {
        outcomes.push({ ok: true, value: job.fn() });
        db.exec('RELEASE job');
      } catch (error) {
        db.exec('ROLLBACK TO job');
        db.exec('RELEASE job');
        this.#afterRollback();
        outcomes.push({ ok: false, error });
      }
    }
    try {
      db.exec('COMMIT');
    } catch (error) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // Already rolled back by SQLite.
      }
      this.#afterRollback();
      for (const job of jobs) job.reject(error);
      return;
    }
    jobs.forEach((job, i) => {
      const o = outcomes[i]!;
      if (o.ok) job.resolve(o.value);
      else job.reject(o.error);
    });
  }
}
