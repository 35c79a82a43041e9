import { randomBytes } from 'node:crypto';
import {
  chownSync,
  closeSync,
  fchmodSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BriefcaseError } from '@briefcase/protocol/errors';

/**
 * A host's configuration file on disk: read once, then replaced atomically (a temporary file in
 * the same directory, same mode and owner, renamed over it) after a backup of exactly the text the
 * change was based on. A link (dotfile managers link these files) is followed: the file it points
 * to is replaced, the link stays.
 */
export interface ConfigFile {
  /** The path the host reads. */
  path: string;
  /** The file written: `path`, or where its link points. */
  target: string;
  /** null: there is no file yet. */
  text: string | null;
  mode: number;
  uid: number | undefined;
  gid: number | undefined;
}

/** Someone else changed the file between our read and our rename: read again and redo. */
export class ChangedUnderUs extends Error {}

const NEW_FILE_MODE = 0o600;

export function readConfigFile(path: string): ConfigFile {
  let target = path;
  let link;
  try {
    link = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(path, e);
    return { path, target, text: null, mode: NEW_FILE_MODE, uid: undefined, gid: undefined };
  }
  if (link.isSymbolicLink()) {
    try {
      target = realpathSync(path);
    } catch (e) {
      throw new BriefcaseError(
        'invalid_config',
        `${path} is a link to a file that does not exist (${(e as Error).message}); nothing was changed.`,
      );
    }
  }
  const st = statSync(target);
  if (!st.isFile()) throw new BriefcaseError('invalid_config', `${target} is not a regular file; nothing was changed.`);
  let text: string;
  try {
    text = readFileSync(target, 'utf8');
  } catch (e) {
    throw ioError(target, e);
  }
  return { path, target, text, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

function ioError(path: string, e: unknown): BriefcaseError {
  const code = (e as NodeJS.ErrnoException).code;
  return new BriefcaseError(
    code === 'EACCES' || code === 'EPERM' ? 'permission_denied' : 'internal',
    `${path}: ${(e as Error).message}`,
  );
}

/**
 * Write the backup as `<file>.briefcase-backup-20261202T190512Z` (then -2, -3… within the same
 * second; created exclusively, so two runs at once never share one) and return its path.
 */
function writeBackup(file: ConfigFile, now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const base = `${file.target}.briefcase-backup-${stamp}`;
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? base : `${base}-${i}`;
    try {
      writeNew(candidate, file.text!, file);
      return candidate;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || i >= 100) throw e;
    }
  }
}

function writeNew(path: string, text: string, file: ConfigFile): void {
  const fd = openSync(path, 'wx', file.mode);
  try {
    fchmodSync(fd, file.mode); // the umask narrowed what openSync created
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // A root shell editing someone's file must leave it theirs.
  if (file.uid !== undefined && process.getuid?.() === 0 && (file.uid !== 0 || file.gid !== 0)) {
    chownSync(path, file.uid, file.gid!);
  }
}

function currentText(target: string): string | null {
  try {
    return readFileSync(target, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError(target, e);
  }
}

/**
 * Replace the file with `text`; returns the backup's path (null for a file that did not exist).
 * Throws ChangedUnderUs, with nothing changed, when the file is no longer what was read.
 */
export function replaceConfigFile(file: ConfigFile, text: string, now: Date): string | null {
  const dir = dirname(file.target);
  if (file.text === null) mkdirSync(dir, { recursive: true });
  let backup: string | null = null;
  const tmp = join(dir, `.${basename(file.target)}.briefcase-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    if (file.text !== null) backup = writeBackup(file, now);
    writeNew(tmp, text, file);
    if (currentText(file.target) !== file.text) throw new ChangedUnderUs();
    renameSync(tmp, file.target);
  } catch (e) {
    for (const leftover of [tmp, ...(e instanceof ChangedUnderUs && backup ? [backup] : [])]) {
      try {
        unlinkSync(leftover);
      } catch {}
    }
    if (e instanceof ChangedUnderUs || e instanceof BriefcaseError) throw e;
    throw ioError(file.target, e);
  }
  try {
    const fd = openSync(dir, 'r');
    fsyncSync(fd);
    closeSync(fd);
  } catch {
    // Not every platform can fsync a directory (Windows); the rename itself is atomic.
  }
  return backup;
}
