import { DatabaseSync } from 'node:sqlite';
import type { PublicJwk } from '@briefcase/crypto';
import { BriefcaseError } from '@briefcase/protocol';
import { EXPORT_FORMAT, EXPORT_VERSION, exportLines, type ExportHeader } from '../export-format.ts';
import type { Checkpoint } from '../record.ts';
import { readCheckpoints } from './receipt-log.ts';

/**
 * Read a daemon's log straight from its database file, read-only, for offline verification and
 * export when the daemon is not running. Safe beside a running daemon (WAL readers).
 *
 * `anchor` (the daemon's receipts.anchor) goes into the export in place of the database's
 * checkpoint of the same number: a database truncated, emptied or rewritten below the anchor
 * then fails to verify, instead of passing as a shorter consistent log.
 */
export function readLogExport(
  dbPath: string,
  keys: { key_id: string; jwk: PublicJwk }[],
  deviceStatement?: string,
  anchor?: Checkpoint | null,
): string[] {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const header: ExportHeader = {
      type: 'header',
      format: EXPORT_FORMAT,
      v: EXPORT_VERSION,
      exported_at: new Date().toISOString(),
      public_keys: keys,
      ...(deviceStatement ? { device_statement: deviceStatement } : {}),
    };
    const columns = db.prepare("SELECT name FROM pragma_table_info('checkpoints')").all() as { name: string }[];
    if (columns.length > 0 && !columns.some((c) => c.name === 'prev')) {
      throw new BriefcaseError(
        'receipts_altered',
        `${dbPath} holds a receipt log from before chained checkpoints (export v2): start the daemon once with --accept-altered-receipts to start a chain over it`,
      );
    }
    let checkpoints = columns.length > 0 ? readCheckpoints(db) : [];
    if (anchor) {
      checkpoints = [...checkpoints.filter((cp) => cp.n !== anchor.n), anchor].sort((a, b) => a.n - b.n);
    }
    const records = db.prepare('SELECT hash, record AS json FROM receipts ORDER BY seq').all() as {
      hash: string;
      json: string;
    }[];
    return [...exportLines(header, records, checkpoints)];
  } finally {
    db.close();
  }
}
