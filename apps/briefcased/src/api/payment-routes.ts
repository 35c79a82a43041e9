import { JsonObject } from '@briefcase/protocol';
import type { Services } from '../daemon.ts';
import { grantsView, revokeGrant } from '../payments/admin.ts';
import { createWallet } from '../payments/wallet.ts';
import { guarded } from '../presence/guard.ts';
import { readJson, sendJson } from './http.ts';
import type { Route } from './routes.ts';

/**
 * Payments administration (docs/payments.md): the wallet, and spending grants. Creating a grant
 * widens what an agent can do, so it is guarded (a passkey once one is enrolled); revoking
 * narrows and runs at once.
 */
export function paymentRoutes(s: Services): Route[] {
  const limit = s.config.limits.max_request_bytes;
  return [
    {
      method: 'GET',
      path: /^\/v1\/admin\/grants$/,
      role: 'admin',
      handle: ({ res }) => sendJson(res, 200, grantsView(s)),
    },
    {
      method: 'POST',
      path: /^\/v1\/admin\/grants$/,
      role: 'admin',
      handle: async ({ req, res }) =>
        guarded(s, res, 'grant_create', { grant: await readJson(req, limit, JsonObject) }),
    },
    {
      method: 'DELETE',
      path: /^\/v1\/admin\/grants\/([A-Za-z0-9_-]{1,100})$/,
      role: 'admin',
      handle: ({ res, params }) => sendJson(res, 200, revokeGrant(s, params[0]!)),
    },
    {
      // The spend ledger, for `receipts verify` to reconcile with the payment receipts.
      method: 'GET',
      path: /^\/v1\/admin\/payments\/ledger$/,
      role: 'admin',
      handle: ({ res }) => sendJson(res, 200, { entries: s.payments.ledger.entries() }),
    },
    {
      method: 'POST',
      path: /^\/v1\/admin\/payments\/wallet$/,
      role: 'admin',
      handle: async ({ res }) => {
        const address = await createWallet(s.paths.home, s.masterKey);
        s.receipts.append('payment', 'admin', { event: 'wallet_created', address });
        sendJson(res, 200, { ok: true, address });
      },
    },
  ];
}
