import { fromBase64Url, isPublicJwk, verifySignature, type PublicJwk } from '@briefcase/crypto';
import { checkpointProblem, isCheckpointShape, nameCheckpoint, recordRange } from './checkpoint-chain.ts';
import { readDeviceStatement, withinInterval, type EndorsedKey } from './device-statement.ts';
import { EXPORT_FORMAT, EXPORT_VERSION, headerHash, type ExportHeader } from './export-format.ts';
import {
  GENESIS_PREV,
  anchorMessage,
  checkpointLink,
  recordHash,
  type Anchor,
  type Checkpoint,
  type ReceiptRecord,
} from './record.ts';

export interface VerifyResult {
  ok: boolean;
  /** Records read and found good before the first problem (all of them when ok). */
  count: number;
  /** The first sequence number at fault; 0 means the export's header section (header, checkpoints). */
  first_bad_seq: number | null;
  reason: string | null;
  checkpoints: number;
  last_checkpoint_seq: number | null;
  key_source: 'trusted' | 'embedded' | 'device';
  /** The last checkpoint read: when ok, the signed head of the log. Keep it to check a later export. */
  head: Checkpoint | null;
  /** What recovery receipts in the log say a reader should know (a crash's tail, an accepted alteration). */
  notices: string[];
}

export interface VerifyOptions {
  /** Keys the verifier trusts, by key id. Without them, the export's embedded keys are used. */
  trustedKeys?: Map<string, PublicJwk>;
  /**
   * Trust the device with this ID (its identity key's thumbprint) instead: the keys are those its
   * signed device statement in the export header vouches for, each only within its interval.
   */
  trustedDevice?: string;
  /**
   * The head checkpoint of an earlier export of the same log: this export must contain it
   * unchanged, or the log was rolled back, truncated or rewritten since.
   */
  extends?: Checkpoint;
  /**
   * The daemon's anchor (receipts.anchor): it must carry an anchor signature by a trusted key, and
   * the log must contain its checkpoint unchanged, or the log was cut back or rewritten below it.
   */
  anchor?: Anchor;
}

/** Recovery events a verifier reports: the log vouches for them, but a reader should know. */
const NOTICE_EVENTS = new Set(['unsigned_tail', 'altered_accepted']);

/**
 * Offline verification of an exported log (DESIGN.md §3): the checkpoints form one signed chain
 * (none deleted, reordered or replaced), each record matches its own hash and chains to the one
 * before it from genesis, each checkpointed record matches its checkpoints, and the last record is
 * exactly the last checkpoint's head — so every record is covered by a signature, and neither a
 * truncated tail nor an added or rewritten one goes unnoticed. Runtime-neutral: no Node APIs.
 */
export function verifyExport(lines: Iterable<string>, options: VerifyOptions = {}): VerifyResult {
  let keys = options.trustedKeys;
  let endorsed: Map<string, EndorsedKey> | undefined;
  let statementIat = '';
  const keySource: VerifyResult['key_source'] = options.trustedDevice ? 'device' : keys ? 'trusted' : 'embedded';
  /** Head hash each checkpointed seq must have. */
  const signedHash = new Map<number, string>();
  let last: Checkpoint | null = null;
  let checkpoints = 0;
  const notices: string[] = [];
  /** Checkpoints this log must contain unchanged (an earlier export's head, the anchor). */
  const required = [
    ...(options.extends ? [{ cp: options.extends, what: "the earlier export's head", seen: false }] : []),
    ...(options.anchor ? [{ cp: options.anchor.checkpoint, what: 'the anchor (receipts.anchor)', seen: false }] : []),
  ];
  let expectedSeq = 1;
  let prevHash = GENESIS_PREV;
  let count = 0;
  let lineNo = 0;
  let inRecords = false;

  const result = (ok: boolean, seq: number | null, reason: string | null): VerifyResult => ({
    ok,
    count,
    first_bad_seq: seq,
    reason,
    checkpoints,
    last_checkpoint_seq: last?.seq ?? null,
    key_source: keySource,
    head: last,
    notices,
  });
  const fail = (seq: number, reason: string) => result(false, seq, reason);

  for (const raw of lines) {
    lineNo++;
    if (raw.trim() === '') continue;
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      // Damage in the first record line still names that record, not the header.
      if (!inRecords && !raw.includes('"record"')) return fail(0, `line ${lineNo} (header section) is not valid JSON`);
      return fail(expectedSeq, `line ${lineNo} is not valid JSON`);
    }
    if (lineNo === 1) {
      if (line.type !== 'header' || line.format !== EXPORT_FORMAT || line.v !== EXPORT_VERSION) {
        return fail(
          0,
          `line 1 is not a ${EXPORT_FORMAT} v${EXPORT_VERSION} header${line.v === 1 ? ' (a v1 export: its checkpoints are not chained, and this verifier does not read it)' : ''}`,
        );
      }
      let hashOk: boolean;
      try {
        hashOk = headerHash(line as unknown as ExportHeader) === line.header_sha256;
      } catch {
        hashOk = false;
      }
      if (!hashOk) return fail(0, 'the export header was altered (header_sha256 does not match)');
      if (options.trustedDevice) {
        const device = readDeviceStatement(line.device_statement, options.trustedDevice);
        if (!device.ok) return fail(0, device.reason);
        endorsed = new Map(device.statement.receipts_keys.map((k) => [k.key_id, k]));
        statementIat = String(device.statement.iat);
        keys = new Map([...endorsed.values()].map((k) => [k.key_id, k.jwk]));
      }
      keys ??= embeddedKeys(line.public_keys);
      continue;
    }
    if (line.type === 'checkpoint') {
      if (inRecords) return fail(0, `line ${lineNo}: checkpoint after the first record`);
      const cp = line.checkpoint;
      if (!isCheckpointShape(cp)) return fail(0, `line ${lineNo}: malformed checkpoint`);
      const problem = checkpointProblem(cp, last, (id) => keys?.get(id));
      if (problem) return fail(cp.seq, problem);
      const interval = endorsed?.get(cp.key_id);
      if (interval && !withinInterval(interval, cp.ts, statementIat)) {
        return fail(
          cp.seq,
          `${nameCheckpoint(cp)} (${cp.ts}) is signed by key ${cp.key_id} outside the interval the device vouched for (${interval.not_before} to ${interval.not_after ?? `the statement's time, ${statementIat}`})`,
        );
      }
      const already = signedHash.get(cp.seq);
      if (already !== undefined && already !== cp.hash) {
        return fail(
          cp.seq,
          `${nameCheckpoint(cp)} signs a different head for seq ${cp.seq} than an earlier checkpoint`,
        );
      }
      for (const r of required.filter((r) => r.cp.n === cp.n)) {
        if (checkpointLink(cp) !== checkpointLink(r.cp)) {
          return fail(cp.seq, `${nameCheckpoint(cp)} differs from ${r.what}: the log was rewritten since`);
        }
        r.seen = true;
      }
      signedHash.set(cp.seq, cp.hash);
      last = cp;
      checkpoints++;
      continue;
    }
    if (line.type === 'record') {
      inRecords = true;
      const record = line.record as ReceiptRecord | undefined;
      if (!record || typeof record !== 'object') return fail(expectedSeq, `line ${lineNo}: record missing`);
      if (record.seq !== expectedSeq) {
        return fail(
          expectedSeq,
          `expected record ${expectedSeq}, found ${String(record.seq)}: a record is missing or out of order`,
        );
      }
      if (record.v !== 1) return fail(expectedSeq, `record ${expectedSeq} has unknown version ${String(record.v)}`);
      let hash: string;
      try {
        hash = recordHash(record);
      } catch {
        return fail(expectedSeq, `record ${expectedSeq} cannot be canonicalised`);
      }
      if (hash !== line.hash) return fail(expectedSeq, `record ${expectedSeq} does not match its hash (altered)`);
      if (record.prev !== prevHash) {
        return fail(expectedSeq, `record ${expectedSeq} does not chain to record ${expectedSeq - 1} (prev differs)`);
      }
      const signed = signedHash.get(record.seq);
      if (signed !== undefined && signed !== hash) {
        return fail(record.seq, `record ${record.seq} differs from its signed checkpoint`);
      }
      if (record.kind === 'recovery' && NOTICE_EVENTS.has(String(record.body?.event))) {
        notices.push(`record ${record.seq}: ${String(record.body.note ?? record.body.event)}`);
      }
      prevHash = hash;
      count++;
      expectedSeq++;
      continue;
    }
    const recordLike = inRecords || 'record' in line;
    return fail(recordLike ? expectedSeq : 0, `line ${lineNo} has unknown type ${String(line.type)}`);
  }
  if (lineNo === 0) return fail(0, 'the export is empty (no header)');
  if (last && last.seq > count) {
    return fail(
      count + 1,
      `log truncated: ${nameCheckpoint(last)} covers seq ${last.seq} but the log ends at ${count}`,
    );
  }
  if (count === 0) {
    return fail(1, 'the log is empty: no records and no signed head (a Briefcase log always holds its start record)');
  }
  if (!last || last.seq < count) {
    const from = (last?.seq ?? 0) + 1;
    return fail(
      from,
      `${recordRange(from, count)} ${from === count ? 'is' : 'are'} not covered by a signed checkpoint (${last ? `the last, ${nameCheckpoint(last)}, ends at ${last.seq}` : 'there is none'}): they were added or rewritten after the last signature, or the daemon stopped without signing them (start it: it signs them with a recovery receipt)`,
    );
  }
  const unseen = required.find((r) => !r.seen);
  if (unseen) {
    return fail(
      Math.min(unseen.cp.seq, count + 1),
      `${unseen.what}, ${nameCheckpoint(unseen.cp)}, is not in this export (it ends at ${nameCheckpoint(last)}): the log was rolled back or truncated since`,
    );
  }
  if (options.anchor && !anchorSigned(options.anchor, keys)) {
    return fail(
      0,
      `the anchor (receipts.anchor, ${nameCheckpoint(options.anchor.checkpoint)}) carries no valid anchor signature by a trusted key: it was forged, perhaps from a checkpoint in the database`,
    );
  }
  return result(true, null, null);
}

/** The anchor's own signature (anchorMessage), which no checkpoint in the database carries. */
function anchorSigned(anchor: Anchor, keys: Map<string, PublicJwk> | undefined): boolean {
  const key = keys?.get(anchor.key_id);
  try {
    return !!key && verifySignature(key, anchorMessage(anchor.checkpoint), fromBase64Url(anchor.sig));
  } catch {
    return false;
  }
}

function embeddedKeys(entries: unknown): Map<string, PublicJwk> {
  const keys = new Map<string, PublicJwk>();
  if (!Array.isArray(entries)) return keys;
  for (const entry of entries) {
    const e = entry as { key_id?: unknown; jwk?: unknown };
    if (typeof e.key_id === 'string' && isPublicJwk(e.jwk)) keys.set(e.key_id, e.jwk);
  }
  return keys;
}
