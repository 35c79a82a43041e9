import { BriefcaseError } from '@briefcase/protocol/errors';
import type { AdminClient } from '../client.ts';
import { print, printJson, table } from '../output.ts';

export interface GrantCreateFlags {
  rail: string;
  network: string;
  asset: string;
  total: string;
  velocityAmount?: string;
  velocityCount: string;
  window: string;
  approvalAbove?: string;
  payee: string[];
  purpose: string[];
  expires: string;
  json?: boolean;
}

interface GrantView {
  grantId: string;
  payees: string[];
  purposes: string[];
  expiresAt: string;
  revokedAt?: string;
  limits: { rail: string; network: string; asset: string; total: string }[];
  spent: { settled: string; reserved: string }[];
}

const DURATION = /^([0-9]{1,6})([mhd])$/;

/** `briefcase grants create`: one limit per call of the command (one rail, network, asset). */
export async function grantsCreate(c: AdminClient, o: GrantCreateFlags): Promise<void> {
  const d = DURATION.exec(o.expires);
  if (!d) throw new BriefcaseError('bad_request', `--expires "${o.expires}": use a duration such as 30m, 12h or 7d`);
  const ms = Number(d[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[d[2] as 'm' | 'h' | 'd'];
  const window = Number(o.window);
  const count = Number(o.velocityCount);
  const body = {
    limits: [
      {
        rail: o.rail,
        network: o.network,
        asset: o.asset.toLowerCase(),
        total: o.total,
        velocity: { amount: o.velocityAmount ?? o.total, count, windowSeconds: window },
        ...(o.approvalAbove ? { approvalAbove: o.approvalAbove } : {}),
      },
    ],
    payees: o.payee.map((p) => p.toLowerCase()),
    purposes: o.purpose,
    expiresAt: new Date(Date.now() + ms).toISOString(),
  };
  const answer = await c.post<{ grant: GrantView }>('/v1/admin/grants', body);
  if (o.json) return printJson(answer);
  print(`Grant ${answer.grant.grantId} created (until ${answer.grant.expiresAt}).`);
}

export async function grantsList(c: AdminClient, json: boolean): Promise<void> {
  const answer = await c.get<{ wallet: string | null; grants: GrantView[] }>('/v1/admin/grants');
  if (json) return printJson(answer);
  print(`Wallet: ${answer.wallet ?? 'none (briefcase keys create --role payment --backend software|pkcs11 …)'}`);
  if (answer.grants.length === 0) return print('No spending grants.');
  print(
    table([
      ['GRANT', 'LIMIT', 'SPENT', 'HELD', 'PAYEES', 'UNTIL', 'STATE'],
      ...answer.grants.flatMap((g) =>
        g.limits.map((l, i) => [
          g.grantId,
          `${l.total} ${l.asset.slice(0, 12)} (${l.rail} ${l.network})`,
          g.spent[i]?.settled ?? '0',
          g.spent[i]?.reserved ?? '0',
          String(g.payees.length),
          g.expiresAt,
          g.revokedAt ? 'revoked' : Date.parse(g.expiresAt) <= Date.now() ? 'expired' : 'active',
        ]),
      ),
    ]),
  );
}

export async function grantsRevoke(c: AdminClient, id: string, json: boolean): Promise<void> {
  const answer = await c.delete(`/v1/admin/grants/${encodeURIComponent(id)}`);
  if (json) return printJson(answer);
  print(`Grant ${id} revoked.`);
}

export async function walletCreate(c: AdminClient, json: boolean): Promise<void> {
  const answer = await c.post<{ address: string }>('/v1/admin/payments/wallet', {});
  if (json) return printJson(answer);
  print(`Payment wallet ${answer.address} created. Fund it with the tokens grants allow.`);
}
