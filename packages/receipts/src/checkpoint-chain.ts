import { fromBase64Url, verifySignature, type PublicJwk } from '@briefcase/crypto';
import { GENESIS_PREV, checkpointLink, checkpointMessage, type Checkpoint } from './record.ts';

const HEX64 = /^[0-9a-f]{64}$/;

/** A checkpoint's fields have the right types (signature not checked). */
export function isCheckpointShape(value: unknown): value is Checkpoint {
  const cp = value as Partial<Checkpoint> | null;
  return (
    typeof cp === 'object' &&
    cp !== null &&
    cp.v === 2 &&
    Number.isSafeInteger(cp.n) &&
    Number.isSafeInteger(cp.seq) &&
    typeof cp.hash === 'string' &&
    HEX64.test(cp.hash) &&
    typeof cp.ts === 'string' &&
    typeof cp.key_id === 'string' &&
    typeof cp.prev === 'string' &&
    typeof cp.sig === 'string'
  );
}

/** "records 5–9", or "record 5" when it is one. */
export function recordRange(from: number, to: number): string {
  return from === to ? `record ${from}` : `records ${from}–${to}`;
}

/** How a checkpoint is named in reasons: "checkpoint #4 (seq 310)". */
export function nameCheckpoint(cp: Pick<Checkpoint, 'n' | 'seq'>): string {
  return `checkpoint #${cp.n} (seq ${cp.seq})`;
}

/**
 * Why `cp` is not a valid next link after `prev` (null: `cp` should be the first), or null when
 * it is: numbered n+1, signing prev's link, covering no earlier seq, signed by a key `keyFor` knows.
 * Shared by the offline verifier and the daemon's start-up check, so both apply the same rules.
 * `keyFor: null` skips the signature, for a checkpoint whose content a later, verified link
 * already vouches for (each link hashes the signed content of the one before).
 */
export function checkpointProblem(
  cp: Checkpoint,
  prev: Checkpoint | null,
  keyFor: ((keyId: string) => PublicJwk | undefined) | null,
): string | null {
  const expected = (prev?.n ?? 0) + 1;
  if (cp.n !== expected) {
    const place = prev ? `follows ${nameCheckpoint(prev)}` : 'comes first';
    return cp.n > expected
      ? `${nameCheckpoint(cp)} ${place}: checkpoint${cp.n - expected > 1 ? `s #${expected}–#${cp.n - 1} are` : ` #${expected} is`} missing (deleted)`
      : `${nameCheckpoint(cp)} ${place}: checkpoints are duplicated or out of order`;
  }
  if (cp.prev !== (prev ? checkpointLink(prev) : GENESIS_PREV)) {
    return `${nameCheckpoint(cp)} does not chain to ${prev ? nameCheckpoint(prev) : 'the start'}: a checkpoint was replaced, reordered or deleted`;
  }
  if (cp.seq < 1 || (prev && cp.seq < prev.seq)) {
    return `${nameCheckpoint(cp)} covers less of the log than ${prev ? nameCheckpoint(prev) : 'nothing'}`;
  }
  if (!keyFor) return null;
  const key = keyFor(cp.key_id);
  if (!key) return `${nameCheckpoint(cp)} is signed by an unknown key (${cp.key_id})`;
  let sigOk: boolean;
  try {
    sigOk = verifySignature(key, checkpointMessage(cp), fromBase64Url(cp.sig));
  } catch {
    sigOk = false;
  }
  return sigOk ? null : `${nameCheckpoint(cp)} has an invalid signature`;
}
