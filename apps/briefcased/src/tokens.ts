import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '@briefcase/vault';

/** 256-bit bearer tokens, prefixed so a leaked one is recognisable in a scan. */
export function newToken(kind: 'agent' | 'admin' | 'gw'): string {
  return `bc_${kind}_${randomBytes(32).toString('base64url')}`;
}

export function ensureToken(path: string, kind: 'agent' | 'admin' | 'gw'): boolean {
  if (existsSync(path)) return false;
  writeFileAtomic(path, `${newToken(kind)}\n`);
  return true;
}

export function readToken(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

/** Constant-time comparison over digests, so length differences leak nothing either. */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
