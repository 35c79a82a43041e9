import { PaymentRefused } from '@briefcase/payments';
import { paymentFacts } from '../payments/service.ts';
import type { Tool, ToolContext } from '../tools/tool.ts';
import type { CallState } from './call-state.ts';
import { paymentApprover } from './payment-approval.ts';
import type { PipelineDeps } from './pipeline.ts';

/**
 * DESIGN.md §2 step 8, payments: the `pay` a tool gets in its context. The logic (grant,
 * ledger, rails, retry contract) is @briefcase/payments; this wires it to the call: purposes
 * are the tool's name and tags, the estimate is the tool's declared payment maximum, and every
 * payment — refused, settled or not — gets a `payment` receipt with public facts only.
 */
export function paymentStep(
  d: PipelineDeps,
  s: CallState,
  tool: Tool,
  args: Record<string, unknown>,
): ToolContext['pay'] {
  const payments = d.payments;
  if (!payments) return undefined;
  return async (challenge, retry) => {
    let outcome;
    try {
      await payments.loadRails();
      outcome = await payments.flow.pay(
        challenge,
        {
          purposes: [s.toolName, ...tool.tags],
          estimate: (offer) => tool.paymentEstimate?.(offer) ?? 0n,
          approve: paymentApprover(d, s, tool, args),
        },
        retry,
      );
    } catch (e) {
      if (e instanceof PaymentRefused) {
        const o = e.offer;
        await d.commits.run(() =>
          d.receipts.append('payment', s.caller, {
            event: 'refused',
            tool: s.toolName,
            call_hash: s.hash,
            reason: e.reason,
            ...(o ? { rail: o.rail, network: o.network, asset: o.asset, amount: o.amount, payee: o.payee } : {}),
            ...(e.grantId ? { grant_id: e.grantId } : {}),
          }),
        );
        s.payment = { status: 'refused', reason: e.reason };
      }
      throw e;
    }
    const facts = {
      ...paymentFacts(outcome.grantId, outcome.budgetId, outcome.settlement),
      ...(outcome.approvalId ? { approval_id: outcome.approvalId } : {}),
    };
    s.payment = facts;
    await d.commits.run(() =>
      d.receipts.append('payment', s.caller, { event: 'payment', tool: s.toolName, call_hash: s.hash, ...facts }),
    );
    if (outcome.retryError !== undefined || outcome.retry === undefined) throw outcome.retryError;
    return outcome.retry;
  };
}
