import { API_PATHS } from '@briefcase/protocol/api-paths';
import { BriefcaseError } from '@briefcase/protocol/errors';
import type { AdminClient } from '../client.ts';
import { clip, print, printJson, table } from '../output.ts';
import { oneLine } from '../safe-text.ts';

export interface ReceiptsListFlags {
  kind?: string;
  tool?: string;
  outcome?: string;
  limit?: string;
  before?: string;
}

interface Summary {
  seq: number;
  id: string;
  ts: string;
  kind: string;
  actor: string;
  tool?: string;
  event?: string;
  outcome?: string;
}

/** `2026-12-02T19:10:09.123Z` → `2026-12-02 19:10:09` (UTC, as recorded). */
const when = (ts: string) => ts.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');

/** `briefcase receipts list`: newest first, one line each (time, kind, tool, outcome, id). */
export async function receiptsList(c: AdminClient, f: ReceiptsListFlags, json: boolean): Promise<void> {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (typeof v === 'string') query.set(k, v);
  const q = query.toString();
  const { receipts } = await c.get<{ receipts: Summary[] }>(`${API_PATHS.adminReceipts}${q ? `?${q}` : ''}`);
  if (json) return printJson({ receipts });
  if (receipts.length === 0) return print('No receipts match.');
  print(
    table([
      ['TIME (UTC)', 'KIND', 'TOOL', 'OUTCOME', 'ID'],
      ...receipts.map((r) => [when(r.ts), r.kind, clip(r.tool ?? '', 40), clip(r.outcome ?? r.event ?? '', 24), r.id]),
    ]),
  );
  const last = receipts[receipts.length - 1]!;
  if (receipts.length >= Number(f.limit ?? 50) && last.seq > 1)
    print(`(older: ${c.command('receipts', 'list', '--before', String(last.seq))})`);
}

/** `briefcase receipts show ID`: one receipt, its fields one per line. */
export async function receiptsShow(c: AdminClient, id: string, json: boolean): Promise<void> {
  if (!/^r\d{1,12}-[0-9a-f]{12}$/.test(id)) {
    throw new BriefcaseError(
      'bad_request',
      `${oneLine(clip(id, 40))} is not a receipt id (r<seq>-<12 hex>, as \`${c.command('receipts', 'list')}\` shows)`,
    );
  }
  const receipt = await c.get<{
    id: string;
    hash: string;
    record: { seq: number; ts: string; kind: string; actor: string; prev: string; body: Record<string, unknown> };
  }>(`${API_PATHS.adminReceipts}/${id}`);
  if (json) return printJson(receipt);
  const r = receipt.record;
  const rows: unknown[][] = [
    ['time', `${when(r.ts)} UTC`],
    ['kind', r.kind],
    ['actor', r.actor],
    ...Object.entries(r.body).map(([k, v]) => [k, clip(typeof v === 'string' ? v : JSON.stringify(v), 300)]),
    ['hash', receipt.hash],
    ['previous', r.prev],
  ];
  print(`Receipt ${receipt.id} (seq ${r.seq})`);
  print(
    table(rows)
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  );
}
