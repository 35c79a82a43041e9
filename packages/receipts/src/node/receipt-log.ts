import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { toBase64Url, type PublicJwk } from '@briefcase/crypto';
import { BriefcaseError } from '@briefcase/protocol';
import { EXPORT_FORMAT, exportLines, type ExportHeader } from '../export-format.ts';
import {
  GENESIS_PREV,
  checkpointMessage,
  receiptId,
  recordHash,
  type Checkpoint,
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
  seq INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  ts TEXT NOT NULL,
  key_id TEXT NOT NULL,
  sig TEXT NOT NULL
) STRICT;
`;

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
  /** The device's signed statement of its receipts keys, carried in every export's header. */
  deviceStatement: string | undefined;
  readonly #insert: StatementSync;
  readonly #insertCheckpoint: StatementSync;
  #seq = 0;
  #head = GENESIS_PREV;
  #checkpointedSeq = 0;
  #timer: NodeJS.Timeout | undefined;
  #signing: Promise<void> | undefined;

  constructor(db: DatabaseSync, signer: CheckpointSigner, options: ReceiptLogOptions = {}) {
    this.#db = db;
    this.#signer = signer;
    this.#every = options.checkpointEvery ?? 100;
    this.#seconds = options.checkpointSeconds ?? 30;
    this.#knownKeys = options.knownKeys ?? [];
    db.exec(RECEIPTS_SCHEMA);
    this.#insert = db.prepare('INSERT INTO receipts (seq, hash, record) VALUES (?, ?, ?)');
    this.#insertCheckpoint = db.prepare(
      'INSERT OR IGNORE INTO checkpoints (seq, hash, ts, key_id, sig) VALUES (?, ?, ?, ?, ?)',
    );
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
    const cp = this.#db.prepare('SELECT MAX(seq) AS seq FROM checkpoints').get() as { seq: number | null };
    this.#checkpointedSeq = cp.seq ?? 0;
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

  /** Sign a checkpoint over the current head now (shutdown, export, tests). */
  async checkpoint(): Promise<Checkpoint | null> {
    if (this.#signing) await this.#signing;
    if (this.#seq === 0 || this.#seq === this.#checkpointedSeq) return null;
    const cp: Omit<Checkpoint, 'sig'> = {
      seq: this.#seq,
      hash: this.#head,
      ts: new Date().toISOString(),
      key_id: this.#signer.keyId,
    };
    let signed: Checkpoint | null = null;
    const sign = this.#signer.sign(checkpointMessage(cp)).then((sig) => {
      signed = { ...cp, sig: toBase64Url(sig) };
      this.#insertCheckpoint.run(cp.seq, cp.hash, cp.ts, cp.key_id, signed.sig);
      this.#checkpointedSeq = Math.max(this.#checkpointedSeq, cp.seq);
    });
    this.#signing = sign.finally(() => {
      this.#signing = undefined;
    });
    await this.#signing;
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
    return this.#db
      .prepare('SELECT seq, hash, ts, key_id, sig FROM checkpoints ORDER BY seq')
      .all() as unknown as Checkpoint[];
  }

  *readRecords(fromSeq = 1): Generator<{ hash: string; json: string }> {
    const stmt = this.#db.prepare('SELECT hash, record AS json FROM receipts WHERE seq >= ? ORDER BY seq');
    yield* stmt.iterate(fromSeq) as Iterable<{ hash: string; json: string }>;
  }

  /** One record, parsed (tests, and the CLI's `receipts show`). */
  get(seq: number): ReceiptRecord | undefined {
    const row = this.#db.prepare('SELECT record FROM receipts WHERE seq = ?').get(seq) as
      { record: string } | undefined;
    return row ? (JSON.parse(row.record) as ReceiptRecord) : undefined;
  }

  exportHeader(): ExportHeader {
    const keys = new Map(this.#knownKeys.map((k) => [k.key_id, k]));
    keys.set(this.#signer.keyId, { key_id: this.#signer.keyId, jwk: this.#signer.publicJwk });
    return {
      type: 'header',
      format: EXPORT_FORMAT,
      v: 1,
      exported_at: new Date().toISOString(),
      public_keys: [...keys.values()],
      ...(this.deviceStatement ? { device_statement: this.deviceStatement } : {}),
    };
  }

  /** The whole log as export lines (see export-format.ts). */
  exportLines(): Generator<string> {
    return exportLines(this.exportHeader(), this.readRecords(), this.readCheckpoints());
  }

  #scheduleCheckpoint(): void {
    const unsigned = this.#seq - this.#checkpointedSeq;
    if (unsigned >= this.#every) {
      if (!this.#signing) setImmediate(() => void this.checkpoint().catch(() => undefined));
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
