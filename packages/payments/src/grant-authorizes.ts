import type { PaymentAuthorization } from './backend.ts';
import { PaymentError } from './errors.ts';
import { verifyGrant, type GrantTrust } from './grant-doc.ts';
import { atomic } from './requirement.ts';

/**
 * AC-6.1, the payment-helper's own check: the authorization it is asked to sign for comes with
 * a grant that verifies on its own (trusted issuer, signature, bound to this daemon, not
 * expired), and fits inside it (same grant, a covered rail/network/asset, an allowed payee, an
 * amount within the grant's total and velocity amount, an expiry within the grant's). The
 * cumulative spend and revocation live in the daemon's ledger and store; this check does not
 * depend on them, so a daemon bug cannot widen what one signature may pay.
 */
export function checkGrantAuthorizes(authz: PaymentAuthorization, trust: GrantTrust): void {
  if (!authz.grant) throw new PaymentError('signing_refused', 'no grant came with the authorization');
  const grant = verifyGrant({ grant: authz.grant }, trust);
  const refuse = (why: string): never => {
    throw new PaymentError('signing_refused', `grant ${grant.grantId} does not authorize this: ${why}`);
  };
  if (grant.grantId !== authz.grantId) refuse('another grant id');
  const limit = grant.limits.find(
    (l) => l.rail === authz.rail && l.network === authz.network && l.asset === authz.asset,
  );
  if (!limit) refuse('rail, network or asset not covered');
  if (!grant.payees.includes(authz.payee)) refuse('payee not allowed');
  const amount = atomic(authz.maxAmount);
  if (amount > atomic(limit!.total) || amount > atomic(limit!.velocity.amount)) refuse('amount above the grant');
  if (authz.expiresAt > Date.parse(grant.expiresAt)) refuse('outlives the grant');
}
