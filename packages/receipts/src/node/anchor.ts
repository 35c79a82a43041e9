import { existsSync, readFileSync } from 'node:fs';
import { isCheckpointShape } from '../checkpoint-chain.ts';
import type { Anchor } from '../record.ts';

/**
 * The anchor: outside the database, the last checkpoint the daemon signed, with a second
 * signature saying it was the latest (record.ts, anchorMessage). The database alone can be
 * rewritten, truncated or emptied consistently by someone without the receipts key (delete the
 * checkpoints with the records); the anchor says where the log must at least reach, and cannot
 * be made from the database's own checkpoints.
 */
export const ANCHOR_FORMAT = 'briefcase-receipts-anchor';

export function anchorText(anchor: Anchor): string {
  return `${JSON.stringify({ format: ANCHOR_FORMAT, v: 2, ...anchor })}\n`;
}

export type AnchorRead = { ok: true; anchor: Anchor | null } | { ok: false; reason: string };

/** The anchor at `path`; `anchor: null` when there is no file. */
export function readAnchor(path: string): AnchorRead {
  if (!existsSync(path)) return { ok: true, anchor: null };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Anchor> & { format?: unknown; v?: unknown };
    if (
      parsed.format === ANCHOR_FORMAT &&
      parsed.v === 2 &&
      isCheckpointShape(parsed.checkpoint) &&
      typeof parsed.key_id === 'string' &&
      typeof parsed.sig === 'string'
    ) {
      return { ok: true, anchor: { checkpoint: parsed.checkpoint, key_id: parsed.key_id, sig: parsed.sig } };
    }
  } catch {
    // Reported below: an unreadable anchor is as suspect as a malformed one.
  }
  return { ok: false, reason: `${path} is not a receipts anchor (damaged or replaced)` };
}
