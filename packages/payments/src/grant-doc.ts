import {
  canonicalize,
  fromBase64Url,
  isPublicJwk,
  jwkThumbprint,
  toBase64Url,
  utf8,
  verifySignature,
} from '@briefcase/crypto';
import { z } from 'zod';
import { PaymentError } from './errors.ts';
import type { SpendingGrant, StoredGrant } from './grant.ts';
import { isAtomicAmount, RAILS } from './requirement.ts';

/** Domain separation for grant signatures (like MPCP's `MPCP:PolicyGrant:1.0:` prefix). */
const GRANT_DOMAIN = 'briefcase:grant:v1\u0000';

const Atomic = z.string().refine(isAtomicAmount, 'an atomic amount: digits only, no leading zeros');
const Lower = z
  .string()
  .min(1)
  .max(200)
  .refine((s) => s === s.toLowerCase(), 'lowercase');

export const GrantLimitSchema = z
  .object({
    rail: z.enum(RAILS),
    network: z.string().min(1).max(100),
    asset: Lower,
    total: Atomic,
    velocity: z
      .object({ amount: Atomic, count: z.number().int().min(1).max(1_000_000), windowSeconds: z.number().int().min(1) })
      .strict(),
    approvalAbove: Atomic.optional(),
  })
  .strict();

/** The unsigned part a person (CLI, console) asks for; the daemon adds ids, binding and signature. */
export const GrantRequestSchema = z
  .object({
    limits: z.array(GrantLimitSchema).min(1).max(20),
    payees: z.array(Lower).min(1).max(100),
    purposes: z.array(z.string().min(1).max(200)).min(1).max(100),
    expiresAt: z.iso.datetime(),
  })
  .strict();
export type GrantRequest = z.infer<typeof GrantRequestSchema>;

export const SpendingGrantSchema = GrantRequestSchema.extend({
  v: z.literal(1),
  grantId: z.string().min(8).max(100),
  issuer: z.object({ kid: z.string(), jwk: z.record(z.string(), z.string()) }).strict(),
  gateway: z.string().min(1),
  createdAt: z.iso.datetime(),
  signature: z.string().min(1),
}).strict();

export function grantSigningInput(grant: Omit<SpendingGrant, 'signature'>): Uint8Array {
  const { signature: _omit, ...rest } = grant as SpendingGrant;
  return utf8(GRANT_DOMAIN + canonicalize(rest));
}

export interface GrantIssuer {
  publicJwk: Record<string, string>;
  keyId: string;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** Sign a grant for `gateway` (the daemon identity key's thumbprint) with the issuer key. */
export async function signGrant(
  request: GrantRequest,
  issuer: GrantIssuer,
  gateway: string,
  grantId: string,
  now: Date,
): Promise<SpendingGrant> {
  const unsigned: Omit<SpendingGrant, 'signature'> = {
    v: 1,
    grantId,
    issuer: { kid: issuer.keyId, jwk: { ...issuer.publicJwk } },
    gateway,
    limits: request.limits.map((l) => ({ ...l })) as SpendingGrant['limits'],
    payees: [...request.payees],
    purposes: [...request.purposes],
    createdAt: now.toISOString(),
    expiresAt: new Date(request.expiresAt).toISOString(),
  };
  return { ...unsigned, signature: toBase64Url(await issuer.sign(grantSigningInput(unsigned))) };
}

export interface GrantTrust {
  /** Thumbprints of issuer keys this daemon accepts grants from. */
  issuers: readonly string[];
  /** This daemon's identity key thumbprint: a grant bound to another gateway is refused. */
  gateway: string;
  now: number;
}

/**
 * Is this stored grant usable now? Shape, issuer trusted and its key matching its kid, signature,
 * bound to this daemon, not revoked, not expired. Throws PaymentError with the reason.
 */
export function verifyGrant(stored: StoredGrant, trust: GrantTrust): SpendingGrant {
  const parsed = SpendingGrantSchema.safeParse(stored.grant);
  if (!parsed.success) throw new PaymentError('grant_invalid', `grant shape: ${parsed.error.issues[0]?.message ?? ''}`);
  const g = stored.grant;
  if (
    !isPublicJwk(g.issuer.jwk) ||
    jwkThumbprint(g.issuer.jwk) !== g.issuer.kid ||
    !trust.issuers.includes(g.issuer.kid)
  ) {
    throw new PaymentError('grant_invalid', `grant ${g.grantId} is not from a trusted issuer`);
  }
  let signature: Uint8Array;
  try {
    signature = fromBase64Url(g.signature);
  } catch {
    throw new PaymentError('grant_invalid', `grant ${g.grantId}: signature is not base64url`);
  }
  if (!verifySignature(g.issuer.jwk, grantSigningInput(g), signature)) {
    throw new PaymentError('grant_invalid', `grant ${g.grantId}: bad signature`);
  }
  if (g.gateway !== trust.gateway)
    throw new PaymentError('grant_invalid', `grant ${g.grantId} is bound to another gateway`);
  if (stored.revokedAt)
    throw new PaymentError('grant_revoked', `grant ${g.grantId} was revoked at ${stored.revokedAt}`);
  if (Date.parse(g.expiresAt) <= trust.now)
    throw new PaymentError('grant_expired', `grant ${g.grantId} expired at ${g.expiresAt}`);
  return g;
}
