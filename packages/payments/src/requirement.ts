/**
 * Rail-neutral description of what a `402 Payment Required` asks for. Every rail's parser
 * produces these; policy, grants, budgets and approvals look only at these fields, never at the
 * rail's own wire format. Runtime-neutral: no Node built-ins.
 */

/** The payment rails Briefcase speaks. */
export const RAILS = ['x402', 'l402'] as const;
export type Rail = (typeof RAILS)[number];

/**
 * An amount in the asset's smallest unit (token base units for an ERC-20, millisatoshi for
 * Lightning), as a canonical decimal string: digits only, no sign, no leading zeros ("0" is
 * zero). Strings, not numbers: 2^53 is a small amount of wei, and JSON has no bigint.
 */
export type AtomicAmount = string;

export interface PaymentRequirement {
  rail: Rail;
  /**
   * Where the payment settles. x402: the CAIP-2 chain id (`eip155:8453`, `eip155:31337`).
   * L402: `bip122:<genesis-hash-prefix>` style CAIP-2 is not used by LND, so the rail names the
   * BOLT11 network prefix as `lightning:<bc|tb|bcrt|…>`.
   */
  network: string;
  /**
   * What is paid. x402/EVM: the token contract address, lowercase 0x-hex. L402: `msat`
   * (amounts in millisatoshi). Compared exactly: an asset is never converted into another.
   */
  asset: string;
  /** Amount to pay, atomic units (see AtomicAmount). */
  amount: AtomicAmount;
  /** Who is paid. x402: the `payTo` address, lowercase. L402: the destination node's pubkey hex. */
  payee: string;
  /**
   * Fees the rail may add on top of `amount` (L402: LND's routing fee limit, from
   * `payments.l402.max_fee_msat`), atomic units of the same asset; absent = none (x402: the
   * facilitator pays gas). The grant, budgets and approval threshold see `amount + maxFee`.
   */
  maxFee?: AtomicAmount;
  /** When the offer stops being payable (ms since the epoch), if the rail says. */
  expiresAt?: number;
  /** The URL (or MCP tool) the payment is for, as the server named it. */
  resource: string;
  /**
   * The rail's own offer, needed to pay it (x402: the chosen PaymentRequirements object; L402:
   * macaroon and invoice). Opaque to everything but the backend that produced it; never shown to
   * the agent and never receipted (an L402 macaroon is a bearer credential once paid).
   */
  readonly offer: unknown;
}

const ATOMIC = /^(0|[1-9][0-9]*)$/;

/** True for a canonical atomic amount string. */
export function isAtomicAmount(value: unknown): value is AtomicAmount {
  return typeof value === 'string' && value.length <= 78 && ATOMIC.test(value);
}

/** Parse a canonical atomic amount; throws TypeError naming the bad value otherwise. */
export function atomic(value: string): bigint {
  if (!isAtomicAmount(value)) {
    throw new TypeError(`not an atomic amount (digits only, no leading zeros): ${JSON.stringify(value).slice(0, 80)}`);
  }
  return BigInt(value);
}

/** Format a non-negative bigint as an atomic amount. */
export function toAtomic(value: bigint): AtomicAmount {
  if (value < 0n) throw new RangeError('an atomic amount is never negative');
  return value.toString(10);
}

/** The most an offer can cost: its amount plus the rail's fee allowance. */
export function maxCost(r: Pick<PaymentRequirement, 'amount' | 'maxFee'>): bigint {
  return atomic(r.amount) + (r.maxFee === undefined ? 0n : atomic(r.maxFee));
}

/** The key that separates budgets: amounts under different keys never add up. */
export function assetKey(r: Pick<PaymentRequirement, 'rail' | 'network' | 'asset'>): string {
  return `${r.rail}|${r.network}|${r.asset}`;
}
