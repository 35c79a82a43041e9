import { decodePaymentResponseHeader, encodePaymentSignatureHeader } from '@x402/core/http';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import type { Hex, PublicClient } from 'viem';
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
import { atomic, type PaymentRequirement } from '../requirement.ts';
import { chainClient, formatRef, parseRef, settlementOnChain } from './chain.ts';
import { parseX402, type X402Offer } from './parse.ts';
import type { X402Signer } from './signer.ts';

export interface X402BackendOptions {
  /** JSON-RPC endpoint per CAIP-2 network the daemon may pay on (e.g. `eip155:8453`). */
  rpc: Readonly<Record<string, string>>;
  signer: X402Signer;
  now?: () => number;
}

/**
 * x402 v2, `exact` scheme on EVM with EIP-3009 (coinbase/x402 specs/schemes/exact/
 * scheme_exact_evm.md). `pay` signs a TransferWithAuthorization through the signer (no money
 * moves); the server's facilitator settles it during the retry; `confirm` reads the chain.
 */
export class X402Backend implements PaymentBackend {
  readonly rail = 'x402' as const;
  readonly #o: X402BackendOptions;
  readonly #clients = new Map<string, PublicClient>();

  constructor(options: X402BackendOptions) {
    this.#o = options;
  }

  parse(challenge: Challenge): PaymentRequirement[] {
    return parseX402(challenge).filter((r) => this.#o.rpc[r.network] !== undefined);
  }

  async pay(
    requirement: PaymentRequirement,
    authorization: PaymentAuthorization,
    record: (ref: string) => void,
  ): Promise<PaymentProof> {
    withinAuthorization(requirement, authorization, this.#now());
    const offer = requirement.offer as X402Offer;
    const signer = this.#o.signer;
    let signed: Hex | undefined;
    // @x402/evm builds the EIP-712 message (nonce, validAfter/validBefore from maxTimeoutSeconds);
    // the signer checks it against the authorization before signing.
    const scheme = new ExactEvmScheme({
      address: signer.address,
      signTypedData: async (typed) => (signed = await signer.signTransfer(typed, authorization)),
    });
    const result = await scheme.createPaymentPayload(2, offer.accepted);
    const auth = (result.payload as { authorization?: { from: Hex; nonce: Hex; validBefore: string } }).authorization;
    if (!signed || !auth)
      throw new PaymentError('signing_refused', 'the x402 scheme produced no EIP-3009 authorization');
    const ref = formatRef({ from: auth.from, nonce: auth.nonce, validBefore: BigInt(auth.validBefore) });
    // The signed authorization leaves the daemon only on the retry, after this returns; the
    // ref is recorded first anyway, so recovery can ask the chain about this nonce.
    record(ref);
    const header = encodePaymentSignatureHeader({
      x402Version: 2,
      resource: offer.resource,
      accepted: offer.accepted,
      payload: result.payload,
      ...(result.extensions ? { extensions: result.extensions } : {}),
    });
    return {
      rail: 'x402',
      budgetId: authorization.budgetId,
      requirement,
      retryHeaders: { 'payment-signature': header },
      ref,
      moneyMoved: false,
    };
  }

  async confirm(proof: PaymentProof, response: RetryResponse): Promise<Settlement> {
    let claimed: Hex | undefined;
    const header = response.headers['payment-response'];
    if (header) {
      try {
        const settle = decodePaymentResponseHeader(header);
        if (settle.success && typeof settle.transaction === 'string') claimed = settle.transaction as Hex;
      } catch {
        // A malformed claim is no claim: the chain decides below.
      }
    }
    const r = proof.requirement;
    return settlementOnChain(this.#client(r.network), r, parseRef(proof.ref), claimed, this.#now());
  }

  async recover(pending: PendingPayment): Promise<Settlement> {
    return settlementOnChain(this.#client(pending.network), pending, parseRef(pending.ref), undefined, this.#now());
  }

  #client(network: string): PublicClient {
    const url = this.#o.rpc[network];
    if (!url) throw new PaymentError('unsupported_offer', `no RPC endpoint configured for ${network}`);
    let client = this.#clients.get(network);
    if (!client) this.#clients.set(network, (client = chainClient(url)));
    return client;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }
}

/** The backend's own check (contract step 3); the signer repeats it on the typed data. */
export function withinAuthorization(r: PaymentRequirement, a: PaymentAuthorization, now: number): void {
  const fits =
    r.rail === a.rail && r.network === a.network && r.asset === a.asset && r.payee === a.payee && now <= a.expiresAt;
  if (!fits || atomic(r.amount) > atomic(a.maxAmount)) {
    throw new PaymentError('over_authorization', 'the offer does not fit the payment authorization');
  }
}
