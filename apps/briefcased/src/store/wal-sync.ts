import { closeSync, fsync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/** Makes the bytes written to a file so far durable; resolves once the OS says they are on disk. */
export type SyncFile = (fd: number) => Promise<void>;

/**
 * fsync(2) on one of libuv's thread-pool threads: the event loop keeps serving while the disk
 * flushes. The bench's profile had the synchronous fsync inside SQLite's COMMIT at 33% of the
 * daemon's main thread (see docs/benchmarks.md § Profiling).
 */
export const fsyncOffThread: SyncFile = (fd) =>
  new Promise((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));

/**
 * The write-ahead log of one SQLite database in WAL mode, opened for fsync. SQLite writes a
 * transaction's frames to `<db>-wal` at COMMIT; with `synchronous=NORMAL` it does not fsync them,
 * and this handle does it instead, off the event loop. Durability equals `synchronous=FULL`'s: an
 * fsync of the same file after the same COMMIT. A crash before the fsync may lose the
 * transaction, and with it every later one (SQLite's WAL frames carry a cumulative checksum, so
 * recovery stops at the first frame that did not reach the disk): what was lost was never
 * acknowledged. The file keeps its inode while the daemon's connection is open (SQLite deletes
 * it only when the last connection closes, after a full checkpoint).
 */
export class WalFile {
  readonly #path: string;
  #fd: number | undefined;

  constructor(databasePath: string) {
    this.#path = `${databasePath}-wal`;
  }

  /** The file descriptor, opened on first use (the WAL exists once a transaction committed). */
  fd(): number {
    if (this.#fd === undefined) {
      this.#fd = openSync(this.#path, 'r+');
      // The WAL's directory entry must be durable too: SQLite syncs the directory on the first
      // sync of a WAL it created; with synchronous=NORMAL that is left to us. Once per process.
      const dir = openSync(dirname(this.#path), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    }
    return this.#fd;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
