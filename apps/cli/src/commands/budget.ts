import { BriefcaseError } from '@briefcase/protocol/errors';
import type { AdminClient } from '../client.ts';
import { print, printJson, table } from '../output.ts';

interface Cap {
  id: string;
  scope: 'tool' | 'category' | 'all';
  match?: string;
  window: 'call' | 'day' | 'month';
  limit: number;
  on_exceed: 'approval' | 'deny';
  spent?: number;
}

export interface BudgetSetFlags {
  limit: string;
  window: string;
  tool?: string;
  category?: string;
  deny?: boolean;
  json?: boolean;
}

export async function budgetList(c: AdminClient, json: boolean): Promise<void> {
  const answer = await c.get<{ currency: string; caps: Cap[] }>('/v1/admin/budgets');
  if (json) return printJson(answer);
  if (answer.caps.length === 0) return print('No budget caps.');
  print(
    table([
      ['ID', 'APPLIES TO', 'WINDOW', 'LIMIT', 'SPENT', 'OVER IT'],
      ...answer.caps.map((cap) => [
        cap.id,
        cap.scope === 'all' ? 'everything' : `${cap.scope} ${cap.match ?? ''}`,
        cap.window,
        `${cap.limit} ${answer.currency}`,
        `${cap.spent ?? 0}`,
        cap.on_exceed,
      ]),
    ]),
  );
}

export async function budgetSet(c: AdminClient, id: string, o: BudgetSetFlags): Promise<void> {
  const limit = Number(o.limit);
  if (!Number.isInteger(limit) || limit < 0)
    throw new BriefcaseError('bad_request', `--limit "${o.limit}" is not a whole number ≥ 0`);
  if (o.tool && o.category) throw new BriefcaseError('bad_request', 'give --tool or --category, not both');
  const cap = {
    scope: o.tool ? 'tool' : o.category ? 'category' : 'all',
    ...(o.tool || o.category ? { match: o.tool ?? o.category } : {}),
    window: o.window,
    limit,
    on_exceed: o.deny ? 'deny' : 'approval',
  };
  const answer = await c.put<{ caps: Cap[] }>(`/v1/admin/budgets/caps/${encodeURIComponent(id)}`, cap);
  if (o.json) return printJson(answer);
  print(`Budget cap ${id} set.`);
}

export async function budgetRemove(c: AdminClient, id: string, json: boolean): Promise<void> {
  const answer = await c.delete(`/v1/admin/budgets/caps/${encodeURIComponent(id)}`);
  if (json) return printJson(answer);
  print(`Budget cap ${id} removed.`);
}
