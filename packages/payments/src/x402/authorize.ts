import type { PaymentAuthorization } from '../backend.ts';
import { PaymentError } from '../errors.ts';
import { atomic } from '../requirement.ts';

/**
 * The EIP-712 typed data the x402 `exact` scheme asks a wallet to sign (EIP-3009
 * TransferWithAuthorization), as @x402/evm hands it to `signTypedData`.
 */
export interface TypedDataRequest {
  domain: Record<string, unknown>;
  types: Record<string, unknown>;
  primaryType: string;
  message: Record<string, unknown>;
}

/**
 * Refuse to sign anything but one EIP-3009 transfer that fits the authorization exactly: the
 * token (verifyingContract) and chain are the authorized asset and network, the recipient is
 * the authorized payee, the value is at most the authorized amount, the signer is the payer,
 * and the authorization is still valid. Used by the payment-helper before every signature
 * (AC-6.1): whoever asks, a signature for anything else is never made.
 */
export function checkTransferAuthorization(
  req: TypedDataRequest,
  authz: PaymentAuthorization,
  from: string,
  now: number,
): void {
  const refuse = (why: string): never => {
    throw new PaymentError('signing_refused', `typed data refused: ${why}`);
  };
  if (req.primaryType !== 'TransferWithAuthorization') refuse(`primary type ${String(req.primaryType).slice(0, 40)}`);
  if (authz.rail !== 'x402') refuse('the authorization is not for x402');
  if (now > authz.expiresAt) refuse('the authorization expired');
  const chain = /^eip155:([0-9]{1,12})$/.exec(authz.network);
  if (!chain || Number(req.domain['chainId']) !== Number(chain[1]))
    refuse('chain id differs from the authorized network');
  if (lower(req.domain['verifyingContract']) !== authz.asset) refuse('token differs from the authorized asset');
  const m = req.message;
  if (lower(m['from']) !== from.toLowerCase()) refuse('from is not this wallet');
  if (lower(m['to']) !== authz.payee) refuse('recipient differs from the authorized payee');
  let value: bigint;
  try {
    value = BigInt(m['value'] as string | bigint);
  } catch {
    return refuse('value is not an integer');
  }
  if (value <= 0n || value > atomic(authz.maxAmount)) refuse('value exceeds the authorized amount');
  const validBefore = BigInt(m['validBefore'] as string | bigint);
  // EIP-3009 validBefore is in seconds; a signature that outlives the authorization by more
  // than its own window is refused (x402 maxTimeoutSeconds is the server's window).
  if (validBefore * 1000n > BigInt(authz.expiresAt) + 3_600_000n) refuse('validBefore is too far in the future');
}

function lower(v: unknown): string {
  return typeof v === 'string' ? v.toLowerCase() : '';
}
