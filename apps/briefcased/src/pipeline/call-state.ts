import type { Tier } from '@briefcase/policy';
import { ERROR_CODES, type ErrorCode } from '@briefcase/protocol';
import type { CallSpan } from '@briefcase/telemetry';
import type { Tool } from '../tools/tool.ts';

export type Caller = 'agent' | 'admin';

/** What the pipeline has learnt about one call so far; the receipt body is built from it. */
export interface CallState {
  caller: Caller;
  toolName: string;
  hash: string;
  tool?: Tool;
  receiptArgs?: Record<string, unknown>;
  policy?: { decision: string; tier: Tier | null; policies: string[] };
  estimated?: number;
  budgetOver?: string[];
  approvalId?: string;
  /**
   * A payment approval the admission consumed to let this call run (it approved the call and
   * one exact payment): the payment step uses it for that payment only.
   */
  prepaid?: { approvalId: string; paymentHash: string };
  /** Public facts of the payment this call made (docs/payments.md), for its receipt and `_meta`. */
  payment?: Record<string, string>;
  /** Execution started: the call may have had effects (logged if its receipt cannot be written). */
  ran?: boolean;
  started: number;
  /** The call's trace span (a no-op unless telemetry is on); each pipeline stage is a child. */
  span: CallSpan;
}

export function elapsed(s: CallState): number {
  return Math.round((performance.now() - s.started) * 1000) / 1000;
}

/** Receipts are JCS: the cut must not leave half a surrogate pair, nor may the text carry one. */
export function clip(text: string, max = 256): string {
  return (text.length > max ? `${text.slice(0, max)}…` : text).toWellFormed();
}

export function toToolErrorCode(code: string): ErrorCode {
  // A locked vault, or a command tool on a platform with no OS sandbox (Windows): the message says which.
  if (code === 'vault_locked' || code === 'unsupported_platform') return 'unavailable';
  return (ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'internal';
}
