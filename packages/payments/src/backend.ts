import type { SpendingGrant } from './grant.ts';
import type { AtomicAmount, PaymentRequirement, Rail } from './requirement.ts';

/**
 * One payment rail (x402, L402, …) behind one interface. The daemon owns the order of steps;
 * a backend only speaks its rail. Runtime-neutral types; implementations may use Node.
 *
 * ## The retry contract (what the daemon does, in this order)
 *
 * 1. The upstream answers 402. The daemon builds a `Challenge` and asks every backend to
 *    `parse` it; the first that returns offers wins. `[]` means "not my rail"; a throw
 *    (`PaymentError('malformed_challenge')`) means "my rail, but broken" and ends the call.
 * 2. The daemon picks one offer and checks it BEFORE paying: policy, the grant (rail, network,
 *    asset, payee, purpose, expiry, revocation), the tool's declared estimate, budgets, velocity,
 *    approvals — each with the offer's amount plus its fee allowance (`maxFee`). Then it
 *    RESERVES that sum in the durable spend ledger under a fresh one-time
 *    `budgetId` (fsync'd before step 3), and builds a `PaymentAuthorization` from the checked
 *    grant.
 * 3. `pay(requirement, authorization)` makes the proof. It MUST refuse (throw
 *    `PaymentError('over_authorization' | 'signing_refused')`) if the requirement does not fit the
 *    authorization exactly (rail, network, asset, payee; amount + fees ≤ maxAmount; not expired). For
 *    x402 no money moves yet (a signed EIP-3009 authorization); for L402 money moves here (the
 *    invoice is paid) — `proof.moneyMoved` says which. Before money can move, `pay` calls
 *    `record(ref)` and the daemon stores the ref with the reservation.
 * 4. The daemon repeats the SAME request once, with `proof.retryHeaders` added. No second
 *    payment on the same challenge: a second 402 ends the call.
 * 5. `confirm(proof, response)` verifies the settlement from the rail itself (the chain, LND),
 *    never from the server's word alone, and returns the facts. The daemon settles the ledger
 *    entry with `settlement.amount` (what was really paid), or releases it when
 *    `settlement.status === 'not_settled'`. `'unknown'` keeps the reservation counted until
 *    `recover` answers.
 * 6. After a crash, every ledger entry still `reserved` is passed to `recover`, which looks the
 *    payment up on the rail by `ref` and says settled or not; nothing is counted twice.
 *
 * The agent never sees anything from `offer`, `PaymentProof.retryHeaders`, keys or signatures;
 * it sees the result and the public `Settlement` facts.
 */
export interface PaymentBackend {
  readonly rail: Rail;
  /** Offers in this challenge this backend can pay; `[]` when it is not this rail's challenge. */
  parse(challenge: Challenge): PaymentRequirement[];
  /**
   * Produce the proof for the retry; see the contract, step 3. `record(ref)` MUST be called with
   * the payment's public reference BEFORE any money can move (L402: before LND is asked to pay;
   * the payment hash is in the invoice); the daemon writes it durably, so that after a crash
   * `recover` can look the payment up. A reserved entry without a ref never left the daemon.
   */
  pay(
    requirement: PaymentRequirement,
    authorization: PaymentAuthorization,
    record: (ref: string) => void,
  ): Promise<PaymentProof>;
  /** Verify what the retry settled; see the contract, step 5. */
  confirm(proof: PaymentProof, response: RetryResponse): Promise<Settlement>;
  /**
   * Headers that already prove payment for `url` (L402: a paid token cached per service), sent
   * on the first request so a paid service is not paid again. Optional: x402 pays per request.
   * SECRET like `PaymentProof.retryHeaders`.
   */
  credentialFor?(url: string): Readonly<Record<string, string>> | undefined;
  /** The upstream refused the headers from `credentialFor` (401/402): forget them. */
  credentialRefused?(url: string, headers: Readonly<Record<string, string>>): void;
  /** Find out, after a crash, whether a reserved payment settled; see the contract, step 6. */
  recover(pending: PendingPayment): Promise<Settlement>;
}

/** A 402 answer as the daemon received it. Header names are lowercase. */
export interface Challenge {
  /** The URL that answered 402 (or `mcp:<server>/<tool>` for an MCP tool result). */
  url: string;
  status: number;
  headers: Readonly<Record<string, string>>;
  /** The body as text (bounded by the caller), or undefined. */
  body?: string;
}

/**
 * What the checked grant lets this one payment do — built by the daemon after every check
 * passed, and the only thing the payment-helper signs against. `maxAmount` is the requirement's
 * amount plus its fee allowance (`maxFee`), and is what the grant and the ledger reserved.
 */
export interface PaymentAuthorization {
  /** One-time id for this payment; the ledger refuses a second use. */
  budgetId: string;
  grantId: string;
  rail: Rail;
  network: string;
  asset: string;
  payee: string;
  /** The most this payment may cost, fees included: the requirement's amount + `maxFee`. */
  maxAmount: AtomicAmount;
  /** Of `maxAmount`, what the rail may spend on fees (L402: LND's `fee_limit_msat`); absent = none. */
  maxFee?: AtomicAmount;
  /** ms since the epoch; the helper refuses to sign after it. */
  expiresAt: number;
  /** The signed grant it was checked against: the payment-helper verifies it again itself. */
  grant?: SpendingGrant;
}

/** The result of `pay`: what the daemon adds to the retry, and how to find the payment later. */
export interface PaymentProof {
  rail: Rail;
  budgetId: string;
  requirement: PaymentRequirement;
  /**
   * Headers for the retry (x402: `PAYMENT-SIGNATURE`; L402: `Authorization`). SECRET: they leave
   * the daemon only on the retry to the same origin; never logged, receipted or returned.
   */
  readonly retryHeaders: Readonly<Record<string, string>>;
  /** Public reference to look the payment up on the rail (x402: `<from>:<nonce>`; L402: payment hash). */
  ref: string;
  /** True when money already moved inside `pay` (L402); false when the server settles (x402). */
  moneyMoved: boolean;
}

/** The retry's answer, as much as `confirm` needs. Header names are lowercase. */
export interface RetryResponse {
  status: number;
  headers: Readonly<Record<string, string>>;
}

/** Public settlement facts: safe for receipts, `_meta` and logs. */
export interface Settlement {
  status: 'settled' | 'not_settled' | 'unknown';
  rail: Rail;
  network: string;
  asset: string;
  payee: string;
  /** What was actually paid (atomic units), fees included; "0" unless settled. */
  amount: AtomicAmount;
  /** Of `amount`, the fee the rail reported (L402: LND's `fee_msat`); absent when none applies. */
  fee?: AtomicAmount;
  /** x402: the transaction hash; L402: the payment hash. Absent unless known. */
  txRef?: string;
  /** Why not settled / unknown, for the receipt (no secrets). */
  note?: string;
}

/** A reserved ledger entry whose outcome is not known yet (crash recovery input). */
export interface PendingPayment {
  budgetId: string;
  rail: Rail;
  network: string;
  asset: string;
  payee: string;
  amount: AtomicAmount;
  ref: string;
}
