/**
 * The L402 rail behind `PaymentBackend` (contract in ../backend.ts). Money moves inside `pay`
 * (LND pays the invoice), so every check happens before `sendPayment`: the offer is re-decoded
 * from the invoice itself, and must match the requirement, the authorization and this node's
 * network, be unexpired, and cost at most `maxAmount` including routing fees. Each requirement
 * carries the fee allowance (`maxFee`, from `maxFeeMsat`), so the grant and the ledger reserve
 * amount + fees; LND is told that allowance as its fee limit, and the settlement is LND's
 * record of what it paid (amount + fee), so the unused allowance is released.
 */
import type {
  Challenge,
  PaymentAuthorization,
  PaymentBackend,
  PaymentProof,
  PendingPayment,
  RetryResponse,
  Settlement,
} from '../backend.ts';
import { PaymentError } from '../errors.ts';
import { atomic, toAtomic, type PaymentRequirement } from '../requirement.ts';
import { authorizationValue, parseL402Challenge, type L402Offer } from './challenge.ts';
import { checkInvoice, decodeInvoice } from './invoice.ts';
import { sendPayment, trackPayment, type LndConfig, type LndPayment } from './lnd.ts';
import { Redacted, type SecretValue } from './redacted.ts';
import { TokenCache } from './tokens.ts';

export const L402_ASSET = 'msat';

export interface L402BackendOptions {
  lnd: LndConfig;
  /** The network LND pays on, e.g. `lightning:bcrt` (regtest), `lightning:bc` (mainnet). */
  network: string;
  /** Routing fees accepted on top of an invoice, msat (also bounded by the authorization). */
  maxFeeMsat?: bigint;
  /** How long LND keeps trying routes, seconds. */
  payTimeoutSeconds?: number;
  now?: () => number;
}

/** What `offer` holds for an L402 requirement (never shown to the agent, never receipted). */
interface L402RequirementOffer extends L402Offer {
  paymentHash: string;
}

export class L402Backend implements PaymentBackend {
  readonly rail = 'l402' as const;
  readonly tokens = new TokenCache();
  readonly #opts: L402BackendOptions;
  readonly #now: () => number;

  constructor(opts: L402BackendOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  #feeCap(): bigint {
    return this.#opts.maxFeeMsat ?? 10_000n;
  }

  get network(): string {
    return this.#opts.network;
  }

  credentialFor(url: string): Readonly<Record<string, string>> | undefined {
    const token = this.tokens.get(url);
    return token ? { authorization: token.expose() } : undefined;
  }

  credentialRefused(url: string, headers: Readonly<Record<string, string>>): void {
    const token = this.tokens.get(url);
    if (token && token.expose() === headers['authorization']) this.tokens.drop(url, token);
  }

  parse(challenge: Challenge): PaymentRequirement[] {
    const header = challenge.headers['www-authenticate'];
    if (challenge.status !== 402 || !header) return [];
    let offers: L402Offer[];
    try {
      offers = parseL402Challenge(header);
    } catch (e) {
      throw new PaymentError('malformed_challenge', `WWW-Authenticate: ${(e as Error).message}`);
    }
    return offers.map((o) => {
      const inv = decodeInvoice(o.invoice);
      const offer: L402RequirementOffer = { ...o, paymentHash: inv.paymentHash };
      return {
        rail: 'l402',
        network: inv.network,
        asset: L402_ASSET,
        amount: inv.amountMsat,
        maxFee: toAtomic(this.#feeCap()),
        payee: inv.payee,
        expiresAt: inv.expiresAt,
        resource: challenge.url,
        offer,
      };
    });
  }

  async pay(
    req: PaymentRequirement,
    auth: PaymentAuthorization,
    record: (ref: string) => void = () => undefined,
  ): Promise<PaymentProof> {
    const offer = req.offer as L402RequirementOffer | undefined;
    if (req.rail !== 'l402' || !offer || typeof offer.invoice !== 'string') {
      throw new PaymentError('unsupported_offer', 'not an L402 requirement');
    }
    // The invoice is the truth: what LND will pay. Decode it again rather than trust the fields.
    const inv = decodeInvoice(offer.invoice);
    checkInvoice(inv, this.#opts.network, this.#now());
    const mismatch =
      inv.network !== req.network || inv.amountMsat !== req.amount || inv.payee !== req.payee
        ? 'the requirement does not match its invoice'
        : auth.rail !== 'l402' || auth.network !== inv.network || auth.asset !== L402_ASSET || auth.payee !== inv.payee
          ? 'the authorization is for another rail, network, asset or payee'
          : undefined;
    if (mismatch) throw new PaymentError('over_authorization', mismatch);
    if (auth.expiresAt <= this.#now()) throw new PaymentError('over_authorization', 'the authorization expired');
    const amount = atomic(inv.amountMsat);
    const max = atomic(auth.maxAmount);
    if (amount > max) {
      throw new PaymentError('over_authorization', `invoice asks ${amount} msat, authorized ${max} msat`);
    }
    // Fees count against the authorization: amount + fee limit never exceeds maxAmount, nor the
    // authorized fee allowance, nor this node's configured cap.
    const feeLimit = [max - amount, atomic(auth.maxFee ?? '0'), this.#feeCap()].reduce((a, b) => (b < a ? b : a));
    try {
      this.#opts.lnd.macaroon.expose(); // no credential for LND: refuse now, nothing can have moved
    } catch (e) {
      throw new PaymentError('signing_refused', `no LND macaroon: ${(e as Error).message}`);
    }
    // Durable before money can move: after a crash, `recover` finds the payment by this hash.
    record(inv.paymentHash);
    let paid: LndPayment;
    try {
      paid = await sendPayment(this.#opts.lnd, offer.invoice, {
        feeLimitMsat: toAtomic(feeLimit),
        timeoutSeconds: this.#opts.payTimeoutSeconds ?? 60,
      });
    } catch (e) {
      // The request may have reached LND: the outcome is unknown until `recover` tracks it.
      throw new PaymentError('settlement_unverified', `lnd: ${(e as Error).message}`);
    }
    if (paid.status === 'FAILED') {
      throw new PaymentError('payment_rejected', `lnd: payment failed (${paid.failureReason ?? 'no reason'})`);
    }
    if (paid.status !== 'SUCCEEDED' || !paid.preimage || paid.paymentHash !== inv.paymentHash) {
      throw new PaymentError('settlement_unverified', `lnd reported ${paid.status} without a valid preimage`);
    }
    const token = new Redacted(authorizationValue(offer.macaroon, paid.preimage.expose()));
    const proof: PaymentProof & { [TOKEN]: SecretValue; [PAID]: LndPayment } = {
      rail: 'l402',
      budgetId: auth.budgetId,
      requirement: req,
      ref: inv.paymentHash,
      moneyMoved: true,
      [TOKEN]: token,
      [PAID]: paid,
      retryHeaders: {},
    };
    // Not enumerable: a proof that ends up in a log or JSON does not carry the token.
    Object.defineProperty(proof, 'retryHeaders', {
      enumerable: false,
      get: () => ({ authorization: token.expose() }),
    });
    return proof;
  }

  async confirm(proof: PaymentProof, response: RetryResponse): Promise<Settlement> {
    const p = proof as PaymentProof & { [TOKEN]?: SecretValue; [PAID]?: LndPayment };
    const paid = p[PAID];
    if (!paid || !p[TOKEN]) return this.recover(pendingOf(proof));
    // The settlement is LND's record, not the server's word. A paid token the server refuses is
    // still money spent: settled, with a note for the receipt.
    if (response.status < 400) this.tokens.set(proof.requirement.resource, p[TOKEN]);
    return this.#settlement(
      proof.requirement.payee,
      paid,
      response.status < 400 ? undefined : `server answered ${response.status} to the paid token`,
    );
  }

  async recover(pending: PendingPayment): Promise<Settlement> {
    let paid: LndPayment;
    try {
      paid = await trackPayment(this.#opts.lnd, pending.ref);
    } catch (e) {
      const msg = (e as Error).message;
      // LND has no record: the payment was never sent (routerrpc ErrPaymentNotInitiated). Any
      // other error — a wrong route, a 404, no connection — leaves the outcome unknown.
      if (/payment isn't initiated/i.test(msg)) {
        return { ...base(pending), status: 'not_settled', amount: '0', note: 'lnd has no such payment' };
      }
      return { ...base(pending), status: 'unknown', amount: '0', note: `lnd: ${msg.slice(0, 200)}` };
    }
    if (paid.status === 'SUCCEEDED') return this.#settlement(pending.payee, paid);
    if (paid.status === 'FAILED') return { ...base(pending), status: 'not_settled', amount: '0', txRef: pending.ref };
    return { ...base(pending), status: 'unknown', amount: '0', txRef: pending.ref, note: `lnd: ${paid.status}` };
  }

  #settlement(payee: string, paid: LndPayment, note?: string): Settlement {
    const total = atomic(paid.valueMsat) + atomic(paid.feeMsat);
    const fee = paid.feeMsat === '0' ? undefined : `routing fee ${paid.feeMsat} msat included`;
    const text = [note, fee].filter(Boolean).join('; ');
    return {
      status: 'settled',
      rail: 'l402',
      network: this.#opts.network,
      asset: L402_ASSET,
      payee,
      amount: toAtomic(total),
      ...(paid.feeMsat === '0' ? {} : { fee: paid.feeMsat }),
      txRef: paid.paymentHash,
      ...(text ? { note: text } : {}),
    };
  }
}

const TOKEN = Symbol('l402.token');
const PAID = Symbol('l402.paid');

function pendingOf(proof: PaymentProof): PendingPayment {
  const r = proof.requirement;
  return {
    budgetId: proof.budgetId,
    rail: 'l402',
    network: r.network,
    asset: r.asset,
    payee: r.payee,
    amount: r.amount,
    ref: proof.ref,
  };
}

function base(p: PendingPayment): Pick<Settlement, 'rail' | 'network' | 'asset' | 'payee'> {
  return { rail: 'l402', network: p.network, asset: p.asset, payee: p.payee };
}
