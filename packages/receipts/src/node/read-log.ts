import { DatabaseSync } from 'node:sqlite';
import type { PublicJwk } from '@briefcase/crypto';
import { EXPORT_FORMAT, exportLines, type ExportHeader } from '../export-format.ts';
import type { Checkpoint } from '../record.ts';

/**
 * Read a daemon's log straight from its database file, read-only, for offline verification and
 * export when the daemon is not running. Safe beside a running daemon (WAL readers).
 */
export function readLogExport(
  dbPath: string,
  keys: { key_id: string; jwk: PublicJwk }[],
  deviceStatement?: string,
): string[] {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const header: ExportHeader = {
      type: 'header',
      format: EXPORT_FORMAT,
      v: 1,
      exported_at: new Date().toISOString(),
      public_keys: keys,
      ...(deviceStatement ? { device_statement: deviceStatement } : {}),
    };
    const checkpoints = db
      .prepare('SELECT seq, hash, ts, key_id, sig FROM checkpoints ORDER BY seq')
      .all() as unknown as Checkpoint[];
    const records = db.prepare('SELECT hash, record AS json FROM receipts ORDER BY seq').all() as {
      hash: string;
      json: string;
    }[];
    return [...exportLines(header, records, checkpoints)];
  } finally {
    db.close();
  }
}
