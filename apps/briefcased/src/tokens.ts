import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
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

/** Tokens are compared as digests, in constant time, so length differences leak nothing either. */
export function tokenDigest(token: string): Buffer {
  return hash('sha256', token, 'buffer');
}

/**
 * The daemon's bearer-token check, run on every API request (a kept-alive connection carries no
 * authority of its own). The expected tokens' digests are kept, recomputed only when the token
 * itself changes; the presented token is hashed once for both comparisons, and both comparisons
 * always run. Issue 13: four SHA-256 objects per request became one one-shot hash.
 */
export class TokenCheck {
  #admin: { token: string; digest: Buffer } | undefined;
  #agent: { token: string; digest: Buffer } | undefined;

  role(presented: string, tokens: { admin: string; agent: string }): 'admin' | 'agent' | null {
    if (this.#admin?.token !== tokens.admin) this.#admin = { token: tokens.admin, digest: tokenDigest(tokens.admin) };
    if (this.#agent?.token !== tokens.agent) this.#agent = { token: tokens.agent, digest: tokenDigest(tokens.agent) };
    const digest = tokenDigest(presented);
    const admin = timingSafeEqual(digest, this.#admin.digest);
    const agent = timingSafeEqual(digest, this.#agent.digest);
    return admin ? 'admin' : agent ? 'agent' : null;
  }
}
