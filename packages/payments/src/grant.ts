import type { AtomicAmount, Rail } from './requirement.ts';

/**
 * A spending grant (after MPCP's PolicyGrant, PROTOCOLS.md §1.1): a signed document that says
 * how much this daemon may pay, on what, to whom, for what, until when. The daemon enforces it
 * before every payment; the payment-helper signs only inside it.
 *
 * Signature: the issuer key signs `SHA-256("briefcase:grant:v1:" || JCS(grant without
 * "signature"))` (RFC 8785), ES256K low-S or EdDSA, base64url. Amounts in different limits
 * (rail, network, asset) never add up.
 */
export interface SpendingGrant {
  v: 1;
  grantId: string;
  /** The key that signed the grant: its RFC 7638 thumbprint and public JWK. */
  issuer: { kid: string; jwk: Readonly<Record<string, string>> };
  /** RFC 7638 thumbprint of the daemon identity key this grant is bound to (MPCP authorizedGateway). */
  gateway: string;
  /** One limit per (rail, network, asset); a payment in anything not listed is refused. */
  limits: GrantLimit[];
  /** Exact payees allowed (lowercase). Never empty: a grant names who may be paid. */
  payees: string[];
  /** Purposes (tool names or categories such as `api:weather`) this grant may pay for. */
  purposes: string[];
  /** ISO 8601. */
  createdAt: string;
  expiresAt: string;
  signature: string;
}

export interface GrantLimit {
  rail: Rail;
  network: string;
  asset: string;
  /** Hard cumulative ceiling over the grant's life (MPCP budgetMinor). */
  total: AtomicAmount;
  /** At most `amount` and at most `count` payments in any sliding window of `windowSeconds`. */
  velocity: { amount: AtomicAmount; count: number; windowSeconds: number };
  /** A single payment above this needs a person's approval. */
  approvalAbove?: AtomicAmount;
}

/** A grant as the daemon stores it: the signed document plus local state. */
export interface StoredGrant {
  grant: SpendingGrant;
  revokedAt?: string;
}
