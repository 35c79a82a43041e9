import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Limits of a tool's key-value store: small state (a cursor, a cache), not a database. */
export const KV_LIMITS = { keyChars: 128, valueBytes: 64 * 1024, totalBytes: 1024 * 1024, keys: 1000 } as const;

/**
 * A per-tool key-value store, one JSON file in the tool's own directory (`kv.json`, mode 0600).
 * String values only. A write over a limit is refused by the caller (host.ts) before it gets here.
 */
export class KvStore {
  readonly #file: string;
  #data: Map<string, string> | undefined;

  constructor(toolDir: string) {
    this.#file = join(toolDir, 'kv.json');
  }

  #load(): Map<string, string> {
    if (this.#data) return this.#data;
    const data = new Map<string, string>();
    if (existsSync(this.#file)) {
      const raw = JSON.parse(readFileSync(this.#file, 'utf8')) as Record<string, unknown>;
      for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') data.set(k, v);
    }
    this.#data = data;
    return data;
  }

  get(key: string): string | null {
    return this.#load().get(key) ?? null;
  }

  /** Bytes the store would take with `key` set to `value` (null: deleted). */
  sizeWith(key: string, value: string | null): { bytes: number; keys: number } {
    const data = new Map(this.#load());
    if (value === null) data.delete(key);
    else data.set(key, value);
    return { bytes: Buffer.byteLength(JSON.stringify(Object.fromEntries(data))), keys: data.size };
  }

  set(key: string, value: string | null): void {
    const data = this.#load();
    if (value === null) data.delete(key);
    else data.set(key, value);
    mkdirSync(join(this.#file, '..'), { recursive: true, mode: 0o700 });
    // Random and exclusive ('wx' never follows a link): a link planted at a predictable name would
    // have the daemon write the tool's keys and values into the file it points to.
    const tmp = `${this.#file}.${randomBytes(8).toString('hex')}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(Object.fromEntries(data)), { mode: 0o600, flag: 'wx' });
      renameSync(tmp, this.#file);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }
}
