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

/**
 * A reviewed remote tool: the server, the tool's original name, its definition hash, and the
 * `server.tool` name it was reviewed under. A tool runs and is listed only while all four hold.
 */
export interface Pin {
  server: string;
  tool: string;
  hash: string;
  /** null only for a pin made before names were pinned too; filled in on the next listing. */
  qualified: string | null;
  /** The reviewed definition as JSON, to show a person what changed; null for older pins. */
  definition?: string | null;
}

/** The identity each remote tool had when an admin last reviewed it (`remote add`, `remote pin`). */
export class PinStore {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(PINS_SCHEMA);
    const columns = db.prepare('PRAGMA table_info(tool_pins)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'qualified')) db.exec('ALTER TABLE tool_pins ADD COLUMN qualified TEXT');
    if (!columns.some((c) => c.name === 'definition')) db.exec('ALTER TABLE tool_pins ADD COLUMN definition TEXT');
  }

  get(server: string, tool: string): Pin | undefined {
    return this.#db
      .prepare('SELECT server, tool, hash, qualified FROM tool_pins WHERE server = ? AND tool = ?')
      .get(server, tool) as Pin | undefined;
  }

  set(pin: Pin & { qualified: string }): void {
    this.#db
      .prepare(
        'INSERT INTO tool_pins (server, tool, hash, qualified, definition, pinned_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (server, tool) DO UPDATE SET hash = excluded.hash, qualified = excluded.qualified, definition = excluded.definition, pinned_at = excluded.pinned_at',
      )
      .run(pin.server, pin.tool, pin.hash, pin.qualified, pin.definition ?? null, new Date().toISOString());
  }

  /** Record the name an old pin (from before names were pinned) was given, without changing its hash. */
  nameOldPin(server: string, tool: string, qualified: string): void {
    this.#db
      .prepare('UPDATE tool_pins SET qualified = ? WHERE server = ? AND tool = ? AND qualified IS NULL')
      .run(qualified, server, tool);
  }

  /** Pins by original tool name. */
  forServer(server: string): Map<string, Pin> {
    const rows = this.#db
      .prepare('SELECT server, tool, hash, qualified, definition FROM tool_pins WHERE server = ?')
      .all(server) as unknown as Pin[];
    return new Map(rows.map((r) => [r.tool, { ...r }]));
  }

  removeServer(server: string): void {
    this.#db.prepare('DELETE FROM tool_pins WHERE server = ?').run(server);
  }
}
