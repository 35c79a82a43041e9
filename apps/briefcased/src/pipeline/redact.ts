import { sha256Hex } from '@briefcase/crypto';
import { REDACTION } from '@briefcase/vault';

/** Arguments without the manifest's sensitive ones: what policy sees as `context.args`. */
export function withoutSensitive(args: Record<string, unknown>, sensitive: string[]): Record<string, unknown> {
  if (sensitive.length === 0) return args;
  return Object.fromEntries(Object.entries(args).filter(([k]) => !sensitive.includes(k)));
}

/** What an approver sees: sensitive arguments shown as "[redacted]", everything else as sent. */
export function forApproval(args: Record<string, unknown>, sensitive: string[]): Record<string, unknown> {
  if (sensitive.length === 0) return args;
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, sensitive.includes(k) ? REDACTION : v]));
}

const LONG = 512;

/**
 * What a receipt keeps: sensitive arguments redacted, long strings replaced by their hash and
 * length, so receipts stay small and still prove which value was used.
 */
export function forReceipt(args: Record<string, unknown>, sensitive: string[]): Record<string, unknown> {
  const shrink = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return v.length > LONG ? `sha256:${sha256Hex(v)} (${v.length} chars)` : v;
    if (depth > 4) return `sha256:${sha256Hex(JSON.stringify(v))}`;
    if (Array.isArray(v)) return v.map((x) => shrink(x, depth + 1));
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shrink(x, depth + 1)]));
    }
    return v;
  };
  return Object.fromEntries(
    Object.entries(args).map(([k, v]) => [k, sensitive.includes(k) ? REDACTION : shrink(v, 0)]),
  );
}
