import {
  decodePaymentSignatureHeader,
  encodePaymentRequiredHeader,
  encodePaymentResponseHeader,
} from '@x402/core/http';
import type { PaymentRequired, SettleResponse } from '@x402/core/types';
import type { Challenge, RetryResponse } from '../backend.ts';
import { PaymentError } from '../errors.ts';

/**
 * x402's MCP transport (specs/transports-v2/mcp.md), mapped onto the HTTP retry contract so the
 * same PaymentFlow and X402Backend pay it: a tool result with `isError: true` carrying a
 * `PaymentRequired` (in `structuredContent`, `structuredContent["x402/error"].data`, or the JSON
 * of `content[0].text`, in that order) becomes a 402 `Challenge`; the proof goes back in the
 * retry's `_meta["x402/payment"]` (a PaymentPayload object, not base64); the retry's
 * `_meta["x402/payment-response"]` is the settlement claim `confirm` checks on chain.
 */
export interface McpToolResult {
  isError?: boolean | undefined;
  structuredContent?: Record<string, unknown> | undefined;
  content?: readonly unknown[] | undefined;
  _meta?: Record<string, unknown> | undefined;
}

export const MCP_PAYMENT_META = 'x402/payment';
export const MCP_PAYMENT_RESPONSE_META = 'x402/payment-response';

/** The most of `content[0].text` read for a PaymentRequired (a hostile server's text is bounded). */
const MAX_TEXT = 65_536;

/** The PaymentRequired in a tool result, or undefined when the result does not ask for payment. */
export function mcpPaymentRequired(result: McpToolResult): PaymentRequired | undefined {
  if (result.isError !== true) return undefined;
  const sc = result.structuredContent;
  if (isRequired(sc)) return sc;
  const wrapped = (sc?.['x402/error'] as { data?: unknown } | undefined)?.data;
  if (isRequired(wrapped)) return wrapped;
  const first = result.content?.[0] as { type?: unknown; text?: unknown } | undefined;
  if (first?.type !== 'text' || typeof first.text !== 'string' || first.text.length > MAX_TEXT) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(first.text);
  } catch {
    return undefined;
  }
  if (isRequired(parsed)) return parsed;
  const data = (parsed as { 'x402/error'?: { code?: unknown; data?: unknown } } | null)?.['x402/error'];
  return data?.code === 402 && isRequired(data.data) ? data.data : undefined;
}

/** A tool result asking for payment, as the 402 challenge the rails parse; undefined otherwise. */
export function mcpChallenge(resource: string, result: McpToolResult): Challenge | undefined {
  const required = mcpPaymentRequired(result);
  if (!required) return undefined;
  return { url: resource, status: 402, headers: { 'payment-required': encodePaymentRequiredHeader(required) } };
}

/** The retry's `_meta` from the proof's headers. SECRET like the headers: only for the retry. */
export function mcpPaymentMeta(retryHeaders: Readonly<Record<string, string>>): Record<string, unknown> {
  const header = retryHeaders['payment-signature'];
  if (!header) throw new PaymentError('unsupported_offer', 'only x402 payments can be sent to an MCP server');
  return { [MCP_PAYMENT_META]: decodePaymentSignatureHeader(header) };
}

/** The retry's answer for `confirm`: a result asking for payment again is a second 402. */
export function mcpRetryResponse(result: McpToolResult): RetryResponse {
  const headers: Record<string, string> = {};
  const settle = result._meta?.[MCP_PAYMENT_RESPONSE_META] as SettleResponse | undefined;
  if (settle && typeof settle === 'object') {
    try {
      headers['payment-response'] = encodePaymentResponseHeader(settle);
    } catch {
      // An unencodable claim is no claim: the chain decides.
    }
  }
  return { status: mcpPaymentRequired(result) ? 402 : result.isError ? 500 : 200, headers };
}

function isRequired(v: unknown): v is PaymentRequired {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as { x402Version?: unknown }).x402Version === 2 &&
    Array.isArray((v as { accepts?: unknown }).accepts)
  );
}
