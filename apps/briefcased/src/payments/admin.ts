import { BriefcaseError } from '@briefcase/protocol';
import { GrantRequestSchema, atomic, type GrantRequest, type StoredGrant } from '@briefcase/payments';
import type { Services } from '../daemon.ts';
import { transaction } from '../store/db.ts';
import { walletAddress } from './wallet.ts';

export function parseGrantRequest(input: unknown): GrantRequest {
  const parsed = GrantRequestSchema.safeParse(input);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new BriefcaseError('bad_request', `grant ${i?.path.join('.') ?? ''}: ${i?.message ?? 'invalid'}`);
  }
  if (Date.parse(parsed.data.expiresAt) <= Date.now())
    throw new BriefcaseError('bad_request', 'grant expiresAt is in the past');
  return parsed.data;
}

/** Create, sign and store a grant; receipted (runs once a passkey confirmed it, if any exist). */
export async function createGrant(s: Services, request: GrantRequest): Promise<Record<string, unknown>> {
  const grant = await s.payments.createGrant(request);
  transaction(s.db, () =>
    s.receipts.append('payment', 'admin', {
      event: 'grant_created',
      grant_id: grant.grantId,
      limits: grant.limits,
      payees: grant.payees,
      purposes: grant.purposes,
      expires_at: grant.expiresAt,
    }),
  );
  s.logger.info('spending grant created', { grant: grant.grantId });
  return { ok: true, grant };
}

export function revokeGrant(s: Services, grantId: string): Record<string, unknown> {
  const at = new Date().toISOString();
  const done = transaction(s.db, () => {
    const changed = s.payments.grants.revoke(grantId, at);
    if (changed) s.receipts.append('payment', 'admin', { event: 'grant_revoked', grant_id: grantId });
    return changed;
  });
  if (!done) throw new BriefcaseError('not_found', `no active grant ${grantId}`);
  s.logger.info('spending grant revoked', { grant: grantId });
  return { ok: true, grant_id: grantId, revoked_at: at };
}

/** Grants with what each limit has spent (settled) and holds (reserved), per asset — never summed across assets. */
export function grantsView(s: Services): Record<string, unknown> {
  const entries = s.payments.ledger.entries();
  const view = (g: StoredGrant) => ({
    ...g.grant,
    ...(g.revokedAt ? { revokedAt: g.revokedAt } : {}),
    spent: g.grant.limits.map((l) => {
      const mine = entries.filter(
        (e) => e.grantId === g.grant.grantId && e.rail === l.rail && e.network === l.network && e.asset === l.asset,
      );
      const sum = (state: string) =>
        mine
          .filter((e) => e.state === state)
          .reduce((t, e) => t + atomic(e.amount), 0n)
          .toString();
      return { rail: l.rail, network: l.network, asset: l.asset, settled: sum('settled'), reserved: sum('reserved') };
    }),
  });
  return { wallet: walletAddress(s.paths.home), grants: s.payments.grants.list().map(view) };
}
