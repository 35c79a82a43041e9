import { BriefcaseError } from '@briefcase/protocol';
import { listReceipts, readReceipt } from '../console/receipts.ts';
import type { Services } from '../daemon.ts';
import { sendJson } from './http.ts';
import type { Route } from './routes.ts';
import { cli } from '../cli-hint.ts';

const WORD = /^[A-Za-z0-9_.:-]{1,200}$/;

/** A whole number in a query parameter, or undefined; anything else is a 400 naming it. */
function whole(query: URLSearchParams, name: string, max: number): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  if (!/^\d{1,15}$/.test(raw) || n < 1 || n > max)
    throw new BriefcaseError('bad_request', `${name} must be a whole number from 1 to ${max}`);
  return n;
}

/** A filter word (kind, tool, outcome) in a query parameter. */
function word(query: URLSearchParams, name: string): string | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  if (!WORD.test(raw))
    throw new BriefcaseError('bad_request', `${name} must be 1-200 characters of A-Z a-z 0-9 _ . : -`);
  return raw;
}

/** `briefcase receipts list|show`: the same views of the log as the console's receipts page. */
export function receiptViewRoutes(s: Services): Route[] {
  return [
    {
      method: 'GET',
      path: /^\/v1\/admin\/receipts$/,
      role: 'admin',
      handle: ({ res, query }) =>
        sendJson(res, 200, {
          receipts: listReceipts(s, {
            kind: word(query, 'kind'),
            tool: word(query, 'tool'),
            outcome: word(query, 'outcome'),
            limit: whole(query, 'limit', 200),
            before: whole(query, 'before', Number.MAX_SAFE_INTEGER),
          }),
        }),
    },
    {
      method: 'GET',
      path: /^\/v1\/admin\/receipts\/(r\d{1,12}-[0-9a-f]{12})$/,
      role: 'admin',
      handle: ({ res, params }) => {
        const receipt = readReceipt(s, params[0]!);
        if (!receipt)
          throw new BriefcaseError('not_found', `no receipt ${params[0]}: see \`${cli('receipts', 'list')}\``);
        sendJson(res, 200, receipt);
      },
    },
  ];
}
