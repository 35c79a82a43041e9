import { canonicalize, sha256Hex } from '@briefcase/crypto';
import { maxCost, toAtomic, type PaymentApprovalRequest, type PaymentRequirement } from '@briefcase/payments';
import { maxTier } from '@briefcase/policy';
import { BriefcaseError, type ApprovalView, type PaymentApprovalView } from '@briefcase/protocol';
import type { ApprovalNeed } from '../approvals/store.ts';
import { cli } from '../cli-hint.ts';
import type { Tool } from '../tools/tool.ts';
import type { CallState } from './call-state.ts';
import type { PipelineDeps } from './pipeline.ts';
import { forApproval } from './redact.ts';

/**
 * A payment is waiting for a person (docs/approvals.md, "Payments"): the call ends with
 * `approval_required` and the approval's hint; the agent's identical retry pays once approved.
 */
export class PaymentApprovalRequired extends BriefcaseError {
  readonly approval: ApprovalView;
  constructor(approval: ApprovalView, reason: string) {
    super(
      'approval_required',
      `The upstream asks for a payment that needs a person's approval (${reason}).`,
      `payment approval_needed: ${reason}`,
    );
    this.name = 'PaymentApprovalRequired';
    this.approval = approval;
  }
}

/** The hash a payment approval binds to: exactly what will be paid, to whom, on which rail. */
export function paymentHash(o: Pick<PaymentRequirement, 'rail' | 'network' | 'asset' | 'amount' | 'payee'>): string {
  return sha256Hex(
    canonicalize({
      v: 'briefcase:payment:v1',
      rail: o.rail,
      network: o.network,
      asset: o.asset,
      amount: o.amount,
      payee: o.payee,
    }),
  );
}

/** "0.25 (250000 atomic units, 6 decimals)"; without decimals, the atomic units alone. */
export function displayAmount(amount: string, decimals: number | undefined, asset: string): string {
  if (decimals === undefined) return `${amount} atomic units of ${asset}`;
  const padded = amount.padStart(decimals + 1, '0');
  const whole = padded.slice(0, padded.length - decimals);
  const frac = decimals ? padded.slice(padded.length - decimals).replace(/0+$/, '') : '';
  const unit = asset === 'msat' ? 'sat' : asset;
  return `${whole}${frac ? `.${frac}` : ''} ${unit} (${amount} atomic units, ${decimals} decimals)`;
}

export function paymentView(offer: PaymentRequirement, grantId: string, declared?: number): PaymentApprovalView {
  const decimals = declared ?? (offer.asset === 'msat' ? 3 : undefined);
  return {
    rail: offer.rail,
    network: offer.network,
    asset: offer.asset,
    amount: offer.amount,
    ...(decimals !== undefined ? { decimals } : {}),
    // A person approving sees the most it can cost: routing fees (L402) are spend too.
    display:
      offer.maxFee && offer.maxFee !== '0'
        ? `up to ${displayAmount(toAtomic(maxCost(offer)), decimals, offer.asset)} incl. fees ` +
          `(${offer.amount} + routing fees up to ${offer.maxFee})`
        : displayAmount(offer.amount, decimals, offer.asset),
    payee: offer.payee,
    grant_id: grantId,
    hash: paymentHash(offer),
  };
}

/**
 * The flow's `approve` for one call: inside one write transaction, consume an approved,
 * unexpired approval of this call AND this exact offer (conditional UPDATE: of 20 concurrent
 * retries exactly one wins), or ask for one (receipted), or wait on the one already asked for.
 * An approval of the call, or of another offer (the upstream changed its price or payee), is
 * never taken for this one.
 */
export function paymentApprover(
  d: PipelineDeps,
  s: CallState,
  tool: Tool,
  args: Record<string, unknown>,
): (r: PaymentApprovalRequest) => Promise<string> {
  return async ({ offer, grantId, reasons }) => {
    const payment = paymentView(offer, grantId, tool.paymentDecimals?.(offer));
    // The approval the admission consumed for this call, if it was for exactly this payment.
    const prepaid = s.prepaid;
    delete s.prepaid;
    if (prepaid?.paymentHash === payment.hash) return prepaid.approvalId;
    // The call itself needed approval (policy, budget caps): approving this payment lets it run once too.
    const withCall = s.approvalId !== undefined && s.approvalId !== prepaid?.approvalId;
    const reason =
      `pay ${payment.display} via ${offer.rail} on ${offer.network} to ${offer.payee}: ${reasons.join('; ')}` +
      (withCall || prepaid ? '; approving it also lets this call run once' : '');
    const need: ApprovalNeed = {
      tier: maxTier(s.policy?.tier ?? null, 'local') ?? 'local',
      budgetCaps: [],
      paymentHash: payment.hash,
    };
    const facts = {
      rail: offer.rail,
      network: offer.network,
      asset: offer.asset,
      amount: offer.amount,
      payee: offer.payee,
    };
    const decided = await d.commits.run(() => {
      const now = new Date();
      const usable = d.approvals.findUsable(s.hash, s.caller, need, now);
      if (usable && d.approvals.transition(usable.id, 'approved', 'consumed', now)) {
        d.receipts.append('approval', s.caller, {
          event: 'consumed',
          approval_id: usable.id,
          call_hash: s.hash,
          tool: s.toolName,
          payment_hash: payment.hash,
        });
        return { consumed: usable.id };
      }
      let approval = d.approvals.findPending(s.hash, s.caller, need, now);
      if (!approval) {
        const pending = d.approvals.pendingCount(s.caller, now);
        if (pending.count >= d.settings().maxPendingApprovals) {
          return {
            limited:
              `${pending.count} approvals requested by the ${s.caller} are already waiting for a person, so no approval can be requested for this payment by ${s.toolName}. ` +
              `A person must decide them (\`${cli('approvals', 'list')}\`), or they expire (the first at ${pending.firstExpiry}).`,
          };
        }
        approval = d.approvals.create(
          {
            callHash: s.hash,
            tier: need.tier,
            requestedBy: s.caller,
            tool: s.toolName,
            origin: tool.descriptor.origin,
            category: tool.descriptor.category,
            args: d.scrubber.scrubValue(forApproval(args, tool.sensitiveArgs)),
            reason,
            reads: tool.reads,
            changes: tool.changes,
            estimatedCost: s.estimated ?? 0,
            currency: tool.currency,
            ttlSeconds: d.settings().approvalTtlSeconds,
            // Approving the payment approves the call with it, over the caps it exceeded.
            budgetCaps: s.budgetOver ?? [],
            payment,
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
          payment_hash: payment.hash,
          payment: { ...facts, grant_id: grantId },
        });
      }
      d.receipts.append('payment', s.caller, {
        event: 'refused',
        tool: s.toolName,
        call_hash: s.hash,
        reason: 'approval_needed',
        ...facts,
        grant_id: grantId,
        approval_id: approval.id,
      });
      return { approval };
    });
    if ('consumed' in decided) {
      d.approvals.notify(decided.consumed);
      return decided.consumed;
    }
    s.payment = { status: 'refused', reason: 'approval_needed' };
    if ('limited' in decided) throw new BriefcaseError('rate_limited', decided.limited);
    throw new PaymentApprovalRequired(decided.approval, reason);
  };
}
