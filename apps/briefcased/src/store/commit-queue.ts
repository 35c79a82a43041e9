import type { DatabaseSync } from 'node:sqlite';
import { BriefcaseError } from '@briefcase/protocol';
import { isBusy, StoreBusyError } from './busy.ts';
import { fsyncOffThread, WalFile, type SyncFile } from './wal-sync.ts';

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
  /** How the WAL is made durable after a COMMIT (default: fsync off the event loop). */
  syncFile?: SyncFile;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

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
 *
 * Durable before the answer, without fsync on the event loop: on a file database in WAL mode the
 * queue commits with `synchronous=NORMAL` (SQLite writes the frames, no fsync) and then fsyncs the
 * WAL on a thread-pool thread (`wal-sync.ts`); callers hear back only after that fsync. Batches
 * that commit while an fsync is in flight wait for the next one (still one fsync per batch or
 * fewer). Between its COMMIT and the fsync, a batch's rows are visible to readers of this
 * database (the next batch's budget check counts a reservation not yet durable, which only
 * errs on the safe side); no caller acts on them before the fsync. If an fsync fails, the queue
 * fails closed: every pending and later job is rejected as `unavailable` until the daemon
 * restarts (after a failed fsync the kernel may have dropped the dirty pages: a later fsync
 * succeeding would prove nothing).
 */
export class CommitQueue {
  readonly #db: DatabaseSync;
  readonly #afterRollback: () => void;
  readonly #lockWaitMs: number;
  #jobs: Job[] = [];
  #scheduled = false;
  #retryMs = 0;
  /** Set on a file database in WAL mode: the queue fsyncs the WAL itself, off the event loop. */
  readonly #wal: WalFile | undefined;
  readonly #syncFile: SyncFile;
  /** Committed, not yet durable: settled after the next fsync. */
  #committed: { job: Job; outcome: Outcome }[] = [];
  #syncing: Promise<void> | undefined;
  #failed: BriefcaseError | undefined;
  /** Set by `close`: the database is about to close, nothing more is written. */
  #closed: BriefcaseError | undefined;

  constructor(db: DatabaseSync, options: CommitQueueOptions) {
    this.#db = db;
    this.#afterRollback = options.afterRollback;
    this.#lockWaitMs = options.lockWaitMs ?? 30_000;
    this.#syncFile = options.syncFile ?? fsyncOffThread;
    const location = db.location();
    const mode = (db.prepare('PRAGMA journal_mode').get() as { journal_mode?: string } | undefined)?.journal_mode;
    this.#wal = location && mode === 'wal' ? new WalFile(location) : undefined;
  }

  /**
   * Commits what is queued (waiting up to `maxMs` for it), waits for the fsync in flight, then
   * closes the WAL handle; later jobs are refused as `unavailable`. Call before closing the
   * database: a job that reached a closed database would throw outside any caller.
   */
  async close(maxMs = 5_000): Promise<void> {
    const deadline = Date.now() + maxMs;
    while ((this.#jobs.length > 0 || this.#syncing) && Date.now() < deadline) {
      if (this.#syncing) await this.#syncing;
      else await new Promise((r) => setTimeout(r, 1));
    }
    this.#closed = new BriefcaseError('unavailable', 'the Briefcase daemon is stopping: the call was not recorded');
    for (const job of this.#take()) job.reject(this.#closed);
    this.#wal?.close();
  }

  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#closed) return reject(this.#closed);
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
    if (this.#failed ?? this.#closed) {
      for (const job of this.#take()) job.reject(this.#failed ?? this.#closed);
      return;
    }
    if (!this.#wal) return this.#transaction();
    this.#db.exec('PRAGMA synchronous = NORMAL');
    try {
      this.#transaction();
    } finally {
      // Every other write on this connection (admin transactions, autocommit) keeps fsync at COMMIT.
      this.#db.exec('PRAGMA synchronous = FULL');
    }
  }

  #transaction(): void {
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
    const outcomes: Outcome[] = [];
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
    const done = jobs.map((job, i) => ({ job, outcome: outcomes[i]! }));
    if (!this.#wal) return settle(done);
    this.#committed.push(...done);
    this.#sync();
  }

  /** One fsync at a time; what committed meanwhile waits for the next one. */
  #sync(): void {
    if (this.#syncing || this.#committed.length === 0) return;
    const batch = this.#committed;
    this.#committed = [];
    const wal = this.#wal!;
    this.#syncing = Promise.resolve()
      .then(() => this.#syncFile(wal.fd()))
      .then(
        () => settle(batch),
        (error: unknown) => {
          this.#failed = new BriefcaseError(
            'unavailable',
            'the Briefcase could not make its database durable (fsync of the write-ahead log failed); tool calls fail until briefcased restarts: check the disk, then restart it',
            error instanceof Error ? error.message : String(error),
          );
          for (const { job } of [...batch, ...this.#committed]) job.reject(this.#failed);
          this.#committed = [];
        },
      )
      .finally(() => {
        this.#syncing = undefined;
        this.#sync();
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

function settle(done: { job: Job; outcome: Outcome }[]): void {
  for (const { job, outcome } of done) {
    if (outcome.ok) job.resolve(outcome.value);
    else job.reject(outcome.error);
  }
}
