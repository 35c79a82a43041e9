import type { DatabaseSync } from 'node:sqlite';
import { isBusy, StoreBusyError } from './busy.ts';

interface Job {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** When this job gives up waiting for another process's write lock (ms since epoch). */
  deadline: number;
}

export interface CommitQueueOptions {
  /** Called after a rollback, so in-memory heads (the receipt log's) re-read the database. */
  afterRollback: () => void;
  /** How long a job waits for a write lock held by another process before it fails (ms). */
  lockWaitMs?: number;
}

/** First and largest pause between attempts to take a write lock another process holds. */
const FIRST_RETRY_MS = 5;
const MAX_RETRY_MS = 250;

/**
 * Group commit. Work queued in the same turn of the event loop runs in one SQLite transaction,
 * each job inside its own savepoint (a failing job rolls back alone), and every caller hears back
 * only after the single COMMIT — one fsync for many concurrent calls instead of one each, with
 * the same guarantee: a receipt is durable before its result is returned.
 *
 * Jobs are synchronous and run one after another inside BEGIN IMMEDIATE, so a job that reads and
 * then writes (check a cap, then reserve) is atomic against every other job, and against other
 * processes writing the same file. When another process holds the write lock, the queue waits for
 * it with timers (the event loop keeps serving) and fails a job with `StoreBusyError` once the
 * job has waited `lockWaitMs`.
 */
export class CommitQueue {
  readonly #db: DatabaseSync;
  readonly #afterRollback: () => void;
  readonly #lockWaitMs: number;
  #jobs: Job[] = [];
  #scheduled = false;
  #retryMs = 0;

  constructor(db: DatabaseSync, options: CommitQueueOptions) {
    this.#db = db;
    this.#afterRollback = options.afterRollback;
    this.#lockWaitMs = options.lockWaitMs ?? 30_000;
  }

  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#jobs.push({
        fn,
        resolve: resolve as (v: unknown) => void,
        reject,
        deadline: Date.now() + this.#lockWaitMs,
      });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    const db = this.#db;
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      if (isBusy(error)) {
        this.#waitForLock(error);
        return;
      }
      const jobs = this.#take();
      for (const job of jobs) job.reject(error);
      return;
    }
    this.#retryMs = 0;
    const jobs = this.#take();
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
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

  #take(): Job[] {
    const jobs = this.#jobs;
    this.#jobs = [];
    this.#scheduled = false;
    return jobs;
  }

  /**
   * Another process holds the write lock: fail the jobs that waited long enough, keep the rest
   * queued (new jobs join them) and try again after a growing pause. Never a synchronous wait.
   */
  #waitForLock(error: unknown): void {
    const now = Date.now();
    const expired = this.#jobs.filter((j) => j.deadline <= now);
    this.#jobs = this.#jobs.filter((j) => j.deadline > now);
    const busy = new StoreBusyError(this.#lockWaitMs, error);
    for (const job of expired) job.reject(busy);
    if (this.#jobs.length === 0) {
      this.#scheduled = false;
      this.#retryMs = 0;
      return;
    }
    this.#retryMs = Math.min(MAX_RETRY_MS, this.#retryMs === 0 ? FIRST_RETRY_MS : this.#retryMs * 2);
    setTimeout(() => this.#flush(), this.#retryMs);
  }
}
