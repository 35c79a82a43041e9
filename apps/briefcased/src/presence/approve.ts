import { BriefcaseError, type ApprovalView } from '@briefcase/protocol';
import type { Services } from '../daemon.ts';
import { transaction } from '../store/db.ts';
import { verifyPresence } from './guard.ts';

/**
 * Approve with a passkey: the assertion's challenge commits to this approval's id and call hash,
 * so it approves exactly this call, once. The receipt carries the assertion, for `receipts
 * verify` to check offline. Good for the `local` and `presence` tiers; `signer` needs a phone.
 */
export async function approveWithPresence(
  s: Services,
  id: string,
  challengeId: string,
  response: unknown,
  origin: string,
): Promise<ApprovalView> {
  const a = s.approvals.get(id);
  if (!a) throw new BriefcaseError('not_found', `no approval ${id}`);
  if (a.status !== 'pending') throw new BriefcaseError('conflict', `approval ${id} is ${a.status}, not pending`);
  if (a.tier === 'signer') {
    throw new BriefcaseError(
      'conflict',
      `approval ${id} needs the signer tier (a paired phone); a passkey is not enough`,
    );
  }
  const evidence = await verifyPresence(s, challengeId, response, origin, {
    kind: 'approve',
    approval_id: a.id,
    call_hash: a.call_hash,
  });
  transaction(s.db, () => {
    if (!s.approvals.transition(id, 'pending', 'approved')) {
      throw new BriefcaseError('conflict', `approval ${id} expired or was decided meanwhile`);
    }
    s.receipts.append('approval', 'admin', {
      event: 'approved',
      approval_id: id,
      call_hash: a.call_hash,
      tool: a.tool,
      tier: a.tier,
      approved_tier: 'presence',
      presence: evidence,
    });
  });
  s.approvals.notify(id);
  s.logger.info('approval approved with a passkey', { approval: id, tool: a.tool });
  return s.approvals.get(id)!;
}

export function rejectApproval(s: Services, id: string, surface: string): ApprovalView {
  const a = s.approvals.get(id);
  if (!a) throw new BriefcaseError('not_found', `no approval ${id}`);
  if (a.status !== 'pending') throw new BriefcaseError('conflict', `approval ${id} is ${a.status}, not pending`);
  transaction(s.db, () => {
    if (!s.approvals.transition(id, 'pending', 'rejected')) {
      throw new BriefcaseError('conflict', `approval ${id} expired or was decided meanwhile`);
    }
    s.receipts.append('approval', 'admin', {
      event: 'rejected',
      approval_id: id,
      call_hash: a.call_hash,
      tool: a.tool,
      tier: a.tier,
      surface,
    });
  });
  s.approvals.notify(id);
  return s.approvals.get(id)!;
}
