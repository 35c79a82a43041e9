import type { DatabaseSync } from 'node:sqlite';

export const PINS_SCHEMA = `
CREATE TABLE IF NOT EXISTS tool_pins (
  server TEXT NOT NULL,
  tool TEXT NOT NULL,
  hash TEXT NOT NULL,
  pinned_at TEXT NOT NULL,
  PRIMARY KEY (server, tool)
) STRICT;
`;

/** The definition hash each remote tool had when it was first seen or last reviewed. */
export class PinStore {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(PINS_SCHEMA);
  }

  get(server: string, tool: string): string | undefined {
    const row = this.#db.prepare('SELECT hash FROM tool_pins WHERE server = ? AND tool = ?').get(server, tool) as
      { hash: string } | undefined;
    return row?.hash;
  }

  set(server: string, tool: string, hash: string): void {
    this.#db
      .prepare(
        'INSERT INTO tool_pins (server, tool, hash, pinned_at) VALUES (?, ?, ?, ?) ON CONFLICT (server, tool) DO UPDATE SET hash = excluded.hash, pinned_at = excluded.pinned_at',
      )
      .run(server, tool, hash, new Date().toISOString());
  }

  forServer(server: string): Map<string, string> {
    const rows = this.#db.prepare('SELECT tool, hash FROM tool_pins WHERE server = ?').all(server) as unknown as {
      tool: string;
      hash: string;
    }[];
    return new Map(rows.map((r) => [r.tool, r.hash]));
  }

  removeServer(server: string): void {
    this.#db.prepare('DELETE FROM tool_pins WHERE server = ?').run(server);
  }
}
