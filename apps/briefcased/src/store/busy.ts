import { BriefcaseError } from '@briefcase/protocol';

/** SQLITE_BUSY (5) and SQLITE_LOCKED (6): another connection holds a lock we need. */
export function isBusy(error: unknown): boolean {
  const errcode = (error as { errcode?: unknown } | null)?.errcode;
  return typeof errcode === 'number' && ((errcode & 0xff) === 5 || (errcode & 0xff) === 6);
}

/**
 * The database stayed write-locked by another process for longer than the daemon waits. Fails
 * closed as `unavailable`; nothing could be written, so the caller logs what it could not record.
 */
export class StoreBusyError extends BriefcaseError {
  constructor(waitedMs: number, cause: unknown) {
    super(
      'unavailable',
      `the Briefcase's database is locked by another process (waited ${Math.round(waitedMs / 1000)} s); nothing was recorded, try again later`,
      cause instanceof Error ? cause.message : String(cause),
    );
  }
}
