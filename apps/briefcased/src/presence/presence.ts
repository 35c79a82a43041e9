import { randomBytes } from 'node:crypto';
import { canonicalize } from '@briefcase/crypto';
import {
  assertionOptions,
  PresenceRefused,
  presenceChallenge,
  recordAssertion,
  registrationOptions,
  verifyAssertion,
  verifyRegistration,
  type BoundPurpose,
  type PresenceEvidence,
  type RelyingParty,
} from '@briefcase/presence';
import { BriefcaseError } from '@briefcase/protocol';
import type { PasskeyStore, Passkey } from './passkeys.ts';
import { cli } from '../cli-hint.ts';

/** How long a ceremony's challenge, an enrolment link and an opened registration stay usable. */
export const CHALLENGE_TTL_MS = 2 * 60_000;
export const LINK_TTL_MS = 10 * 60_000;
const MAX_PENDING = 200;

type Pending =
  | { type: 'registration'; challenge: Uint8Array; label: string; expires: number }
  | { type: 'assertion'; challenge: Uint8Array; purpose: BoundPurpose; nonce: string; expires: number };

/** Why a person may register a passkey right now. */
export type RegistrationGrant = 'first' | 'recovery' | { operation: string };

/**
 * The daemon's side of every WebAuthn ceremony. Challenges are random ids the browser never
 * chooses, single-use (deleted on the first answer, good or bad) and short-lived; an assertion's
 * challenge commits to its purpose (packages/presence), so it proves presence for exactly one
 * approval or operation. Nothing here trusts the console: it re-checks who may register.
 */
export class PresenceService {
  readonly passkeys: PasskeyStore;
  #rp: RelyingParty | undefined;
  readonly #pending = new Map<string, Pending>();
  readonly #links = new Map<string, number>();
  /** Registrations opened by a link, a recovery code or a confirmed passkey_add, with expiry. */
  readonly #grants: { grant: RegistrationGrant; expires: number }[] = [];

  constructor(passkeys: PasskeyStore) {
    this.passkeys = passkeys;
  }

  /** The console's origin (`http://localhost:PORT`): passkeys are bound to rpID `localhost`. */
  setOrigin(origin: string): void {
    this.#rp = { id: new URL(origin).hostname, name: 'Briefcase', origin };
  }

  get rp(): RelyingParty {
    if (!this.#rp) throw new BriefcaseError('unavailable', 'the console is not running, so there is no passkey origin');
    return this.#rp;
  }

  enrolled(): boolean {
    return this.passkeys.count() > 0;
  }

  /** A one-time link for the first passkey; none once a passkey exists. */
  createEnrolLink(now = Date.now()): { token: string; expires_at: string } | null {
    if (this.enrolled()) return null;
    this.#sweep(now);
    const token = randomBytes(24).toString('base64url');
    this.#links.set(token, now + LINK_TTL_MS);
    return { token, expires_at: new Date(now + LINK_TTL_MS).toISOString() };
  }

  redeemEnrolLink(token: string, now = Date.now()): boolean {
    const expires = this.#links.get(token);
    this.#links.delete(token);
    if (expires === undefined || expires <= now || this.enrolled()) return false;
    this.grantRegistration('first', now);
    return true;
  }

  grantRegistration(grant: RegistrationGrant, now = Date.now()): void {
    this.#grants.push({ grant, expires: now + LINK_TTL_MS });
  }

  /** Take the registration grant matching `operationId` (or any first/recovery one). */
  #takeGrant(operationId: string | undefined, now: number): RegistrationGrant | null {
    const i = this.#grants.findIndex(
      (g) =>
        g.expires > now &&
        (operationId === undefined
          ? typeof g.grant === 'string' && (g.grant === 'recovery' || !this.enrolled())
          : typeof g.grant === 'object' && g.grant.operation === operationId),
    );
    if (i < 0) return null;
    const [g] = this.#grants.splice(i, 1);
    return g!.grant;
  }

  async beginRegistration(
    label: string,
    operationId: string | undefined,
    now = Date.now(),
  ): Promise<{ challenge_id: string; options: Record<string, unknown>; grant: RegistrationGrant }> {
    const grant = this.#takeGrant(operationId, now);
    if (!grant) {
      throw new BriefcaseError(
        'forbidden',
        this.enrolled()
          ? 'adding a passkey needs a confirmed passkey_add operation (or a recovery code)'
          : `the first passkey needs the one-time link from \`${cli('console')}\``,
      );
    }
    const challenge = randomBytes(32);
    const options = await registrationOptions(
      this.rp,
      { id: randomBytes(16), name: label },
      this.passkeys.list().map((p) => p.credential_id),
      challenge,
    );
    const id = this.#put({ type: 'registration', challenge, label, expires: now + CHALLENGE_TTL_MS });
    return { challenge_id: id, options: options as unknown as Record<string, unknown>, grant };
  }

  async finishRegistration(
    challengeId: string,
    response: unknown,
    origin: string,
    now = Date.now(),
  ): Promise<Omit<Passkey, 'last_used_at'>> {
    const p = this.#take(challengeId, now);
    if (p?.type !== 'registration') throw new PresenceRefused('unknown, used or expired registration challenge');
    const cred = await verifyRegistration(this.rp, response, p.challenge, origin);
    return {
      credential_id: cred.credential_id,
      public_key: cred.public_key,
      counter: cred.counter,
      label: p.label,
      rp_id: this.rp.id,
      origin: this.rp.origin,
      created_at: new Date(now).toISOString(),
    };
  }

  async beginAssertion(
    purpose: BoundPurpose,
    now = Date.now(),
  ): Promise<{ challenge_id: string; options: Record<string, unknown> }> {
    if (!this.enrolled()) throw new BriefcaseError('conflict', 'no passkey is enrolled yet: enrol one first');
    const nonce = randomBytes(16).toString('base64url');
    const challenge = presenceChallenge(purpose, nonce);
    const options = await assertionOptions(
      this.rp,
      this.passkeys.list().map((p) => p.credential_id),
      challenge,
    );
    const id = this.#put({ type: 'assertion', challenge, purpose, nonce, expires: now + CHALLENGE_TTL_MS });
    return { challenge_id: id, options: options as unknown as Record<string, unknown> };
  }

  /**
   * Verify an answer to `challengeId`, which must have been issued for exactly `expected`. The
   * challenge is spent whatever the outcome. Throws PresenceRefused with the reason.
   */
  async verify(
    challengeId: string,
    response: unknown,
    origin: string,
    expected: BoundPurpose,
    now = Date.now(),
  ): Promise<PresenceEvidence> {
    const p = this.#take(challengeId, now);
    if (p?.type !== 'assertion') throw new PresenceRefused('unknown, used or expired challenge (a replay?)');
    if (canonicalize(p.purpose) !== canonicalize(expected)) {
      throw new PresenceRefused('the challenge was issued for something else');
    }
    if (origin !== this.rp.origin)
      throw new PresenceRefused(`the assertion came through ${origin}, not ${this.rp.origin}`);
    const assertion = recordAssertion(response);
    const passkey = this.passkeys.get(assertion.credential_id);
    if (!passkey) throw new PresenceRefused(`passkey ${assertion.credential_id.slice(0, 16)} is not enrolled`);
    const { newCounter } = await verifyAssertion(this.rp, assertion, passkey, p.challenge);
    this.passkeys.used(passkey.credential_id, newCounter, new Date(now).toISOString());
    return { purpose: p.purpose, nonce: p.nonce, rp_id: this.rp.id, origin: this.rp.origin, assertion };
  }

  #put(p: Pending): string {
    this.#sweep(Date.now());
    if (this.#pending.size >= MAX_PENDING) {
      throw new BriefcaseError('rate_limited', 'too many passkey ceremonies are open; finish or wait for some');
    }
    const id = randomBytes(16).toString('base64url');
    this.#pending.set(id, p);
    return id;
  }

  #take(id: string, now: number): Pending | undefined {
    const p = this.#pending.get(id);
    this.#pending.delete(id);
    return p && p.expires > now ? p : undefined;
  }

  #sweep(now: number): void {
    for (const [id, p] of this.#pending) if (p.expires <= now) this.#pending.delete(id);
    for (const [t, e] of this.#links) if (e <= now) this.#links.delete(t);
    for (let i = this.#grants.length - 1; i >= 0; i--) if (this.#grants[i]!.expires <= now) this.#grants.splice(i, 1);
  }
}
