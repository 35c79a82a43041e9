import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type SessionState = 'anonymous' | 'enrolling' | 'signed_in';

export interface Session {
  id: string;
  csrf: string;
  state: SessionState;
  createdAt: number;
  /** Sliding idle deadline, never past `createdAt + ABSOLUTE_MS`. */
  expiresAt: number;
  /** The passkey that signed in (signed_in only). */
  credentialId?: string | undefined;
  /** Challenge ids this session was given: a ceremony must finish in the session that began it. */
  challenges: Set<string>;
  /** Called when the session ends (sign-out, expiry, replacement): closes its event streams. */
  onEnd: Set<() => void>;
}

export const COOKIE = 'briefcase_console';
export const IDLE_MS = 15 * 60 * 1000;
export const ABSOLUTE_MS = 60 * 60 * 1000;
const MAX_SESSIONS = 256;
const MAX_CHALLENGES = 16;

export const random = (): string => randomBytes(32).toString('base64url');

export function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Sessions live in memory only: a daemon restart signs everyone out, which is the safe side. */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  create(state: SessionState = 'anonymous', credentialId?: string): Session {
    this.#sweep();
    if (this.#sessions.size >= MAX_SESSIONS) this.#evictOldest();
    const now = this.#now();
    const s: Session = {
      id: random(),
      csrf: random(),
      state,
      createdAt: now,
      expiresAt: now + IDLE_MS,
      credentialId,
      challenges: new Set(),
      onEnd: new Set(),
    };
    this.#sessions.set(s.id, s);
    return s;
  }

  /** The live session for a cookie value, or undefined. Does not slide the deadline. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    if (this.#now() >= s.expiresAt) {
      this.end(s);
      return undefined;
    }
    return s;
  }

  /** Activity extends the idle deadline, capped at the absolute lifetime. */
  touch(s: Session): void {
    s.expiresAt = Math.min(this.#now() + IDLE_MS, s.createdAt + ABSOLUTE_MS);
  }

  /**
   * A change of privilege (enrolling, signed in) gets a new id and a new CSRF token, so a session
   * id planted or seen before the change is worth nothing after it (session fixation).
   */
  promote(old: Session, state: SessionState, credentialId?: string): Session {
    this.end(old);
    return this.create(state, credentialId);
  }

  rememberChallenge(s: Session, challengeId: string): void {
    if (s.challenges.size >= MAX_CHALLENGES) s.challenges.delete(s.challenges.values().next().value!);
    s.challenges.add(challengeId);
  }

  /** True once: the challenge was issued to this session and is now spent here. */
  takeChallenge(s: Session, challengeId: unknown): boolean {
    return typeof challengeId === 'string' && s.challenges.delete(challengeId);
  }

  secondsLeft(s: Session): number {
    return Math.max(0, Math.ceil((s.expiresAt - this.#now()) / 1000));
  }

  end(s: Session): void {
    if (!this.#sessions.delete(s.id)) return;
    for (const f of s.onEnd) f();
    s.onEnd.clear();
  }

  endAll(): void {
    for (const s of [...this.#sessions.values()]) this.end(s);
  }

  #sweep(): void {
    const now = this.#now();
    for (const s of [...this.#sessions.values()]) if (now >= s.expiresAt) this.end(s);
  }

  #evictOldest(): void {
    // Anonymous sessions cost nothing to make, so they go first; then the oldest of any kind.
    const all = [...this.#sessions.values()];
    const victim = all.find((s) => s.state === 'anonymous') ?? all[0];
    if (victim) this.end(victim);
  }
}

export function cookieHeader(s: Session, maxAgeSeconds: number): string {
  return `${COOKIE}=${s.id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}`;
}

export const CLEAR_COOKIE = `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;

export function cookieValue(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Read-only bearer tokens for the browser extension's viewer endpoints (minted by the daemon
 * for its native messaging host). Random, in memory, short-lived; valid nowhere else.
 */
export class ViewerTokens {
  readonly #tokens = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  mint(ttlSeconds = 600): { token: string; expires_at: string } {
    const ttl = Math.min(Math.max(1, Math.floor(ttlSeconds)), 3600);
    const now = this.#now();
    for (const [t, exp] of this.#tokens) if (now >= exp) this.#tokens.delete(t);
    const token = random();
    const expiresAt = now + ttl * 1000;
    // Keyed by hash so that the map holds nothing a heap dump could replay directly.
    this.#tokens.set(hashToken(token), expiresAt);
    return { token, expires_at: new Date(expiresAt).toISOString() };
  }

  valid(authorization: string | undefined): boolean {
    if (!authorization?.startsWith('Bearer ')) return false;
    const key = hashToken(authorization.slice(7).trim());
    const exp = this.#tokens.get(key);
    if (exp === undefined) return false;
    if (this.#now() >= exp) {
      this.#tokens.delete(key);
      return false;
    }
    return true;
  }

  clear(): void {
    this.#tokens.clear();
  }
}

const hashToken = (t: string) => createHash('sha256').update(t).digest('base64url');
