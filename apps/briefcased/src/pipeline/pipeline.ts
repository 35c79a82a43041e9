import type { DatabaseSync } from 'node:sqlite';
import { callHash, sha256Hex } from '@briefcase/crypto';
import type { BudgetCap, PolicyEngine } from '@briefcase/policy';
import { BriefcaseError, type ErrorCode, type ToolCallResponse } from '@briefcase/protocol';
import type { ReceiptLog } from '@briefcase/receipts/node';
import type { Logger, Telemetry } from '@briefcase/telemetry';
import type { Scrubber, Vault } from '@briefcase/vault';
import type { ApprovalStore } from '../approvals/store.ts';
import type { Reservation, SpendLedger } from '../budget/ledger.ts';
import type { Payments } from '../payments/service.ts';
import { StoreBusyError } from '../store/busy.ts';
import type { CommitQueue } from '../store/commit-queue.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import type { Tool, ToolLog, ToolProgress } from '../tools/tool.ts';
import { admit, paymentApprovalResponse, refusedResponse } from './admission.ts';
import { PaymentApprovalRequired } from './payment-approval.ts';
import { firewallOutput } from './firewall.ts';
import { clip, elapsed, toToolErrorCode, type Caller, type CallState } from './call-state.ts';
import { callInputProblem } from './call-input.ts';
import { paymentStep } from './payment-step.ts';
import { forReceipt, withoutSensitive } from './redact.ts';
import { cli } from '../cli-hint.ts';

/** What a running tool reports before its result, relayed to the agent when it listens. */
export interface CallEvents {
  onProgress?: ((progress: ToolProgress) => void) | undefined;
  onLog?: ((entry: ToolLog) => void) | undefined;
  /** The caller's W3C traceparent: the call's spans continue its trace. */
  traceparent?: string | undefined;
}

export interface PipelineDeps {
  db: DatabaseSync;
  commits: CommitQueue;
  registry: ToolRegistry;
  policy: () => PolicyEngine;
  approvals: ApprovalStore;
  ledger: SpendLedger;
  receipts: ReceiptLog;
  vault: Vault;
  scrubber: Scrubber;
  logger: Logger;
  telemetry: Telemetry;
  dataDir: string;
  /** The payment step (docs/payments.md); absent: a 402 is returned to the agent as an error. */
  payments?: Payments | undefined;
  settings: () => {
    caps: BudgetCap[];
    /** The currency budget caps are in (`budgets.currency`); estimates in another are never added to them. */
    currency: string;
    approvalTtlSeconds: number;
    approvalWaitMs: number;
    /** Approvals one requester may have waiting for a person at once (`approvals.max_pending`). */
    maxPendingApprovals: number;
    maxResultBytes: number;
  };
}

/**
 * The tool-call pipeline of DESIGN.md §2, in order: resolve, validate, pin check (remote tools),
 * policy, [risk: AI issue], budget, approval, [credentials: OAuth/payments issues; vault secrets
 * are injected at egress by the tool], execute, firewall, receipt, return.
 * Every way out appends exactly one `tool_call` receipt, durable before the caller hears back.
 */
export class CallPipeline {
  readonly #d: PipelineDeps;
  /** Calls not yet answered: the daemon waits for them (aborted) before it closes the database. */
  readonly #inFlight = new Set<Promise<ToolCallResponse>>();

  constructor(deps: PipelineDeps) {
    this.#d = deps;
  }

  call(
    toolName: string,
    args: Record<string, unknown>,
    caller: Caller,
    signal: AbortSignal,
    events: CallEvents = {},
  ): Promise<ToolCallResponse> {
    const call = this.#call(toolName, args, caller, signal, events);
    this.#inFlight.add(call);
    const forget = () => void this.#inFlight.delete(call);
    call.then(forget, forget);
    return call;
  }

  /**
   * Resolves once every call in flight has answered (and so written its receipt), or after
   * `maxMs`. At shutdown the calls' connections are closed first, which aborts them.
   */
  async settled(maxMs: number): Promise<void> {
    if (this.#inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#inFlight]),
      new Promise<void>((r) => (timer = setTimeout(r, maxMs))),
    ]);
    clearTimeout(timer);
  }

  async #call(
    toolName: string,
    args: Record<string, unknown>,
    caller: Caller,
    signal: AbortSignal,
    events: CallEvents,
  ): Promise<ToolCallResponse> {
    // Input that cannot be hashed (lone surrogates, non-finite numbers, hostile nesting) is
    // refused with one receipt; the receipt carries no arguments and an empty call_hash.
    const span = this.#d.telemetry.startCall('daemon', events.traceparent);
    const started = performance.now();
    const bad = callInputProblem(toolName, args);
    if (bad) {
      const refused: CallState = { caller, toolName: toolName.toWellFormed(), hash: '', started, span };
      return this.#done(refused, await this.#fail(refused, bad.code, bad.message));
    }
    const state: CallState = { caller, toolName, hash: callHash(toolName, args), started, span };
    let response: ToolCallResponse;
    try {
      response = await this.#run(state, args, signal, events);
    } catch (e) {
      // The database stayed locked: a receipt cannot be written now either, so do not wait again.
      if (e instanceof StoreBusyError) return this.#done(state, this.#unrecorded(state, e));
      const error =
        e instanceof BriefcaseError
          ? e
          : new BriefcaseError('internal', 'the Briefcase failed to run this call', String(e));
      response = await this.#fail(state, toToolErrorCode(error.code), error.message, error.detail);
    }
    return this.#done(state, response);
  }

  /** Every call ends here: its span and its metrics (tool names only for tools that exist). */
  #done(s: CallState, response: ToolCallResponse): ToolCallResponse {
    const outcome = response.ok ? (response.result.isError ? 'tool_error' : 'ok') : response.error.code;
    s.span.end(outcome, response.receipt_id);
    this.#d.telemetry.recordCall(s.tool ? s.toolName : '(unknown)', outcome, performance.now() - s.started);
    return response;
  }

  async #run(
    s: CallState,
    args: Record<string, unknown>,
    signal: AbortSignal,
    events: CallEvents,
  ): Promise<ToolCallResponse> {
    const d = this.#d;
    const settings = d.settings();

    // 1. Resolve.
    s.span.stage('validate');
    const tool = d.registry.get(s.toolName);
    if (!tool) return this.#fail(s, 'unknown_tool', `there is no tool named "${clip(s.toolName)}"`);
    s.tool = tool;
    s.span.setTool(s.toolName);
    // A remote tool's approvals bind to what it is, not only to its name (docs/remote-mcp.md).
    if (tool.identity) s.hash = callHash(s.toolName, args, tool.identity);

    // 2. Validate, strictly: the arguments approved are exactly the arguments run.
    const invalid = d.registry.validateArgs(s.toolName, args);
    // A secret the agent typed (a guess that was right) is not written down either.
    s.receiptArgs = d.scrubber.scrubValue(forReceipt(args, tool.sensitiveArgs));
    if (invalid) return this.#fail(s, 'invalid_args', `invalid arguments for ${s.toolName}: ${invalid}`);

    // 3. Pin check: a remote tool whose definition changed since it was pinned does not run.
    const changed = tool.pinProblem?.();
    if (changed) {
      return this.#fail(
        s,
        'tool_changed',
        `the definition of ${s.toolName} changed since it was reviewed; an admin must run \`${cli('remote', 'pin', tool.server ?? '')}\``,
        changed,
      );
    }

    // 4. Policy.
    s.span.stage('policy');
    const now = new Date();
    const estimated = tool.estimateCost(args);
    s.estimated = estimated;
    const decision = d.policy().decide({
      principal: { type: s.caller === 'agent' ? 'Agent' : 'Admin', id: s.caller },
      tool: {
        name: s.toolName,
        origin: tool.descriptor.origin,
        server: tool.server,
        category: tool.descriptor.category,
        tags: tool.tags,
      },
      context: {
        estimated_cost: estimated,
        now: Math.floor(now.getTime() / 1000),
        hour_utc: now.getUTCHours(),
        args: withoutSensitive(args, tool.sensitiveArgs),
      },
    });
    if (decision.decision === 'deny') {
      s.policy = { decision: 'deny', tier: null, policies: decision.policies };
      const why = decision.errors.length ? `policy error: ${decision.errors.join('; ')}` : undefined;
      return this.#fail(s, 'denied', `policy does not allow ${s.toolName}`, why);
    }
    s.policy = { decision: 'allow', tier: decision.tier, policies: decision.policies };
    const tier = decision.tier;
    const reasons: string[] = [];
    if (tier) reasons.push(`policy ${decision.policies.filter(Boolean).join(', ')} requires ${tier} approval`);

    // 5. Risk (tighten-only): AI issue.

    // 6–7. Budget and approval, decided inside the commit that reserves the estimate and consumes
    // the approval (admission.ts), so no interleaving of calls, gateways or processes overshoots a cap
    // or runs an over-budget call without its approval. A free call that needs no approval and
    // is under every cap takes no commit here: it cannot move a cap.
    let reservation: Reservation | undefined;
    s.span.stage('budget_approval');
    // Amounts in different currencies never add up: a cost in another currency than the caps'
    // cannot be checked against them, so the call does not run (fail closed).
    if (estimated > 0 && tool.currency !== settings.currency) {
      return this.#fail(
        s,
        'budget_exceeded',
        `${s.toolName} costs ${estimated} ${clip(tool.currency, 16)} minor units, and budgets are in ${clip(settings.currency, 16)}: amounts in different currencies are never added; an admin must set the tool's cost.currency to ${clip(settings.currency, 16)}`,
      );
    }
    const free =
      estimated === 0 &&
      tier === null &&
      d.ledger.check(settings.caps, s.toolName, tool.descriptor.category, 0, now).length === 0;
    if (!free) {
      const admitted = await d.commits.run(() =>
        admit(d, (x) => this.#body(x), s, tool, args, tier, reasons, estimated),
      );
      if (admitted.kind !== 'run') return refusedResponse(d, s, admitted);
      reservation = admitted.reservation;
      if (s.approvalId) d.approvals.notify(s.approvalId);
    }

    // 8–9. Credentials (vault secrets, injected at egress by the tool) and execution.
    let output: Awaited<ReturnType<Tool['execute']>>;
    s.ran = true;
    s.span.stage('execute');
    try {
      output = await tool.execute(args, {
        signal,
        onProgress: events.onProgress,
        onLog: events.onLog,
        dataDir: d.dataDir,
        pay: paymentStep(d, s, tool, args),
        paidCredential: d.payments
          ? {
              get: (url: string) => d.payments?.flow.credentialFor(url),
              refused: (url: string, h: Readonly<Record<string, string>>) => d.payments?.flow.credentialRefused(url, h),
            }
          : undefined,
        scrub: (text) => d.scrubber.scrub(text),
        outbound: (name, target) => s.span.outbound(name, target),
        secret: (name) => {
          const secret = d.vault.forTool(name, s.toolName);
          if (!secret) {
            throw new BriefcaseError(
              'unavailable',
              `${s.toolName} needs the secret "${name}", which is not set`,
              cli('secrets', 'set', name),
            );
          }
          return secret;
        },
      });
    } catch (e) {
      if (e instanceof PaymentApprovalRequired) {
        // Nothing was paid: the 402 cost nothing, and the identical retry pays once approved.
        s.approvalId = e.approval.id;
        const failed = await this.#fail(s, 'approval_required', e.message, e.detail, reservation, 0);
        return failed.ok || failed.receipt_id === null ? failed : paymentApprovalResponse(d, s, failed.receipt_id, e);
      }
      const error =
        e instanceof BriefcaseError ? e : new BriefcaseError('upstream_error', `${s.toolName} failed`, String(e));
      // The request may have reached the upstream: keep the estimate counted unless it never left.
      const spent = error.code === 'sandbox_violation' || error.code === 'unavailable' ? 0 : estimated;
      return this.#fail(s, toToolErrorCode(error.code), error.message, error.detail, reservation, spent);
    }

    // 10. Firewall the output.
    s.span.stage('firewall');
    const fw = firewallOutput(output.result, d.scrubber, settings.maxResultBytes);
    const actual = output.actualCost ?? estimated;

    // 11. Receipt (with spend settlement), durable before the result is returned.
    s.span.stage('receipt');
    const receipt = await d.commits.run(() => {
      this.#settle(reservation, tool, actual, now);
      return d.receipts.append('tool_call', s.caller, {
        ...this.#body(s),
        outcome: fw.result.isError ? 'tool_error' : 'ok',
        cost: { estimated, actual, currency: tool.currency },
        result_sha256: sha256Hex(fw.json),
        ...(fw.truncated ? { truncated: true } : {}),
        ...(fw.flags.length ? { flags: fw.flags } : {}),
      });
    });
    // Every outcome is logged with its receipt id (never an argument value).
    d.logger.info('tool call', {
      tool: s.toolName,
      caller: s.caller,
      outcome: fw.result.isError ? 'tool_error' : 'ok',
      receipt: receipt.id,
      ms: elapsed(s),
    });

    // 12. Return with provenance.
    return {
      ok: true,
      result: fw.result,
      receipt_id: receipt.id,
      origin: tool.descriptor.origin,
      ...(s.payment ? { payment: s.payment } : {}),
    };
  }

  #settle(reservation: Reservation | undefined, tool: Tool, amount: number, now: Date): void {
    const d = this.#d;
    if (reservation) d.ledger.settle(reservation, amount, now);
    else if (amount > 0)
      d.ledger.settle(d.ledger.reserve(tool.descriptor.name, tool.descriptor.category, amount, now), amount, now);
    d.telemetry.recordSpend(tool.descriptor.name, tool.currency, amount);
  }

  async #fail(
    s: CallState,
    code: ErrorCode,
    message: string,
    detail?: string,
    reservation?: Reservation,
    spent = 0,
  ): Promise<ToolCallResponse> {
    const d = this.#d;
    s.span.stage('receipt');
    let receiptId: string;
    try {
      receiptId = (
        await d.commits.run(() => {
          if (reservation && s.tool) this.#settle(reservation, s.tool, spent, new Date());
          return d.receipts.append('tool_call', s.caller, {
            ...this.#body(s),
            outcome: code,
            error: code,
            // Scrub before clipping: a cut through a secret would leave its first part.
            ...(detail ? { detail: clip(d.scrubber.scrub(detail), 1000) } : {}),
            ...(s.estimated !== undefined && reservation ? { cost: { estimated: s.estimated, actual: spent } } : {}),
          });
        })
      ).id;
    } catch (e) {
      return this.#unrecorded(s, e);
    }
    d.logger.info('tool call', {
      tool: clip(s.toolName),
      caller: s.caller,
      outcome: code,
      receipt: receiptId,
      ms: elapsed(s),
    });
    return { ok: false, receipt_id: receiptId, error: { code, message } };
  }

  /**
   * Fail closed when the call's receipt cannot be written (the database is locked by another
   * process or refuses writes): the caller gets no result, and the log keeps what the receipt
   * would have said — whether the call ran, and the spend reservation stays counted.
   */
  #unrecorded(s: CallState, e: unknown): ToolCallResponse {
    this.#d.logger.error('receipt append failed: failing closed', {
      tool: clip(s.toolName),
      caller: s.caller,
      call_hash: s.hash,
      ran: s.ran === true,
      ...(s.approvalId ? { approval: s.approvalId } : {}),
      error: e,
    });
    const message =
      e instanceof StoreBusyError
        ? e.message
        : 'the Briefcase could not record this call, so it does not return its result; try again later';
    return { ok: false, receipt_id: null, error: { code: 'unavailable', message } };
  }

  #body(s: CallState): Record<string, unknown> {
    return {
      tool: clip(s.toolName),
      ...(s.tool
        ? { origin: s.tool.descriptor.origin, server: s.tool.server, category: s.tool.descriptor.category }
        : {}),
      call_hash: s.hash,
      ...(s.receiptArgs ? { args: s.receiptArgs } : {}),
      ...(s.policy ? { policy: s.policy } : {}),
      ...(s.budgetOver ? { budget_over: s.budgetOver } : {}),
      ...(s.approvalId ? { approval_id: s.approvalId } : {}),
      ...(s.payment ? { payment: s.payment } : {}),
      ms: elapsed(s),
    };
  }
}
