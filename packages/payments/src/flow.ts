import type { Challenge, PaymentBackend, PaymentProof, RetryResponse, Settlement } from './backend.ts';
import { PaymentError } from './errors.ts';
import { checkOffer, type OfferDecision } from './grant-check.ts';
import { verifyGrant, type GrantTrust } from './grant-doc.ts';
import type { SpendingGrant, StoredGrant } from './grant.ts';
import type { LedgerEntry, SpendLedger } from './ledger.ts';
import { maxCost, toAtomic, type PaymentRequirement } from './requirement.ts';

export interface PaymentFlowDeps {
  backends: readonly PaymentBackend[];
  ledger: SpendLedger;
  /** Every stored grant (revoked ones too: they are refused by name). */
  grants: () => StoredGrant[];
  trust: () => Omit<GrantTrust, 'now'>;
  now?: () => number;
  newBudgetId?: () => string;
  /**
   * Policy (`payments.approve_new_payees`): the first payment to a payee this daemon never paid
   * (no settled entry on the same rail and network) needs a person's approval.
   */
  approveNewPayees?: () => boolean;
}

/** The call a 402 interrupted: what it is for and what its tool declared it would cost. */
export interface PaidCall {
  /** The tool name first, then its tags: matched against grant purposes. */
  purposes: readonly string[];
  /** Declared estimate in the offer's asset, atomic units, if the tool declares one for it. */
  estimate?: (offer: PaymentRequirement) => bigint | undefined;
  /**
   * A payment only a person may let through (above the grant's approval threshold, above the
   * tool's estimate): consume a person's approval of exactly this offer and return its id, or
   * throw (the daemon asks for one). Absent: such a payment is refused (`approval_needed`).
   * Called only for an offer that passed every hard check; the ledger's reserve still follows.
   */
  approve?: (request: PaymentApprovalRequest) => Promise<string>;
}

/** What a person is asked to approve: one offer, under one grant, and why. */
export interface PaymentApprovalRequest {
  offer: PaymentRequirement;
  grantId: string;
  reasons: readonly string[];
}

/** What happened, for the receipt and `_meta`: public facts only. */
export interface PaymentOutcome<T> {
  settlement: Settlement;
  grantId: string;
  budgetId: string;
  /** The person's approval this payment used, if it needed one. */
  approvalId?: string;
  /** The retry's answer; absent when the retry itself failed (`retryError`). */
  retry?: T;
  retryError?: unknown;
}

/** A refusal before any money moved, with what the receipt should say. */
export interface PaymentRefusal {
  error: PaymentError;
  offer?: PaymentRequirement;
  grantId?: string;
}

/**
 * The daemon's side of the retry contract (backend.ts): choose an offer a grant covers, check it,
 * reserve durably, pay, retry once with the proof, confirm from the rail, settle the ledger.
 */
export class PaymentFlow {
  readonly #d: PaymentFlowDeps;
  /** Budget ids this process is paying right now (reserved, not yet finished). */
  readonly #inFlight = new Set<string>();

  constructor(deps: PaymentFlowDeps) {
    this.#d = deps;
  }

  /** Does any backend recognise this 402? (Cheap; no checks.) */
  offers(challenge: Challenge): PaymentRequirement[] {
    return this.#d.backends.flatMap((b) => b.parse(challenge));
  }

  /** A credential a backend holds for `url` (a paid L402 token), to send before any 402. */
  credentialFor(url: string): Readonly<Record<string, string>> | undefined {
    for (const b of this.#d.backends) {
      const h = b.credentialFor?.(url);
      if (h) return h;
    }
    return undefined;
  }

  /** The upstream refused a credential from `credentialFor`: every backend forgets it. */
  credentialRefused(url: string, headers: Readonly<Record<string, string>>): void {
    for (const b of this.#d.backends) b.credentialRefused?.(url, headers);
  }

  async pay<T>(
    challenge: Challenge,
    call: PaidCall,
    retry: (headers: Readonly<Record<string, string>>) => Promise<{ response: RetryResponse; value: T }>,
  ): Promise<PaymentOutcome<T>> {
    const now = this.#now();
    const offers = this.offers(challenge);
    if (offers.length === 0)
      throw refusal(new PaymentError('unsupported_offer', `no payable offer in the 402 from ${challenge.url}`));
    const { offer, grant, approvalReasons } = this.#choose(offers, call, now);
    const backend = this.#d.backends.find((b) => b.rail === offer.rail)!;
    // Hard limits were checked in #choose and are checked again by the reserve below: an
    // approval only ever lifts the approval reasons, never a limit.
    let approvalId: string | undefined;
    if (approvalReasons.length) {
      if (!call.approve) {
        throw refusal(new PaymentError('approval_needed', approvalReasons.join('; ')), offer, grant.grantId);
      }
      approvalId = await call.approve({ offer, grantId: grant.grantId, reasons: approvalReasons });
    }
    const approved = approvalId ? { approvalId } : {};
    const budgetId = (this.#d.newBudgetId ?? (() => crypto.randomUUID()))();
    // Reserved: the most the payment can cost (amount + fee allowance); `finish` settles what
    // the rail reports as really paid, and the difference is released with it.
    const maxAmount = toAtomic(maxCost(offer));
    try {
      this.#d.ledger.reserve({
        grant,
        budgetId,
        rail: offer.rail,
        network: offer.network,
        asset: offer.asset,
        payee: offer.payee,
        amount: maxAmount,
        purpose: call.purposes[0] ?? '',
        now,
      });
    } catch (e) {
      throw refusal(e as PaymentError, offer, grant.grantId);
    }
    // The sweep leaves a payment in flight alone: its ref may not be recorded yet, or its proof
    // not yet sent, and the rail would answer "not paid" for a payment about to be made.
    this.#inFlight.add(budgetId);
    try {
      let proof: PaymentProof;
      try {
        proof = await backend.pay(
          offer,
          {
            budgetId,
            grantId: grant.grantId,
            rail: offer.rail,
            network: offer.network,
            asset: offer.asset,
            payee: offer.payee,
            maxAmount,
            maxFee: offer.maxFee ?? '0',
            expiresAt: Math.min(Date.parse(grant.expiresAt), now + 5 * 60_000),
            grant,
          },
          (ref) => this.#d.ledger.attachRef(budgetId, ref),
        );
      } catch (e) {
        // Nothing left the daemon (x402), or the rail refused (L402): release, unless a ref was
        // recorded — then money may have moved, and the rail decides.
        const entry = this.#entry(budgetId);
        if (!entry?.ref) {
          this.#d.ledger.finish(budgetId, notSettled(offer, 'payment was not made'));
          const error = e instanceof PaymentError ? e : new PaymentError('payment_rejected', String(e));
          throw refusal(error, offer, grant.grantId);
        }
        const settlement = await backend.recover({ ...offer, budgetId, ref: entry.ref });
        this.#d.ledger.finish(budgetId, settlement);
        return { settlement, grantId: grant.grantId, budgetId, ...approved, retryError: e };
      }
      let answer: { response: RetryResponse; value: T } | undefined;
      let retryError: unknown;
      try {
        answer = await retry(proof.retryHeaders);
      } catch (e) {
        retryError = e;
      }
      let settlement: Settlement;
      try {
        settlement = await backend.confirm(proof, answer?.response ?? { status: 0, headers: {} });
      } catch (e) {
        settlement = {
          ...notSettled(offer, `settlement could not be checked: ${(e as Error).message}`),
          status: 'unknown',
        };
      }
      this.#d.ledger.finish(budgetId, settlement);
      return {
        settlement,
        grantId: grant.grantId,
        budgetId,
        ...approved,
        ...(answer ? { retry: answer.value } : {}),
        ...(retryError !== undefined ? { retryError } : {}),
      };
    } finally {
      this.#inFlight.delete(budgetId);
    }
  }

  /**
   * After a restart: ask the rail about every reservation whose outcome is unknown. Entries with
   * no ref never left the daemon and are released. Returns what changed, for receipts.
   */
  async recover(minAgeMs = 0): Promise<{ entry: LedgerEntry; settlement: Settlement }[]> {
    const out: { entry: LedgerEntry; settlement: Settlement }[] = [];
    // While the daemon runs, only reservations older than any call can be (minAgeMs) are
    // looked at: a younger one may be a payment whose retry is still in flight.
    const before = this.#now() - minAgeMs;
    const due = this.#d.ledger.pending().filter((e) => e.reservedAt <= before && !this.#inFlight.has(e.budgetId));
    for (const entry of due) {
      const backend = this.#d.backends.find((b) => b.rail === entry.rail);
      let settlement: Settlement;
      if (!entry.ref) settlement = notSettled(entry, 'the payment never left the daemon');
      else if (!backend) continue;
      else {
        try {
          settlement = await backend.recover({ ...entry, ref: entry.ref });
        } catch (e) {
          settlement = { ...notSettled(entry, `rail unreachable: ${(e as Error).message}`), status: 'unknown' };
        }
      }
      out.push({ entry: this.#d.ledger.finish(entry.budgetId, settlement), settlement });
    }
    return out;
  }

  #choose(
    offers: PaymentRequirement[],
    call: PaidCall,
    now: number,
  ): { offer: PaymentRequirement; grant: SpendingGrant; approvalReasons: string[] } {
    const trust = { ...this.#d.trust(), now };
    let best: PaymentRefusal | undefined;
    // An offer a person could approve: taken only when no offer passes without one.
    let approvable: { offer: PaymentRequirement; grant: SpendingGrant; approvalReasons: string[] } | undefined;
    const stored = this.#d.grants();
    for (const offer of offers) {
      for (const s of stored) {
        let decision: OfferDecision;
        let grant: SpendingGrant;
        // A grant for other purposes says nothing about this call: it only explains a refusal
        // when no grant for this purpose exists.
        if (!call.purposes.some((p) => s.grant.purposes?.includes(p))) {
          const e = new PaymentError('purpose_not_allowed', `no grant allows paying for ${call.purposes[0] ?? '?'}`);
          if (!best) best = { error: e, offer };
          continue;
        }
        try {
          grant = verifyGrant(s, trust);
          decision = checkOffer(grant, offer, { purposes: call.purposes, estimate: call.estimate?.(offer), now });
        } catch (e) {
          const r = { error: e as PaymentError, offer, grantId: s.grant.grantId };
          if (!best || rank(r.error) > rank(best.error)) best = r;
          continue;
        }
        if (this.#d.approveNewPayees?.() && !this.#paidBefore(offer, grant.grantId)) {
          decision.approvalReasons.push(`${offer.payee} was never paid before (policy: approve new payees)`);
        }
        if (decision.approvalReasons.length) {
          approvable ??= { offer, grant, approvalReasons: decision.approvalReasons };
          const r = {
            error: new PaymentError('approval_needed', decision.approvalReasons.join('; ')),
            offer,
            grantId: grant.grantId,
          };
          if (!best || rank(r.error) > rank(best.error)) best = r;
          continue;
        }
        return { offer, grant, approvalReasons: [] };
      }
    }
    if (approvable) return approvable;
    throw best
      ? refusal(best.error, best.offer, best.grantId)
      : refusal(new PaymentError('no_grant', 'no spending grant exists'), offers[0]);
  }

  #paidBefore(offer: PaymentRequirement, grantId: string): boolean {
    try {
      return this.#d.ledger
        .entries()
        .some(
          (e) =>
            e.state === 'settled' && e.payee === offer.payee && e.rail === offer.rail && e.network === offer.network,
        );
    } catch (e) {
      throw refusal(e as PaymentError, offer, grantId);
    }
  }

  #entry(budgetId: string): LedgerEntry | undefined {
    return this.#d.ledger.pending().find((e) => e.budgetId === budgetId);
  }

  #now(): number {
    return (this.#d.now ?? Date.now)();
  }
}

/** Which refusal explains best why nothing was paid: a grant that covers the asset beats one that does not. */
function rank(e: PaymentError): number {
  const order = [
    'purpose_not_allowed',
    'grant_invalid',
    'asset_not_allowed',
    'payee_not_allowed',
    'grant_expired',
    'grant_revoked',
  ];
  const i = order.indexOf(e.reason);
  return i === -1 ? order.length : i;
}

function notSettled(r: Pick<PaymentRequirement, 'rail' | 'network' | 'asset' | 'payee'>, note: string): Settlement {
  return { status: 'not_settled', rail: r.rail, network: r.network, asset: r.asset, payee: r.payee, amount: '0', note };
}

/** A PaymentError carrying the offer and grant it was about (for the receipt). */
export class PaymentRefused extends PaymentError {
  readonly offer: PaymentRequirement | undefined;
  readonly grantId: string | undefined;
  constructor(e: PaymentError, offer?: PaymentRequirement, grantId?: string) {
    super(e.reason, (e.detail ?? '').replace(/^payment [a-z_]+: /, ''));
    this.offer = offer;
    this.grantId = grantId;
  }
}

function refusal(e: PaymentError, offer?: PaymentRequirement, grantId?: string): PaymentRefused {
  return new PaymentRefused(e, offer, grantId);
}
