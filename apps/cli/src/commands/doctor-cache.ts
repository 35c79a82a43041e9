import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A check's result as kept: `ok` and whatever the check needs to word its message. */
export type CachedResult = { ok: boolean } & Record<string, unknown>;

/** `<data dir>/cache/doctor.json`: the last result of each slow `doctor` check, with the key it was for. */
export const doctorCacheFile = (home: string) => join(home, 'cache', 'doctor.json');

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** A key for what a check reads: each path with its contents (or that it is missing), and the literals given. */
export function contentKey(items: string[]): string {
  const h = createHash('sha256');
  for (const item of items) {
    h.update(`${item}\0`);
    try {
      h.update(readFileSync(item));
    } catch {
      h.update('\0(not a readable file)');
    }
    h.update('\0');
  }
  return h.digest('hex');
}

/**
 * The result of a slow check (`name`) for `key` (what it depends on: a file's hash, a binary's
 * path, size and mtime): the kept one when `key` is unchanged, else computed and kept. `fresh`
 * (doctor --deep) always computes. The file is only `doctor`'s memory, never read by the daemon,
 * which checks for itself; someone who can write it can write the data directory anyway. A
 * missing, unreadable or malformed file is recomputed, and a cache that cannot be written is no
 * error.
 */
export async function cached(
  home: string,
  name: string,
  key: string,
  fresh: boolean,
  compute: () => Promise<CachedResult>,
): Promise<CachedResult> {
  const file = doctorCacheFile(home);
  let all: Record<string, { key: string; result: CachedResult }> = {};
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) all = parsed as typeof all;
  } catch {
    // None yet, or unreadable: computed below.
  }
  const kept = all[name];
  if (!fresh && kept?.key === key && typeof kept.result?.ok === 'boolean') return kept.result;
  const result = await compute();
  try {
    // Read again just before writing: the checks run at once and each keeps its own entry.
    try {
      all = { ...(JSON.parse(readFileSync(file, 'utf8')) as typeof all) };
    } catch {
      // Still none.
    }
    all[name] = { key, result };
    mkdirSync(join(home, 'cache'), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(all), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // Not writable: the next run computes again.
  }
  return result;
}
