import { canonicalize, domainHash, utf8 } from '@briefcase/crypto';

/** DESIGN.md §3. Kinds the daemon writes; later issues add payment, signer, revocation, sync. */
export const RECEIPT_KINDS = [
  'tool_call',
  'approval',
  'policy',
  'secret',
  'oauth',
  'payment',
  'signer',
  'revocation',
  'sync',
  'daemon',
  'recovery',
  'remote',
] as const;
export type ReceiptKind = (typeof RECEIPT_KINDS)[number];

export type ReceiptActor = 'agent' | 'admin' | 'daemon';

export interface ReceiptRecord {
  v: 1;
  seq: number;
  ts: string;
  /** Hash of the previous record; GENESIS_PREV for seq 1. */
  prev: string;
  kind: ReceiptKind;
  actor: ReceiptActor;
  body: Record<string, unknown>;
}

export const GENESIS_PREV = '0'.repeat(64);
export const RECORD_DOMAIN = 'briefcase.receipt.v1';
export const CHECKPOINT_DOMAIN = 'briefcase.checkpoint.v1';

/** SHA-256 over the domain prefix and the record's RFC 8785 canonical bytes, hex. */
export function recordHash(record: ReceiptRecord): string {
  return domainHash(RECORD_DOMAIN, record);
}

export function receiptId(seq: number, hash: string): string {
  return `r${seq}-${hash.slice(0, 12)}`;
}

/** A signed statement "the log up to `seq` has head `hash`". */
export interface Checkpoint {
  seq: number;
  hash: string;
  ts: string;
  key_id: string;
  /** Ed25519 signature over checkpointMessage(), base64url. */
  sig: string;
}

export function checkpointMessage(cp: Pick<Checkpoint, 'seq' | 'hash' | 'ts' | 'key_id'>): Uint8Array {
  return utf8(
    `${CHECKPOINT_DOMAIN}\u0000${canonicalize({ seq: cp.seq, hash: cp.hash, ts: cp.ts, key_id: cp.key_id })}`,
  );
}
