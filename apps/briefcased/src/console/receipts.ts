import type { ReceiptFilter, ReceiptSummary, VerifyView } from '@briefcase/console';
import { checkPresenceEvidence } from '@briefcase/presence';
import { receiptId, verifyExport, type ReceiptRecord } from '@briefcase/receipts';
import type { Services } from '../daemon.ts';

const MAX_SCAN = 5000;

/** Newest first, filtered; scans at most MAX_SCAN records per page. */
export function listReceipts(s: Services, f: ReceiptFilter): ReceiptSummary[] {
  const limit = Math.min(Math.max(Number(f.limit) || 50, 1), 200);
  const before = Number.isInteger(f.before) && f.before! > 0 ? f.before! : Number.MAX_SAFE_INTEGER;
  const rows = s.db
    .prepare('SELECT seq, hash, record FROM receipts WHERE seq < ? ORDER BY seq DESC LIMIT ?')
    .iterate(before, MAX_SCAN) as Iterable<{ seq: number; hash: string; record: string }>;
  const out: ReceiptSummary[] = [];
  for (const row of rows) {
    const r = JSON.parse(row.record) as ReceiptRecord;
    const b = r.body;
    const summary: ReceiptSummary = {
      seq: r.seq,
      id: receiptId(r.seq, row.hash),
      ts: r.ts,
      kind: r.kind,
      actor: r.actor,
      ...(typeof b.tool === 'string' ? { tool: b.tool } : {}),
      ...(typeof b.event === 'string' ? { event: b.event } : {}),
      ...(typeof b.outcome === 'string' ? { outcome: b.outcome } : {}),
      ...(b.presence ? { presence: true } : {}),
    };
    if (f.kind && summary.kind !== f.kind) continue;
    if (f.tool && summary.tool !== f.tool) continue;
    if (f.outcome && summary.outcome !== f.outcome) continue;
    out.push(summary);
    if (out.length >= limit) break;
  }
  return out;
}

export function readReceipt(s: Services, id: string): Record<string, unknown> | undefined {
  const m = /^r(\d{1,12})-([0-9a-f]{12})$/.exec(id);
  if (!m) return undefined;
  const row = s.db.prepare('SELECT hash, record FROM receipts WHERE seq = ?').get(Number(m[1])) as
    { hash: string; record: string } | undefined;
  if (!row || !row.hash.startsWith(m[2]!)) return undefined;
  return { id, hash: row.hash, record: JSON.parse(row.record) as unknown };
}

/** Verify the live log as an export would be, and every passkey assertion in it. */
export async function verifyLiveLog(s: Services): Promise<VerifyView> {
  // Signs the head only when there are unsigned records: a viewer polling this adds no checkpoints.
  const head = (await s.receipts.checkpoint()) ?? s.receipts.lastCheckpoint;
  const lines = [...s.receipts.exportLines(head)];
  const result = verifyExport(lines);
  const records = lines
    .map((l) => JSON.parse(l) as { type: string; record?: ReceiptRecord })
    .filter((l) => l.type === 'record')
    .map((l) => l.record!);
  const presence = await checkPresenceEvidence(records);
  return {
    ok: result.ok && presence.problems.length === 0,
    records: result.count,
    checkpoints: result.checkpoints,
    assertions: presence.assertions,
    problems: [...(result.reason ? [result.reason] : []), ...presence.problems],
  };
}
