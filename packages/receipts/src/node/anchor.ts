import { existsSync, readFileSync } from 'node:fs';
import { isCheckpointShape } from '../checkpoint-chain.ts';
import type { Checkpoint } from '../record.ts';

/**
 * The anchor: a copy, outside the database, of the last checkpoint the daemon signed. The
 * database alone can be rewritten, truncated or emptied consistently by someone without the
 * receipts key (delete the checkpoints with the records); the anchor says where the log must at
 * least reach. It needs no signature of its own: the checkpoint it carries is signed.
 */
export const ANCHOR_FORMAT = 'briefcase-receipts-anchor';

export function anchorText(checkpoint: Checkpoint): string {
  return `${JSON.stringify({ format: ANCHOR_FORMAT, v: 1, checkpoint })}\n`;
}

export type AnchorRead = { ok: true; checkpoint: Checkpoint | null } | { ok: false; reason: string };

/** The anchor at `path`; `checkpoint: null` when there is no file. */
export function readAnchor(path: string): AnchorRead {
  if (!existsSync(path)) return { ok: true, checkpoint: null };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { format?: unknown; v?: unknown; checkpoint?: unknown };
    if (parsed.format === ANCHOR_FORMAT && parsed.v === 1 && isCheckpointShape(parsed.checkpoint)) {
      return { ok: true, checkpoint: parsed.checkpoint };
    }
  } catch {
    // Reported below: an unreadable anchor is as suspect as a malformed one.
  }
  return { ok: false, reason: `${path} is not a receipts anchor (damaged or replaced)` };
}
