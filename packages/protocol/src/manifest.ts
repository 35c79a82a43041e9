import { z } from 'zod';
import { AccessManifest } from './access.ts';
import { ToolCategory, ToolName } from './tool.ts';

/**
 * The most one call may pay when its upstream asks for payment (docs/payments.md), per asset:
 * `{network, asset, max}` with `max` in atomic units, and the asset's `decimals` for display.
 * A payment asking more — or for an asset not listed — needs a person's approval.
 */
export const PaymentDeclarations = z
  .array(
    z
      .object({
        network: z.string().min(1).max(100),
        asset: z.string().min(1).max(200),
        max: z.string().regex(/^(0|[1-9][0-9]{0,77})$/, 'atomic units: digits only, no leading zeros'),
        /** The asset's decimals (6 for USDC): a payment approval shows 0.25, not only 250000. */
        decimals: z.number().int().min(0).max(36).optional(),
      })
      .strict(),
  )
  .max(20);
export type PaymentDeclarations = z.infer<typeof PaymentDeclarations>;

/** `{{secret:NAME}}`: a reference to a vault secret, resolved only at egress. */
export const SECRET_REF = /\{\{secret:([A-Za-z0-9_.-]{1,64})\}\}/g;

export const SecretName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'secret names use 1-64 characters of A-Z a-z 0-9 _ - .');

/**
 * A declarative HTTP connector (one tool): the daemon turns validated arguments into one HTTP
 * request, injects vault secrets into headers as the request leaves, and enforces its access
 * manifest (`access`: the AccessManifest of every tool kind) on the request. `egress`, the older
 * host list, is a deprecated alias for `access.network` and still accepted alone or beside it.
 */
export const HttpConnectorManifest = z
  .object({
    kind: z.literal('http'),
    name: ToolName,
    title: z.string().max(200).optional(),
    description: z.string().min(1).max(4000),
    category: ToolCategory,
    tags: z.array(z.string().max(64)).max(32).default([]),
    input_schema: z.record(z.string(), z.unknown()),
    request: z
      .object({
        method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
        /** `{arg}` placeholders are URL-encoded argument values; no secrets allowed here. */
        url: z.string().min(1),
        headers: z.record(z.string(), z.string()).default({}),
        /** Arguments sent as a JSON body (POST/PUT/PATCH). */
        body_args: z.array(z.string()).optional(),
        timeout_ms: z.number().int().min(100).max(120_000).default(15_000),
      })
      .strict(),
    /**
     * What the connector may reach: `network` (hosts and ports), `allow_private`, `secrets` (the
     * vault secrets its headers may name) and `limits.call_ms` (with request.timeout_ms, the lower
     * wins). A connector has no process, so `isolation`, `filesystem` and `env` are refused.
     */
    access: AccessManifest.optional(),
    /** Deprecated alias of `access.network`: host[:port] entries; `*.example.com` matches subdomains. */
    egress: z.array(z.string().min(1)).min(1).optional(),
    cost: z
      .object({
        estimate: z.number().int().min(0).default(0),
        currency: z.string().default('USD'),
        /** A response header carrying the actual cost in minor units, if the API reports it. */
        actual_header: z.string().optional(),
        /**
         * The most one call may pay when the API answers 402 (docs/payments.md), per asset:
         * `{network, asset, max, decimals?}` with `max` in atomic units. A 402 asking more — or
         * for an asset not listed — needs a person's approval (docs/approvals.md).
         */
        payments: PaymentDeclarations.optional(),
      })
      .strict()
      .default({ estimate: 0, currency: 'USD' }),
    sensitive_args: z.array(z.string()).default([]),
    reads: z.string().max(500).optional(),
    changes: z.string().max(500).optional(),
    max_response_bytes: z
      .number()
      .int()
      .min(1)
      .max(10 * 1024 * 1024)
      .default(1024 * 1024),
  })
  .strict()
  .refine((m) => (m.egress?.length ?? 0) + (m.access?.network.length ?? 0) > 0, {
    message: 'a connector names the hosts it may reach in access.network (or the deprecated egress list)',
    path: ['access', 'network'],
  });
export type HttpConnectorManifest = z.infer<typeof HttpConnectorManifest>;

/**
 * The access a connector really has: its `access` (or none), with the deprecated `egress` list
 * added to `network`. Without `access`, secrets are not listed (older files name them only in
 * their headers) and the request timeout alone bounds a call.
 */
export function connectorAccess(m: HttpConnectorManifest): AccessManifest {
  const base = m.access ?? AccessManifest.parse({});
  return { ...base, network: [...new Set([...base.network, ...(m.egress ?? [])])] };
}
