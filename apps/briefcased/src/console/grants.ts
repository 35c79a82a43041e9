import type { GrantView } from '@briefcase/console';
import type { Services } from '../daemon.ts';
import { grantsView } from '../payments/admin.ts';

interface AdminGrant {
  grantId: string;
  limits: {
    rail: string;
    network: string;
    asset: string;
    total: string;
    velocity: { amount: string; count: number; windowSeconds: number };
    approvalAbove?: string;
  }[];
  payees: string[];
  purposes: string[];
  createdAt: string;
  expiresAt: string;
  revokedAt?: string;
  spent: { rail: string; network: string; asset: string; settled: string; reserved: string }[];
}

/** The grants as the console lists them: the admin view (same sums as `grants list`), in snake case. */
export function consoleGrants(s: Services): { wallet: string | null; grants: GrantView[] } {
  const view = grantsView(s) as { wallet: string | null; grants: AdminGrant[] };
  const now = Date.now();
  return {
    wallet: view.wallet,
    grants: view.grants.map((g) => ({
      grant_id: g.grantId,
      state: g.revokedAt ? 'revoked' : Date.parse(g.expiresAt) <= now ? 'expired' : 'active',
      limits: g.limits.map((l, i) => ({
        rail: l.rail,
        network: l.network,
        asset: l.asset,
        total: l.total,
        velocity: { amount: l.velocity.amount, count: l.velocity.count, window_seconds: l.velocity.windowSeconds },
        ...(l.approvalAbove ? { approval_above: l.approvalAbove } : {}),
        settled: g.spent[i]?.settled ?? '0',
        reserved: g.spent[i]?.reserved ?? '0',
      })),
      payees: g.payees,
      purposes: g.purposes,
      created_at: g.createdAt,
      expires_at: g.expiresAt,
      ...(g.revokedAt ? { revoked_at: g.revokedAt } : {}),
    })),
  };
}
