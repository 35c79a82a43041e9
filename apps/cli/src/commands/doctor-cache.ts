import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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
    const bytes = readRegular(item);
    h.update(bytes ?? '\0(not a readable file)');
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
  // A cache directory that is not a plain directory of ours (a link planted by whoever can write
  // the data directory) is not used at all: doctor computes, and keeps nothing.
  if (!cacheDirUsable(join(home, 'cache'))) return compute();
  let all: Record<string, { key: string; result: CachedResult }> = {};
  const kept0 = readKept(file);
  if (kept0) all = kept0;
  const kept = all[name];
  if (!fresh && kept?.key === key && typeof kept.result?.ok === 'boolean') return kept.result;
  const result = await compute();
  try {
    // Read again just before writing: the checks run at once and each keeps its own entry.
    all = { ...readKept(file) };
    all[name] = { key, result };
    mkdirSync(join(home, 'cache'), { recursive: true, mode: 0o700 });
    if (!cacheDirUsable(join(home, 'cache'))) return result;
    // A fresh random name, created exclusively ('wx': O_CREAT|O_EXCL, which never follows a link):
    // a link planted at a predictable name would have had doctor overwrite the file it points to.
    const tmp = `${file}.${randomBytes(8).toString('hex')}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(all), { mode: 0o600, flag: 'wx' });
      renameSync(tmp, file);
    } catch {
      rmSync(tmp, { force: true });
    }
  } catch {
    // Not writable: the next run computes again.
  }
  return result;
}

/** The cache directory is used only when it is a real directory (not a link) owned by this user. */
function cacheDirUsable(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && (process.getuid === undefined || st.uid === process.getuid());
  } catch {
    return true; // Missing: mkdirSync creates it, and it is checked again before writing.
  }
}

/**
 * A regular file's bytes (through a link too: only their hash is kept), without waiting on a FIFO
 * planted where a connector or config file should be; undefined otherwise.
 */
function readRegular(path: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    return fstatSync(fd).isFile() ? readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** doctor.json's entries, read without following a link (one O_NOFOLLOW open), bounded; {} otherwise. */
function readKept(file: string): Record<string, { key: string; result: CachedResult }> | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > 1024 * 1024) return undefined;
    const parsed = JSON.parse(readFileSync(fd, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, never>)
      : undefined;
  } catch {
    return undefined; // None yet, a link, or unreadable: computed.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
