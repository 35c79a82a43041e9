import type { DatabaseSync } from 'node:sqlite';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS connector_approvals (
  file TEXT PRIMARY KEY,
  sha256 TEXT NOT NULL,
  approved_at TEXT NOT NULL,
  how TEXT NOT NULL
) STRICT;
`;

/**
 * The exact bytes (sha256) of each connector file the daemon may load: recorded by
 * `connectors add` (a guarded change once a passkey exists), or when a file was loaded while no
 * passkey was enrolled (then the guard lets any admin change through at once). A file in
 * connectors/ whose bytes are not recorded here stays disabled (docs/connectors.md).
 */
export class ConnectorApprovals {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(SCHEMA);
  }

  get(file: string): string | undefined {
    const row = this.#db.prepare('SELECT sha256 FROM connector_approvals WHERE file = ?').get(file) as
      { sha256: string } | undefined;
    return row?.sha256;
  }

  set(file: string, sha256: string, how: 'connectors add' | 'no passkey enrolled'): void {
    this.#db
      .prepare(
        'INSERT INTO connector_approvals (file, sha256, approved_at, how) VALUES (?, ?, ?, ?) ON CONFLICT (file) DO UPDATE SET sha256 = excluded.sha256, approved_at = excluded.approved_at, how = excluded.how',
      )
      .run(file, sha256, new Date().toISOString(), how);
  }

  remove(file: string): void {
    this.#db.prepare('DELETE FROM connector_approvals WHERE file = ?').run(file);
  }
}
