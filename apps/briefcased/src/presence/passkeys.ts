import { createHash, randomBytes } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import type { EnrolledCredential } from '@briefcase/presence';

export const PRESENCE_SCHEMA = `
CREATE TABLE IF NOT EXISTS passkeys (
  credential_id TEXT PRIMARY KEY,
  public_key TEXT NOT NULL,
  counter INTEGER NOT NULL,
  label TEXT NOT NULL,
  rp_id TEXT NOT NULL,
  origin TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  removed_at TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS recovery_codes (
  code_sha256 TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  used_at TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS operations (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  params TEXT NOT NULL,
  payload_sha256 TEXT NOT NULL,
  summary TEXT NOT NULL,
  details TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  decided_at TEXT,
  result TEXT,
  error TEXT
) STRICT;
`;

export interface Passkey extends EnrolledCredential {
  label: string;
  rp_id: string;
  origin: string;
  created_at: string;
  last_used_at: string | null;
}

/** How many recovery codes the first enrolment shows, and their strength (base32, 100 bits each). */
export const RECOVERY_CODES = 10;
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTVWXYZ0123456789';

const hashCode = (code: string) =>
  createHash('sha256')
    .update(code.toUpperCase().replace(/[^A-Z0-9]/g, ''))
    .digest('hex');

/**
 * Enrolled passkeys (public keys only: the private key never leaves the authenticator) and the
 * recovery codes, kept as hashes. A removed passkey stays in the table, marked, so that a
 * re-enrolment of the same credential id is a fresh row decision and not a silent revival.
 */
export class PasskeyStore {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(PRESENCE_SCHEMA);
  }

  count(): number {
    return (this.#db.prepare('SELECT COUNT(*) AS n FROM passkeys WHERE removed_at IS NULL').get() as { n: number }).n;
  }

  list(): Passkey[] {
    return this.#db
      .prepare(
        'SELECT credential_id, public_key, counter, label, rp_id, origin, created_at, last_used_at FROM passkeys WHERE removed_at IS NULL ORDER BY created_at',
      )
      .all() as unknown as Passkey[];
  }

  get(credentialId: string): Passkey | undefined {
    return this.list().find((p) => p.credential_id === credentialId);
  }

  add(p: Omit<Passkey, 'last_used_at'>): void {
    this.#db
      .prepare(
        `INSERT INTO passkeys (credential_id, public_key, counter, label, rp_id, origin, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (credential_id) DO UPDATE SET public_key = excluded.public_key, counter = excluded.counter,
           label = excluded.label, rp_id = excluded.rp_id, origin = excluded.origin,
           created_at = excluded.created_at, last_used_at = NULL, removed_at = NULL`,
      )
      .run(p.credential_id, p.public_key, p.counter, p.label, p.rp_id, p.origin, p.created_at);
  }

  used(credentialId: string, counter: number, at: string): void {
    this.#db
      .prepare('UPDATE passkeys SET counter = ?, last_used_at = ? WHERE credential_id = ?')
      .run(counter, at, credentialId);
  }

  remove(credentialId: string, at: string): boolean {
    return (
      this.#db
        .prepare('UPDATE passkeys SET removed_at = ? WHERE credential_id = ? AND removed_at IS NULL')
        .run(at, credentialId).changes === 1
    );
  }

  /** New recovery codes (replacing any unused ones). Returned once; only their hashes are kept. */
  newRecoveryCodes(at: string): string[] {
    this.#db.prepare('DELETE FROM recovery_codes WHERE used_at IS NULL').run();
    const codes = Array.from({ length: RECOVERY_CODES }, () => {
      const bytes = randomBytes(20);
      const chars = [...bytes].map((b) => CODE_ALPHABET[b % 32]).join('');
      return chars.match(/.{5}/g)!.join('-');
    });
    const insert = this.#db.prepare('INSERT INTO recovery_codes (code_sha256, created_at) VALUES (?, ?)');
    for (const c of codes) insert.run(hashCode(c), at);
    return codes;
  }

  /** Use a recovery code: true once per code. */
  useRecoveryCode(code: string, at: string): boolean {
    if (typeof code !== 'string' || code.length > 100) return false;
    return (
      this.#db
        .prepare('UPDATE recovery_codes SET used_at = ? WHERE code_sha256 = ? AND used_at IS NULL')
        .run(at, hashCode(code)).changes === 1
    );
  }

  unusedRecoveryCodes(): number {
    return (this.#db.prepare('SELECT COUNT(*) AS n FROM recovery_codes WHERE used_at IS NULL').get() as { n: number })
      .n;
  }
}
