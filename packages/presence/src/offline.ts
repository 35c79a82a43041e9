import { presenceChallenge, type BoundPurpose } from './challenge.ts';
import { PresenceRefused, verifyAssertion, type EnrolledCredential, type RecordedAssertion } from './ceremony.ts';

/**
 * What a receipt body carries when a person approved with a passkey: the purpose the challenge
 * committed to, its nonce, the relying party, and the assertion itself.
 */
export interface PresenceEvidence {
  purpose: BoundPurpose;
  nonce: string;
  rp_id: string;
  origin: string;
  assertion: RecordedAssertion;
}

/** The slice of a receipt record this check reads (packages/receipts ReceiptRecord fits). */
export interface RecordLike {
  seq: number;
  kind: string;
  body: Record<string, unknown>;
}

export interface PresenceCheck {
  /** Assertions found and verified. */
  assertions: number;
  /** Each problem names the record (seq) and what is wrong. Empty when all hold. */
  problems: string[];
}

/**
 * Offline check of every passkey assertion in a receipt log (in order): each was made by a
 * passkey enrolled earlier in the same log (and not removed since), with user verification, for a
 * challenge that commits to exactly what the record says was approved — the approval id and call
 * hash, or the operation id and payload hash. And an approval consumed later was consumed for that
 * same call hash. The log's own integrity (hash chain, signatures) is verifyExport's job; run this
 * on a log that passed it.
 */
export async function checkPresenceEvidence(records: Iterable<RecordLike>): Promise<PresenceCheck> {
  const enrolled = new Map<string, EnrolledCredential & { rp_id: string; origin: string }>();
  const approvedHash = new Map<string, string>();
  const problems: string[] = [];
  let assertions = 0;
  for (const r of records) {
    const b = r.body;
    if (r.kind === 'passkey' && b.event === 'enrolled' && typeof b.credential_id === 'string') {
      enrolled.set(b.credential_id, {
        credential_id: b.credential_id,
        public_key: String(b.public_key),
        counter: 0,
        rp_id: String(b.rp_id),
        origin: String(b.origin),
      });
      continue;
    }
    if (r.kind === 'passkey' && b.event === 'removed' && typeof b.credential_id === 'string') {
      enrolled.delete(b.credential_id);
      continue;
    }
    if (r.kind === 'approval' && b.event === 'consumed' && typeof b.approval_id === 'string') {
      const approved = approvedHash.get(b.approval_id);
      if (approved !== undefined && approved !== b.call_hash) {
        problems.push(
          `record ${r.seq}: approval ${b.approval_id} was approved with a passkey for call ${approved} but consumed by call ${String(b.call_hash)}`,
        );
      }
      continue;
    }
    const evidence = b.presence as PresenceEvidence | undefined;
    if (!evidence || typeof evidence !== 'object') continue;
    assertions++;
    const problem = await checkOne(r, evidence, enrolled);
    if (problem) problems.push(`record ${r.seq}: ${problem}`);
    else if (r.kind === 'approval' && evidence.purpose.kind === 'approve') {
      approvedHash.set(evidence.purpose.approval_id, evidence.purpose.call_hash);
    }
  }
  return { assertions, problems };
}

async function checkOne(
  r: RecordLike,
  e: PresenceEvidence,
  enrolled: Map<string, EnrolledCredential & { rp_id: string; origin: string }>,
): Promise<string | null> {
  const p = e.purpose;
  if (!p || typeof p !== 'object' || typeof e.nonce !== 'string' || !e.assertion) {
    return 'the presence evidence is incomplete';
  }
  // The challenge must commit to what this record says happened.
  if (r.kind === 'approval') {
    if (p.kind !== 'approve' || p.approval_id !== r.body.approval_id || p.call_hash !== r.body.call_hash) {
      return `the assertion was made for ${describe(p)}, not for approval ${String(r.body.approval_id)} of call ${String(r.body.call_hash)}`;
    }
  } else if (r.kind === 'operation') {
    if (
      p.kind !== 'operation' ||
      p.operation_id !== r.body.operation_id ||
      p.payload_sha256 !== r.body.payload_sha256
    ) {
      return `the assertion was made for ${describe(p)}, not for operation ${String(r.body.operation_id)}`;
    }
  }
  const credential = enrolled.get(e.assertion.credential_id);
  if (!credential) return `passkey ${e.assertion.credential_id} was not enrolled (or was removed) before this record`;
  // The console's port may change between runs; the passkey is bound to the RP id (the host).
  if (credential.rp_id !== e.rp_id || new URL(e.origin).hostname !== e.rp_id) {
    return `the assertion names ${e.origin} (${e.rp_id}), but the passkey was enrolled for ${credential.rp_id}`;
  }
  try {
    await verifyAssertion(
      { id: e.rp_id, name: 'Briefcase', origin: e.origin },
      e.assertion,
      credential,
      presenceChallenge(p, e.nonce),
    );
    return null;
  } catch (err) {
    return err instanceof PresenceRefused ? err.reason : `the assertion could not be checked: ${String(err)}`;
  }
}

function describe(p: BoundPurpose): string {
  if (p.kind === 'approve') return `approval ${p.approval_id} of call ${p.call_hash}`;
  if (p.kind === 'operation') return `operation ${p.operation_id}`;
  return 'a sign-in';
}
