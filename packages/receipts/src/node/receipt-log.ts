import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { toBase64Url, type PublicJwk } from '@briefcase/crypto';
import { BriefcaseError } from '@briefcase/protocol';
import { EXPORT_FORMAT, EXPORT_VERSION, exportLines, type ExportHeader } from '../export-format.ts';
import {
  GENESIS_PREV,
  anchorMessage,
  checkpointLink,
  checkpointMessage,
  receiptId,
  recordHash,
  type Anchor,
  type Checkpoint,
  type UnsignedCheckpoint,
  type ReceiptActor,
  type ReceiptKind,
  type ReceiptRecord,
} from '../record.ts';

/** The part of a Signer the log needs: receipts are signed by the receipts-role key only. */
export interface CheckpointSigner {
  readonly keyId: string;
  readonly publicJwk: PublicJwk;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export interface ReceiptLogOptions {
  /** Sign a checkpoint after this many new records… */
  checkpointEvery?: number;
  /** …or this long after the first unsigned record, whichever comes first. */
  checkpointSeconds?: number;
  /** Keys that signed earlier checkpoints (kept after rotation so old checkpoints verify). */
  knownKeys?: { key_id: string; jwk: PublicJwk }[];
  /**
   * Called once a checkpoint is committed to the database, with the anchor signed for it (the
   * daemon keeps it outside the database). Only when set is the anchor signed. A throw is the
   * caller's to log; the checkpoint stands.
   */
  onCheckpoint?: (anchor: Anchor) => void;
}

export interface AppendedReceipt {
  id: string;
  seq: number;
  hash: string;
}

export const RECEIPTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS receipts (
  seq INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  record TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS checkpoints (
  n INTEGER PRIMARY KEY,
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  ts TEXT NOT NULL,
  key_id TEXT NOT NULL,
  prev TEXT NOT NULL,
  sig TEXT NOT NULL
) STRICT;
`;

const CHECKPOINT_COLUMNS = 'n, seq, hash, ts, key_id, prev, sig';

/** A checkpoint row as the Checkpoint it stores. */
export function checkpointFromRow(row: Record<string, unknown>): Checkpoint {
  return { v: 2, ...row } as unknown as Checkpoint;
}

/**
 * Read every checkpoint, in chain order. Old (v1, unchained) checkpoint tables are set aside as
 * `checkpoints_v1` by the log on open; the daemon's start-up check then reports the log unanchored.
 */
export function readCheckpoints(db: DatabaseSync): Checkpoint[] {
  return db
    .prepare(`SELECT ${CHECKPOINT_COLUMNS} FROM checkpoints ORDER BY n`)
    .all()
    .map((r) => checkpointFromRow(r));
}

function createSchema(db: DatabaseSync): void {
  const columns = db.prepare("SELECT name FROM pragma_table_info('checkpoints')").all() as { name: string }[];
  if (columns.length > 0 && !columns.some((c) => c.name === 'prev')) {
    db.exec('ALTER TABLE checkpoints RENAME TO checkpoints_v1');
  }
  db.exec(RECEIPTS_SCHEMA);
}

/**
 * The append-only receipt log in SQLite (WAL, synchronous=FULL, set by the database owner), so an
 * append is durable when it returns. Appends are synchronous and may join the caller's transaction;
 * call `resync()` after a rollback. Checkpoints are signed off the hot path.
 */
export class ReceiptLog {
  readonly #db: DatabaseSync;
  #signer: CheckpointSigner;
  readonly #every: number;
  readonly #seconds: number;
  #knownKeys: { key_id: string; jwk: PublicJwk }[];
  readonly #onCheckpoint: ((anchor: Anchor) => void) | undefined;
  /** The device's signed statement of its receipts keys, carried in every export's header. */
  deviceStatement: string | undefined;
  readonly #insert: StatementSync;
  readonly #insertCheckpoint: StatementSync;
  #seq = 0;
  #head = GENESIS_PREV;
  #checkpointedSeq = 0;
  /** The last checkpoint in the chain: the next one links to it. */
  #lastCheckpoint: Checkpoint | null = null;
  #timer: NodeJS.Timeout | undefined;
  /** Checkpoints are signed one after another: each must link to the one before. */
  #signing: Promise<unknown> = Promise.resolve();
  #pending = false;

  constructor(db: DatabaseSync, signer: CheckpointSigner, options: ReceiptLogOptions = {}) {
    this.#db = db;
    this.#signer = signer;
    this.#every = options.checkpointEvery ?? 100;
    this.#seconds = options.checkpointSeconds ?? 30;
    this.#knownKeys = options.knownKeys ?? [];
    this.#onCheckpoint = options.onCheckpoint;
    createSchema(db);
    this.#insert = db.prepare('INSERT INTO receipts (seq, hash, record) VALUES (?, ?, ?)');
    this.#insertCheckpoint = db.prepare(`INSERT INTO checkpoints (${CHECKPOINT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.resync();
  }

  get seq(): number {
    return this.#seq;
  }

  /** Re-read the head from the database (start-up, or after a rolled-back transaction). */
  resync(): void {
    const row = this.#db.prepare('SELECT seq, hash FROM receipts ORDER BY seq DESC LIMIT 1').get() as
      { seq: number; hash: string } | undefined;
    this.#seq = row?.seq ?? 0;
    this.#head = row?.hash ?? GENESIS_PREV;
    const cp = this.#db.prepare(`SELECT ${CHECKPOINT_COLUMNS} FROM checkpoints ORDER BY n DESC LIMIT 1`).get();
    this.#lastCheckpoint = cp ? checkpointFromRow(cp) : null;
    this.#checkpointedSeq = this.#lastCheckpoint?.seq ?? 0;
  }

  /**
   * Start a new checkpoint chain over the log as it is (the daemon's escape hatch for a log that
   * does not extend what it last signed). The old checkpoints are kept aside, not deleted, for
   * whoever investigates; the caller receipts why before signing the new chain's first link.
   */
  setAsideCheckpoints(reason: string): number {
    this.#db.exec(`CREATE TABLE IF NOT EXISTS checkpoints_set_aside (
      set_aside_at TEXT NOT NULL, reason TEXT NOT NULL,
      n INTEGER, seq INTEGER, hash TEXT, ts TEXT, key_id TEXT, prev TEXT, sig TEXT)`);
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const moved = this.#db
        .prepare(`INSERT INTO checkpoints_set_aside SELECT ?, ?, ${CHECKPOINT_COLUMNS} FROM checkpoints`)
        .run(new Date().toISOString(), reason).changes;
      this.#db.exec('DELETE FROM checkpoints');
      this.#db.exec('COMMIT');
      this.resync();
      return Number(moved);
    } catch (e) {
      this.#db.exec('ROLLBACK');
      throw e;
    }
  }

  /** The last checkpoint signed (or read at start). */
  get lastCheckpoint(): Checkpoint | null {
    return this.#lastCheckpoint;
  }

  append(kind: ReceiptKind, actor: ReceiptActor, body: Record<string, unknown>): AppendedReceipt {
    const record: ReceiptRecord = {
      v: 1,
      seq: this.#seq + 1,
      ts: new Date().toISOString(),
      prev: this.#head,
      kind,
      actor,
      body,
    };
    const hash = recordHash(record);
    try {
      this.#insert.run(record.seq, hash, JSON.stringify(record));
    } catch (e) {
      throw new BriefcaseError('unavailable', 'the receipt log is unavailable', (e as Error).message);
    }
    this.#seq = record.seq;
    this.#head = hash;
    this.#scheduleCheckpoint();
    return { id: receiptId(record.seq, hash), seq: record.seq, hash };
  }

  /**
   * Sign a checkpoint over the current head now (shutdown, export, tests). Null when the head is
   * already signed, unless `force`: an export signs the head at its own time even then, so that a
   * verifier knows the head when it was exported.
   */
  checkpoint(options: { force?: boolean } = {}): Promise<Checkpoint | null> {
    const run = this.#signing.then(() => this.#signHead(options.force ?? false));
    this.#signing = run.catch(() => undefined);
    return run;
  }

  async #signHead(force: boolean): Promise<Checkpoint | null> {
    if (this.#seq === 0 || (this.#seq === this.#checkpointedSeq && !force)) return null;
    const last = this.#lastCheckpoint;
    const cp: UnsignedCheckpoint = {
      v: 2,
      n: (last?.n ?? 0) + 1,
      seq: this.#seq,
      hash: this.#head,
      ts: new Date().toISOString(),
      key_id: this.#signer.keyId,
      prev: last ? checkpointLink(last) : GENESIS_PREV,
    };
    const signed: Checkpoint = { ...cp, sig: toBase64Url(await this.#signer.sign(checkpointMessage(cp))) };
    this.#insertCheckpoint.run(cp.n, cp.seq, cp.hash, cp.ts, cp.key_id, cp.prev, signed.sig);
    this.#lastCheckpoint = signed;
    this.#checkpointedSeq = Math.max(this.#checkpointedSeq, cp.seq);
    if (this.#onCheckpoint) {
      const sig = toBase64Url(await this.#signer.sign(anchorMessage(signed)));
      this.#onCheckpoint({ checkpoint: signed, key_id: this.#signer.keyId, sig });
    }
    return signed;
  }

  /**
   * Switch to a new checkpoint key (rotation): everything so far is checkpointed with the old key
   * first, and the old public key stays in the export header.
   */
  async rotateSigner(next: CheckpointSigner): Promise<void> {
    await this.checkpoint();
    this.#knownKeys = [{ key_id: this.#signer.keyId, jwk: this.#signer.publicJwk }, ...this.#knownKeys];
    this.#signer = next;
  }

  /** Undo a `rotateSigner` whose new key could not be saved (nothing was signed with it). */
  revertSigner(previous: CheckpointSigner): void {
    this.#knownKeys = this.#knownKeys.filter((k) => k.key_id !== previous.keyId);
    this.#signer = previous;
  }

  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.checkpoint();
  }

  readCheckpoints(): Checkpoint[] {
    return readCheckpoints(this.#db);
  }

  *readRecords(fromSeq = 1, toSeq = Number.MAX_SAFE_INTEGER): Generator<{ hash: string; json: string }> {
    const stmt = this.#db.prepare('SELECT hash, record AS json FROM receipts WHERE seq >= ? AND seq <= ? ORDER BY seq');
    yield* stmt.iterate(fromSeq, toSeq) as Iterable<{ hash: string; json: string }>;
  }

  /** One record, parsed (tests, and the CLI's `receipts show`). */
  get(seq: number): ReceiptRecord | undefined {
    const row = this.#db.prepare('SELECT record FROM receipts WHERE seq = ?').get(seq) as
      { record: string } | undefined;
    return row ? (JSON.parse(row.record) as ReceiptRecord) : undefined;
  }

  exportHeader(exportedAt?: string): ExportHeader {
    const keys = new Map(this.#knownKeys.map((k) => [k.key_id, k]));
    keys.set(this.#signer.keyId, { key_id: this.#signer.keyId, jwk: this.#signer.publicJwk });
    return {
      type: 'header',
      format: EXPORT_FORMAT,
      v: EXPORT_VERSION,
      exported_at: exportedAt ?? new Date().toISOString(),
      public_keys: [...keys.values()],
      ...(this.deviceStatement ? { device_statement: this.deviceStatement } : {}),
    };
  }

  /**
   * The whole log as export lines (see export-format.ts). With `head` (the checkpoint an export
   * has just signed), exactly the log up to it, exported at its time: records appended while the
   * export streams are left for the next one, so the export ends on its signed head.
   */
  exportLines(head?: Checkpoint | null): Generator<string> {
    if (!head) return exportLines(this.exportHeader(), this.readRecords(), this.readCheckpoints());
    return exportLines(
      this.exportHeader(head.ts),
      this.readRecords(1, head.seq),
      this.readCheckpoints().filter((cp) => cp.n <= head.n),
    );
  }

  #scheduleCheckpoint(): void {
    const unsigned = this.#seq - this.#checkpointedSeq;
    if (unsigned >= this.#every) {
      if (!this.#pending) {
        this.#pending = true;
        // One scheduled checkpoint at a time: a slow signer (a TPM) must not queue one per append.
        setImmediate(() => {
          void this.checkpoint()
            .catch(() => undefined)
            .finally(() => (this.#pending = false));
        });
      }
      return;
    }
    if (!this.#timer && this.#seconds > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.checkpoint().catch(() => undefined);
      }, this.#seconds * 1000);
      this.#timer.unref();
    }
  }
}
