import { z } from 'zod';
import { ERROR_CODES, API_ERROR_CODES } from './errors.ts';
import { ToolDescriptor, ToolName, ToolResult } from './tool.ts';

/** The daemon's local API: its paths (api-paths.ts) and a schema for every body. */
export { API_PATHS } from './api-paths.ts';

export const JsonObject = z.record(z.string(), z.unknown());

export const ToolCallRequest = z
  .object({
    tool: z.string().min(1).max(256),
    args: JsonObject.default({}),
  })
  .strict();
export type ToolCallRequest = z.infer<typeof ToolCallRequest>;

export const ApprovalTier = z.enum(['local', 'presence', 'signer']);
export type ApprovalTier = z.infer<typeof ApprovalTier>;

export const ApprovalStatus = z.enum(['pending', 'approved', 'rejected', 'expired', 'consumed']);
export type ApprovalStatus = z.infer<typeof ApprovalStatus>;

/**
 * A payment a person is asked to approve (docs/payments.md): exactly this offer, nothing else.
 * `hash` is over rail, network, asset, amount and payee; the approval is used only by the same
 * call meeting an offer with the same hash. Public facts only: never a signature or macaroon.
 */
export const PaymentApprovalView = z.object({
  rail: z.string(),
  network: z.string(),
  asset: z.string(),
  /** Atomic units (token base units, millisatoshi). */
  amount: z.string(),
  /** The asset's decimals when known (the tool's manifest, or 3 for msat → sat). */
  decimals: z.number().int().optional(),
  /** The amount for a person: "0.25 (250000 atomic units, 6 decimals)". */
  display: z.string(),
  payee: z.string(),
  grant_id: z.string(),
  hash: z.string(),
});
export type PaymentApprovalView = z.infer<typeof PaymentApprovalView>;

/** What a human sees before approving (DESIGN.md §4, AC-2.3). */
export const ApprovalView = z.object({
  id: z.string(),
  status: ApprovalStatus,
  tier: ApprovalTier,
  tool: z.string(),
  origin: z.string(),
  category: z.string(),
  args: JsonObject,
  call_hash: z.string(),
  reason: z.string(),
  reads: z.string().nullable(),
  changes: z.string().nullable(),
  estimated_cost: z.number().int(),
  currency: z.string(),
  requested_by: z.enum(['agent', 'admin']),
  created_at: z.string(),
  expires_at: z.string(),
  decided_at: z.string().nullable(),
  /** What the tool may reach (its access manifest, in one line), on the admin API only. */
  access: z.string().optional(),
  /** Present when what is approved is a payment the call's upstream asked for. */
  payment: PaymentApprovalView.optional(),
});
export type ApprovalView = z.infer<typeof ApprovalView>;

/** Present on `approval_required`: where and how to approve, and how long the gateway may hold. */
export const ApprovalHint = z.object({
  approval_id: z.string(),
  expires_at: z.string(),
  wait_ms: z.number().int().min(0),
  approve_command: z.string(),
});
export type ApprovalHint = z.infer<typeof ApprovalHint>;

export const WireError = z.object({
  code: z.enum([...ERROR_CODES, ...API_ERROR_CODES]),
  message: z.string(),
  approval: ApprovalHint.optional(),
});
export type WireError = z.infer<typeof WireError>;

export const ToolCallResponse = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    result: ToolResult,
    receipt_id: z.string(),
    origin: z.string(),
    /** What this call paid (public facts: rail, network, asset, amount, payee, tx), if it paid. */
    payment: z.record(z.string(), z.string()).optional(),
  }),
  z.object({
    ok: z.literal(false),
    error: WireError,
    receipt_id: z.string().nullable(),
  }),
]);
export type ToolCallResponse = z.infer<typeof ToolCallResponse>;

export const ToolListResponse = z.object({ tools: z.array(ToolDescriptor) });
export type ToolListResponse = z.infer<typeof ToolListResponse>;

export const ApprovalListResponse = z.object({ approvals: z.array(ApprovalView) });

export const PolicyDocument = z.object({ text: z.string().max(1_000_000) }).strict();
export type PolicyDocument = z.infer<typeof PolicyDocument>;

export const PolicyCheckResponse = z.object({
  ok: z.boolean(),
  errors: z.array(z.string()),
  warnings: z.array(z.string()),
  hash: z.string().nullable(),
});
export type PolicyCheckResponse = z.infer<typeof PolicyCheckResponse>;

export const SecretPutRequest = z
  .object({
    value: z
      .string()
      .min(1)
      .max(64 * 1024),
    description: z.string().max(500).optional(),
  })
  .strict();

export const SecretMetadata = z.object({
  name: z.string(),
  description: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  length: z.number().int(),
  /** Estimated guessing work; below 64 bits a secret is `weak`: not scrubbed, never given to a tool. */
  strength_bits: z.number().int(),
  weak: z.boolean(),
  injectable: z.boolean(),
});
export type SecretMetadata = z.infer<typeof SecretMetadata>;

export { ToolName };
