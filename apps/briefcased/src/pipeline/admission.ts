import { maxTier, type Tier } from '@briefcase/policy';
import { BriefcaseError, type ApprovalView, type ErrorCode, type ToolCallResponse } from '@briefcase/protocol';
import { ANY_PAYMENT, type ApprovalNeed } from '../approvals/store.ts';
import type { Reservation } from '../budget/ledger.ts';
import type { Tool } from '../tools/tool.ts';
import { clip, elapsed, type CallState } from './call-state.ts';
import type { PipelineDeps } from './pipeline.ts';
import { forApproval } from './redact.ts';
import { cli } from '../cli-hint.ts';

/** What steps 6–7 decided, inside the transaction that also reserved or receipted it. */
export type Admission =
  | { kind: 'run'; reservation: Reservation | undefined }
  | { kind: 'refused'; code: ErrorCode; message: string; receiptId: string }
  | { kind: 'approval'; approval: ApprovalView; tier: Tier; reason: string; receiptId: string };

/**
 * Steps 6–7 of DESIGN.md §2 (budget, approval) as one synchronous job of the commit queue, i.e.
 * inside one SQLite write transaction: check the caps against the spend committed so far, then
 * consume a sufficient approval and reserve the estimate — or refuse, with the call's receipt in
 * the same transaction. Nothing can interleave between check and reservation, in this process or
 * in another one writing the same database (BEGIN IMMEDIATE serialises them).
 */
export function admit(
  d: PipelineDeps,
  body: (s: CallState) => Record<string, unknown>,
  s: CallState,
  tool: Tool,
  args: Record<string, unknown>,
  policyTier: Tier | null,
  policyReasons: string[],
  estimated: number,
): Admission {
  const settings = d.settings();
  const now = new Date();
  const over = d.ledger.check(settings.caps, s.toolName, tool.descriptor.category, estimated, now);
  if (over.length > 0) s.budgetOver = over.map((o) => o.cap.id);
  else delete s.budgetOver;
  const hard = over.find((o) => o.cap.on_exceed === 'deny');
  if (hard) {
    return refuse(
      d,
      body,
      s,
      'budget_exceeded',
      `budget cap "${hard.cap.id}" would be exceeded (${hard.spent} spent + ${estimated} estimated > ${hard.cap.limit} ${tool.currency} minor units per ${hard.cap.window})`,
    );
  }
  const tier = over.length > 0 ? maxTier(policyTier, 'local') : policyTier;
  if (tier) {
    const need: ApprovalNeed = { tier, budgetCaps: over.map((o) => o.cap.id) };
    // A person who approved one payment of this call approved the call with it (the approval
    // shows both); it is consumed here and the payment step takes it for that payment only.
    const approval =
      d.approvals.findUsable(s.hash, s.caller, need, now) ??
      d.approvals.findUsable(s.hash, s.caller, { ...need, paymentHash: ANY_PAYMENT }, now);
    if (!approval) {
      const reason = [
        ...policyReasons,
        ...over.map(
          (o) =>
            `budget cap "${o.cap.id}" would be exceeded (${o.spent} + ${estimated} > ${o.cap.limit} per ${o.cap.window})`,
        ),
      ].join('; ');
      return askApproval(d, body, s, tool, args, need, reason, estimated, now);
    }
    // Found and consumed in one transaction: two retries racing cannot both use it.
    if (!d.approvals.transition(approval.id, 'approved', 'consumed', now)) {
      throw new BriefcaseError('internal', 'the approval could not be consumed');
    }
    s.approvalId = approval.id;
    const paymentHash = d.approvals.paymentHash(approval.id);
    if (paymentHash) s.prepaid = { approvalId: approval.id, paymentHash };
    d.receipts.append('approval', s.caller, {
      event: 'consumed',
      approval_id: approval.id,
      call_hash: s.hash,
      tool: s.toolName,
      ...(paymentHash ? { payment_hash: paymentHash } : {}),
    });
  }
  const reservation =
    estimated > 0 ? d.ledger.reserve(s.toolName, tool.descriptor.category, estimated, now) : undefined;
  return { kind: 'run', reservation };
}

/** Part of #admit: wait on the pending approval for this call, or ask for one within the limit. */
function askApproval(
  d: PipelineDeps,
  body: (s: CallState) => Record<string, unknown>,
  s: CallState,
  tool: Tool,
  args: Record<string, unknown>,
  need: ApprovalNeed,
  reason: string,
  estimated: number,
  now: Date,
): Admission {
  const settings = d.settings();
  let approval = d.approvals.findPending(s.hash, s.caller, need, now);
  if (!approval) {
    // A flood of distinct calls must not bury the approver: at most maxPendingApprovals wait.
    const pending = d.approvals.pendingCount(s.caller, now);
    if (pending.count >= settings.maxPendingApprovals) {
      return refuse(
        d,
        body,
        s,
        'rate_limited',
        `${pending.count} approvals requested by the ${s.caller} are already waiting for a person (at most ${settings.maxPendingApprovals} may wait at once), so no new approval can be requested for ${s.toolName}. ` +
          `A person must approve or reject them (\`${cli('approvals', 'list')}\`), or they expire (the first at ${pending.firstExpiry}); call again after that.`,
      );
    }
    approval = d.approvals.create(
      {
        callHash: s.hash,
        tier: need.tier,
        requestedBy: s.caller,
        tool: s.toolName,
        origin: tool.descriptor.origin,
        category: tool.descriptor.category,
        // The approvals table is not the vault: a secret value in the arguments is stored redacted, as receipts do.
        args: d.scrubber.scrubValue(forApproval(args, tool.sensitiveArgs)),
        reason,
        reads: tool.reads,
        changes: tool.changes,
        estimatedCost: estimated,
        currency: tool.currency,
        ttlSeconds: settings.approvalTtlSeconds,
        budgetCaps: need.budgetCaps,
      },
      now,
    );
    d.receipts.append('approval', s.caller, {
      event: 'created',
      approval_id: approval.id,
      call_hash: s.hash,
      tool: s.toolName,
      tier: need.tier,
      reason,
      expires_at: approval.expires_at,
      ...(need.budgetCaps.length ? { budget_caps: need.budgetCaps } : {}),
    });
  }
  s.approvalId = approval.id;
  const receipt = d.receipts.append('tool_call', s.caller, {
    ...body(s),
    outcome: 'approval_required',
    error: 'approval_required',
    detail: reason,
  });
  return { kind: 'approval', approval, tier: need.tier, reason, receiptId: receipt.id };
}

/** Part of #admit: a refusal, receipted in the same transaction. */
function refuse(
  d: PipelineDeps,
  body: (s: CallState) => Record<string, unknown>,
  s: CallState,
  code: ErrorCode,
  message: string,
): Admission {
  const receipt = d.receipts.append('tool_call', s.caller, { ...body(s), outcome: code, error: code });
  return { kind: 'refused', code, message, receiptId: receipt.id };
}

/** The agent's answer to a call #admit did not let run (its receipt is already durable). */
export function refusedResponse(
  d: PipelineDeps,
  s: CallState,
  a: Exclude<Admission, { kind: 'run' }>,
): ToolCallResponse {
  if (a.kind === 'refused') {
    d.logger.info('tool call', {
      tool: clip(s.toolName),
      caller: s.caller,
      outcome: a.code,
      receipt: a.receiptId,
      ms: elapsed(s),
    });
    return { ok: false, receipt_id: a.receiptId, error: { code: a.code, message: a.message } };
  }
  const { approval, tier, reason } = a;
  const command = cli('approvals', 'approve', approval.id);
  d.logger.info('approval required', {
    tool: s.toolName,
    caller: s.caller,
    outcome: 'approval_required',
    approval: approval.id,
    receipt: a.receiptId,
    ms: elapsed(s),
  });
  return {
    ok: false,
    receipt_id: a.receiptId,
    error: {
      code: 'approval_required',
      message:
        `This call to ${s.toolName} needs ${tier} approval (${reason}). ` +
        `A person must approve it with \`${command}\` (approval ${approval.id}, expires ${approval.expires_at}). ` +
        'Once approved, retry the identical call: it will go through. A call with different arguments needs its own approval.',
      approval: {
        approval_id: approval.id,
        expires_at: approval.expires_at,
        wait_ms: d.settings().approvalWaitMs,
        approve_command: command,
      },
    },
  };
}

/** A payment waiting for a person (payment-approval.ts): the same hint as a call's approval. */
export function paymentApprovalResponse(
  d: PipelineDeps,
  s: CallState,
  receiptId: string,
  e: { approval: ApprovalView; message: string },
): ToolCallResponse {
  const { approval } = e;
  const command = cli('approvals', 'approve', approval.id);
  return {
    ok: false,
    receipt_id: receiptId,
    error: {
      code: 'approval_required',
      message:
        `${e.message} A person must approve it with \`${command}\` (approval ${approval.id}, expires ${approval.expires_at}). ` +
        `Once approved, retry the identical call to ${s.toolName}: it pays exactly this once. If the upstream then asks for a different amount or payee, that needs its own approval.`,
      approval: {
        approval_id: approval.id,
        expires_at: approval.expires_at,
        wait_ms: d.settings().approvalWaitMs,
        approve_command: command,
      },
    },
  };
}
