import type { DatabaseSync } from 'node:sqlite';
import { fromBase64Url, verifySignature, type PublicJwk } from '@briefcase/crypto';
import { checkpointProblem, isCheckpointShape, nameCheckpoint, recordRange } from '../checkpoint-chain.ts';
import {
  anchorMessage,
  checkpointLink,
  checkpointMessage,
  recordHash,
  type Checkpoint,
  type ReceiptRecord,
} from '../record.ts';
import type { AnchorRead } from './anchor.ts';
import { checkpointFromRow } from './receipt-log.ts';

export interface LogCheck {
  /** Everything that differs from what the daemon last signed; empty when the log is as it left it. */
  problems: string[];
  /** The last record. */
  head: { seq: number; hash: string } | null;
  /** The last checkpoint of a valid chain (where a new one links). */
  lastCheckpoint: Checkpoint | null;
  /** Records after the last checkpoint: a run that stopped before signing them (a crash). */
  unsignedTail: { from: number; to: number } | null;
}

/**
 * Does the log in `db` extend what the daemon last signed (`anchor`)? Checked at start-up, so it
 * avoids rehashing the whole log: the anchor's two signatures, the checkpoint chain's links from
 * the first (signatures only after the anchor), each checkpointed record rehashed from its stored
 * text, and every record from the anchor to the head rehashed and chained. What it does not
 * rehash — records between two old checkpoints — cannot be rewritten consistently without
 * changing the next checkpointed record; a careless edit there (a broken link) is left to
 * `briefcase receipts verify`.
 */
export function checkLog(
  db: DatabaseSync,
  anchorRead: AnchorRead,
  keyFor: (keyId: string) => PublicJwk | undefined,
): LogCheck {
  const problems: string[] = [];
  const stats = db.prepare('SELECT COUNT(*) AS count, MIN(seq) AS min, MAX(seq) AS max FROM receipts').get() as {
    count: number;
    min: number | null;
    max: number | null;
  };
  const headRow = db.prepare('SELECT seq, hash FROM receipts ORDER BY seq DESC LIMIT 1').get() as
    { seq: number; hash: string } | undefined;
  const head = headRow ? { seq: headRow.seq, hash: headRow.hash } : null;
  if (stats.count > 0 && (stats.min !== 1 || stats.max !== stats.count)) {
    problems.push(`the log has ${stats.count} records numbered ${stats.min}–${stats.max}: records were deleted`);
  }

  const recordAt = db.prepare('SELECT hash, record FROM receipts WHERE seq = ?');
  const rehash = (seq: number): { stored: string; actual: string | null } | null => {
    const row = recordAt.get(seq) as { hash: string; record: string } | undefined;
    if (!row) return null;
    try {
      return { stored: row.hash, actual: recordHash(JSON.parse(row.record) as ReceiptRecord) };
    } catch {
      return { stored: row.hash, actual: null };
    }
  };

  // The anchor: the database must still hold the checkpoint the daemon last signed.
  let from: { seq: number; hash: string } | null = null;
  let anchorN: number | null = null;
  const countCheckpoints = (db.prepare('SELECT COUNT(*) AS c FROM checkpoints').get() as { c: number }).c;
  if (!anchorRead.ok) problems.push(anchorRead.reason);
  else if (anchorRead.anchor) {
    const anchor = anchorRead.anchor.checkpoint;
    const signedBy = (keyId: string, message: Uint8Array, sig: string): boolean => {
      const key = keyFor(keyId);
      try {
        return !!key && verifySignature(key, message, fromBase64Url(sig));
      } catch {
        return false;
      }
    };
    const sigOk =
      signedBy(anchor.key_id, checkpointMessage(anchor), anchor.sig) &&
      signedBy(anchorRead.anchor.key_id, anchorMessage(anchor), anchorRead.anchor.sig);
    const stored = db.prepare('SELECT * FROM checkpoints WHERE n = ?').get(anchor.n);
    if (sigOk) anchorN = anchor.n;
    if (!sigOk) {
      problems.push(
        `receipts.anchor (${nameCheckpoint(anchor)}) is not an anchor signed by a receipts key of this Briefcase: it was forged, perhaps from a checkpoint in the database`,
      );
    } else if (!stored) {
      problems.push(
        `the database lacks ${nameCheckpoint(anchor)}, the last the daemon signed (receipts.anchor): the log was truncated, emptied or its checkpoints deleted (it holds ${stats.count} records and ${countCheckpoints} checkpoints)`,
      );
    } else if (checkpointLink(checkpointFromRow(stored)) !== checkpointLink(anchor)) {
      problems.push(`the database's ${nameCheckpoint(anchor)} differs from the one the daemon signed: it was replaced`);
    } else from = { seq: anchor.seq, hash: anchor.hash };
  } else if (stats.count > 0 || countCheckpoints > 0) {
    problems.push(
      `receipts.anchor is missing, but the log holds ${stats.count} records and ${countCheckpoints} checkpoints: the anchor was deleted, or the log predates chained checkpoints`,
    );
  }

  // The checkpoint chain, from the first: none deleted, reordered or replaced. Signatures are
  // checked after the anchor only: up to it, each link hashes the one before, so the anchor's own
  // signature vouches for them all (a thousand signature checks cost seconds on a slow machine).
  let last: Checkpoint | null = null;
  let count = 0;
  const checked = new Map<number, string>();
  for (const row of db.prepare('SELECT * FROM checkpoints ORDER BY n').iterate()) {
    const cp = checkpointFromRow(row);
    const problem = isCheckpointShape(cp)
      ? checkpointProblem(cp, last, anchorN !== null && cp.n <= anchorN ? null : keyFor)
      : `checkpoint row ${count + 1} is malformed`;
    if (problem) {
      problems.push(problem);
      break;
    }
    if (!checked.has(cp.seq)) {
      const r = rehash(cp.seq);
      if (!r) {
        problems.push(`${nameCheckpoint(cp)} covers record ${cp.seq}, which is not in the log: the log was truncated`);
        break;
      }
      checked.set(cp.seq, r.actual ?? '');
    }
    if (checked.get(cp.seq) !== cp.hash) {
      problems.push(`record ${cp.seq} differs from ${nameCheckpoint(cp)}: the log was rewritten`);
      break;
    }
    last = cp;
    count++;
  }

  // Every record from the anchor to the head: rehashed and chained.
  if (from && head) {
    let expected = from.seq;
    let prev: string | null = null;
    const rows = db.prepare('SELECT seq, hash, record FROM receipts WHERE seq >= ? ORDER BY seq').iterate(from.seq);
    for (const row of rows as Iterable<{ seq: number; hash: string; record: string }>) {
      let record: ReceiptRecord;
      let actual: string;
      try {
        record = JSON.parse(row.record) as ReceiptRecord;
        actual = recordHash(record);
      } catch {
        problems.push(`record ${row.seq} is not a valid record: it was altered`);
        break;
      }
      if (row.seq !== expected || actual !== row.hash || (prev !== null && record.prev !== prev)) {
        problems.push(`record ${row.seq} does not chain from the anchor at seq ${from.seq}: the log was rewritten`);
        break;
      }
      if (row.seq === from.seq && actual !== from.hash) {
        problems.push(`record ${from.seq} differs from the anchor: the log was rewritten`);
        break;
      }
      prev = actual;
      expected++;
    }
  }

  // Records after the last checkpoint: a crash's unsigned tail, unless the run had stopped cleanly.
  let unsignedTail: LogCheck['unsignedTail'] = null;
  if (head && (last?.seq ?? 0) < head.seq) {
    unsignedTail = { from: (last?.seq ?? 0) + 1, to: head.seq };
    if (last && isCleanStop(recordAt.get(last.seq) as { record: string } | undefined)) {
      problems.push(
        `${recordRange(unsignedTail.from, unsignedTail.to)} added after the daemon stopped cleanly at seq ${last.seq}: no run of the daemon wrote them (unless a start failed before it could sign its first checkpoint)`,
      );
    }
  }
  return { problems, head, lastCheckpoint: last, unsignedTail };
}

/** A run that stopped cleanly signed its `stopped` record last; a crashed run never wrote one. */
function isCleanStop(row: { record: string } | undefined): boolean {
  try {
    const record = JSON.parse(row?.record ?? 'null') as ReceiptRecord | null;
    return record?.kind === 'daemon' && record.body.event === 'stopped';
  } catch {
    return false;
  }
}
