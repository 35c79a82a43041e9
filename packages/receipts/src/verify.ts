import { fromBase64Url, isPublicJwk, verifySignature, type PublicJwk } from '@briefcase/crypto';
import { readDeviceStatement, withinInterval, type EndorsedKey } from './device-statement.ts';
import { EXPORT_FORMAT, headerHash, type ExportHeader } from './export-format.ts';
import { GENESIS_PREV, checkpointMessage, recordHash, type Checkpoint, type ReceiptRecord } from './record.ts';

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
}

export interface VerifyOptions {
  /** Keys the verifier trusts, by key id. Without them, the export's embedded keys are used. */
  trustedKeys?: Map<string, PublicJwk>;
  /**
   * Trust the device with this ID (its identity key's thumbprint) instead: the keys are those its
   * signed device statement in the export header vouches for, each only within its interval.
   */
  trustedDevice?: string;
}

/**
 * Offline verification of an exported log (DESIGN.md §3): every checkpoint signature against a
 * known key, each record's own hash, the chain of hashes from genesis, each checkpointed record
 * against its checkpoint, and no checkpoint past the end of the log (tail truncation).
 * Runtime-neutral: no Node APIs, so the extension and control plane can run it too.
 */
export function verifyExport(lines: Iterable<string>, options: VerifyOptions = {}): VerifyResult {
  let keys = options.trustedKeys;
  let endorsed: Map<string, EndorsedKey> | undefined;
  let statementIat = '';
  const keySource: VerifyResult['key_source'] = options.trustedDevice ? 'device' : keys ? 'trusted' : 'embedded';
  const signed = new Map<number, Checkpoint>();
  let expectedSeq = 1;
  let prevHash = GENESIS_PREV;
  let count = 0;
  let lineNo = 0;
  let inRecords = false;

  const result = (ok: boolean, seq: number | null, reason: string | null): VerifyResult => {
    const seqs = [...signed.keys()];
    return {
      ok,
      count,
      first_bad_seq: seq,
      reason,
      checkpoints: signed.size,
      last_checkpoint_seq: seqs.length ? Math.max(...seqs) : null,
      key_source: keySource,
    };
  };
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
      if (line.type !== 'header' || line.format !== EXPORT_FORMAT || line.v !== 1) {
        return fail(0, `line 1 is not a ${EXPORT_FORMAT} v1 header`);
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
      const cp = line.checkpoint as Checkpoint | undefined;
      if (!cp || !Number.isSafeInteger(cp.seq) || cp.seq < 1 || typeof cp.sig !== 'string') {
        return fail(0, `line ${lineNo}: malformed checkpoint`);
      }
      const key = keys?.get(cp.key_id);
      if (!key) return fail(cp.seq, `checkpoint at seq ${cp.seq} is signed by an unknown key (${String(cp.key_id)})`);
      let sigOk: boolean;
      try {
        sigOk = verifySignature(key, checkpointMessage(cp), fromBase64Url(cp.sig));
      } catch {
        sigOk = false;
      }
      if (!sigOk) return fail(cp.seq, `checkpoint at seq ${cp.seq} has an invalid signature`);
      const interval = endorsed?.get(cp.key_id);
      if (interval && !withinInterval(interval, String(cp.ts), statementIat)) {
        return fail(
          cp.seq,
          `checkpoint at seq ${cp.seq} (${String(cp.ts)}) is signed by key ${cp.key_id} outside the interval the device vouched for (${interval.not_before} to ${interval.not_after ?? `the statement's time, ${statementIat}`})`,
        );
      }
      signed.set(cp.seq, cp);
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
      const cp = signed.get(record.seq);
      if (cp && cp.hash !== hash) return fail(record.seq, `record ${record.seq} differs from its signed checkpoint`);
      prevHash = hash;
      count++;
      expectedSeq++;
      continue;
    }
    const recordLike = inRecords || 'record' in line;
    return fail(recordLike ? expectedSeq : 0, `line ${lineNo} has unknown type ${String(line.type)}`);
  }
  if (lineNo === 0) return fail(0, 'the export is empty (no header)');
  const beyond = [...signed.keys()].filter((seq) => seq > count);
  if (beyond.length > 0) {
    return fail(
      count + 1,
      `log truncated: a checkpoint covers seq ${Math.max(...beyond)} but the log ends at ${count}`,
    );
  }
  return result(true, null, null);
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
