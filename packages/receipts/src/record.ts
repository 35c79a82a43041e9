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
  'passkey',
  'operation',
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

/** SHA-256 over the domain prefix and the record's RFC 8785 canonical bytes, hex. */
export function recordHash(record: ReceiptRecord): string {
  return domainHash(RECORD_DOMAIN, record);
}

export function receiptId(seq: number, hash: string): string {
  return `r${seq}-${hash.slice(0, 12)}`;
}

/**
 * A signed statement "the log up to `seq` has head `hash`", and the `n`-th link of a chain of
 * such statements: `prev` is checkpointLink() of checkpoint n-1 (GENESIS_PREV for n = 1). The
 * chain is what makes deleting, reordering or replacing a checkpoint visible; without it, a
 * checkpoint removed together with the records it covered left no trace. Several checkpoints may
 * cover the same seq (an export signs the head even when it is already signed).
 */
export interface Checkpoint {
  v: 2;
  n: number;
  seq: number;
  hash: string;
  ts: string;
  key_id: string;
  prev: string;
  /** Signature over checkpointMessage() (Ed25519, or ES256 as r‖s), base64url. */
  sig: string;
}

export type UnsignedCheckpoint = Omit<Checkpoint, 'sig'>;

export const CHECKPOINT_DOMAIN = 'briefcase.checkpoint.v2';
export const CHECKPOINT_LINK_DOMAIN = 'briefcase.checkpoint-link.v2';

function signedPart(cp: UnsignedCheckpoint): UnsignedCheckpoint {
  return { v: cp.v, n: cp.n, seq: cp.seq, hash: cp.hash, ts: cp.ts, key_id: cp.key_id, prev: cp.prev };
}

export function checkpointMessage(cp: UnsignedCheckpoint): Uint8Array {
  return utf8(`${CHECKPOINT_DOMAIN}\u0000${canonicalize(signedPart(cp))}`);
}

export const ANCHOR_DOMAIN = 'briefcase.receipts-anchor.v1';

/**
 * The anchor's own statement, "checkpoint n is the latest I signed", signed apart from the
 * checkpoint: the database holds every checkpoint, so a bare checkpoint could be made into an
 * anchor by anyone cutting the log back to it; this signature exists only in the anchor file.
 */
export function anchorMessage(cp: UnsignedCheckpoint): Uint8Array {
  return utf8(`${ANCHOR_DOMAIN}\u0000${canonicalize({ n: cp.n, link: checkpointLink(cp) })}`);
}

/** The anchor (packages/receipts/src/node/anchor.ts): the latest checkpoint, and anchorMessage()'s signature. */
export interface Anchor {
  checkpoint: Checkpoint;
  key_id: string;
  sig: string;
}

/**
 * What the next checkpoint signs as its `prev`. Over the signed content, not the signature: an
 * ECDSA signature can be re-encoded by anyone (s or n−s), and that must not break the chain.
 */
export function checkpointLink(cp: UnsignedCheckpoint): string {
  return domainHash(CHECKPOINT_LINK_DOMAIN, signedPart(cp));
}
