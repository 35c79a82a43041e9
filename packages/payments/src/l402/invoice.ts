/**
 * BOLT11 decoding and the checks made BEFORE paying an invoice: signed, has an amount, is for the
 * network this node pays on, not expired, within what the authorization allows.
 */
import bolt11 from 'bolt11';
import { PaymentError } from '../errors.ts';

/** BOLT11 human-readable prefixes (BOLT 11 "Human-Readable Part") → our network names. */
export const LIGHTNING_NETWORKS = {
  bc: 'lightning:bc',
  tb: 'lightning:tb',
  tbs: 'lightning:tbs',
  bcrt: 'lightning:bcrt',
  sb: 'lightning:sb',
} as const;

export interface DecodedInvoice {
  /** `lightning:<bech32 prefix>`, e.g. `lightning:bcrt` for regtest. */
  network: string;
  /** Millisatoshi, canonical decimal. */
  amountMsat: string;
  paymentHash: string;
  /** The payee node's public key (hex), recovered from the signature. */
  payee: string;
  /** ms since the epoch. */
  expiresAt: number;
}

/** BOLT 11: `x` (expiry) defaults to 3600 seconds. */
const DEFAULT_EXPIRY_S = 3600;
const MAX_INVOICE_LENGTH = 7089; // the largest BOLT11 string LND accepts

/** Decode and sanity-check an invoice; throws PaymentError('malformed_challenge' | 'unsupported_offer'). */
export function decodeInvoice(invoice: string): DecodedInvoice {
  if (invoice.length > MAX_INVOICE_LENGTH) throw new PaymentError('malformed_challenge', 'invoice too long');
  let d: ReturnType<typeof bolt11.decode>;
  try {
    d = bolt11.decode(invoice);
  } catch (e) {
    throw new PaymentError('malformed_challenge', `invoice does not decode: ${(e as Error).message}`);
  }
  const prefix = d.network?.bech32;
  const network = prefix && Object.hasOwn(LIGHTNING_NETWORKS, prefix) ? `lightning:${prefix}` : undefined;
  if (!network) throw new PaymentError('unsupported_offer', `invoice for an unknown network ${d.prefix ?? ''}`);
  if (!d.complete || !d.payeeNodeKey || !/^0[23][0-9a-f]{64}$/.test(d.payeeNodeKey)) {
    throw new PaymentError('malformed_challenge', 'invoice is not signed by a node key');
  }
  const paymentHash = d.tagsObject.payment_hash;
  if (!paymentHash || !/^[0-9a-f]{64}$/.test(paymentHash)) {
    throw new PaymentError('malformed_challenge', 'invoice has no payment hash');
  }
  // An amountless invoice lets the payer choose the amount: an L402 server must name its price.
  if (!d.millisatoshis || !/^[1-9][0-9]*$/.test(d.millisatoshis)) {
    throw new PaymentError('unsupported_offer', 'invoice has no amount');
  }
  const timestamp = d.timestamp ?? 0;
  const expiry = d.tagsObject.expire_time ?? DEFAULT_EXPIRY_S;
  return {
    network,
    amountMsat: d.millisatoshis,
    paymentHash,
    payee: d.payeeNodeKey,
    expiresAt: (timestamp + expiry) * 1000,
  };
}

/** How long before its expiry an invoice is already refused: paying takes time. */
export const EXPIRY_MARGIN_MS = 10_000;

/** Refuse an invoice for another network or one that has (almost) expired. */
export function checkInvoice(inv: DecodedInvoice, network: string, now = Date.now()): void {
  if (inv.network !== network) {
    throw new PaymentError('offer_expired', `invoice is for ${inv.network}, this node pays on ${network}`);
  }
  if (inv.expiresAt - EXPIRY_MARGIN_MS <= now) {
    throw new PaymentError('offer_expired', `invoice expired at ${new Date(inv.expiresAt).toISOString()}`);
  }
}
