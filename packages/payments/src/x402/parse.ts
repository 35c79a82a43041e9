import { decodePaymentRequiredHeader } from '@x402/core/http';
import type { PaymentRequirements } from '@x402/core/types';
import type { Challenge } from '../backend.ts';
import { PaymentError } from '../errors.ts';
import { isAtomicAmount, type PaymentRequirement } from '../requirement.ts';

/** The part of an x402 offer the backend needs to pay it (PaymentRequirement.offer). */
export interface X402Offer {
  x402Version: 2;
  resource: { url: string; description?: string; mimeType?: string };
  accepted: PaymentRequirements;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const CAIP2_EVM = /^eip155:[0-9]{1,12}$/;

/**
 * x402 v2 (specs/transports-v2/http.md): a 402 with a base64 JSON `PAYMENT-REQUIRED` header.
 * Only `exact` on EVM with EIP-3009 is paid here (Permit2 and other schemes are skipped).
 * v1 (PaymentRequired in the body, `X-PAYMENT`) is not accepted.
 */
export function parseX402(challenge: Challenge): PaymentRequirement[] {
  const header = challenge.headers['payment-required'];
  if (challenge.status !== 402 || header === undefined) return [];
  let required;
  try {
    required = decodePaymentRequiredHeader(header);
  } catch {
    throw new PaymentError('malformed_challenge', 'PAYMENT-REQUIRED is not base64 JSON');
  }
  if (required.x402Version !== 2 || !Array.isArray(required.accepts)) {
    throw new PaymentError('malformed_challenge', `x402Version ${String(required.x402Version)} is not 2`);
  }
  const resourceUrl = typeof required.resource?.url === 'string' ? required.resource.url : challenge.url;
  const offers: PaymentRequirement[] = [];
  for (const accepted of required.accepts) {
    if (accepted?.scheme !== 'exact' || !CAIP2_EVM.test(String(accepted.network))) continue;
    if (accepted.extra?.['assetTransferMethod'] !== undefined && accepted.extra['assetTransferMethod'] !== 'eip3009')
      continue;
    if (!ADDRESS.test(accepted.asset) || !ADDRESS.test(accepted.payTo) || !isAtomicAmount(accepted.amount)) continue;
    if (typeof accepted.extra?.['name'] !== 'string' || typeof accepted.extra['version'] !== 'string') continue;
    const offer: X402Offer = { x402Version: 2, resource: { url: resourceUrl }, accepted };
    offers.push({
      rail: 'x402',
      network: accepted.network,
      asset: accepted.asset.toLowerCase(),
      amount: accepted.amount,
      payee: accepted.payTo.toLowerCase(),
      resource: resourceUrl,
      offer,
    });
  }
  return offers;
}
