import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConsoleBackend, OperationView, ReceiptFilter } from './backend.ts';
import { ConsoleHttpError, obj, optStr, str } from './http.ts';
import { cookieHeader, type Session, type SessionState, type SessionStore } from './sessions.ts';
import { openEventStream } from './sse.ts';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  session: Session;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** The console's own origin, handed to the backend for WebAuthn checks (never a header value). */
  origin: string;
  backend: ConsoleBackend;
  store: SessionStore;
  streams: Set<ServerResponse>;
  attempts: AttemptLimiter;
}

/** Who may call a route: any session (even anonymous), a session enrolling a passkey, or signed in. */
export type Access = 'any' | 'enrolling' | 'signed_in';

export interface Route {
  method: 'GET' | 'POST';
  pattern: string;
  access: Access;
  /** Returns the JSON to send, or undefined when the handler answered itself (SSE). */
  handle(ctx: RouteContext): Promise<unknown> | unknown;
}

const APPROVAL_STATUSES = new Set(['pending', 'approved', 'rejected', 'expired', 'consumed']);
const OPERATION_STATUSES = new Set(['pending', 'confirmed', 'rejected', 'expired', 'failed']);

/**
 * Guessing an enrolment token or a recovery code through the console: a few failures a minute,
 * then 429 for everyone until the minute is over (a person retyping a code is not slowed).
 */
export class AttemptLimiter {
  #failures: number[] = [];
  readonly #max: number;
  readonly #windowMs: number;
  constructor(max = 5, windowMs = 60_000) {
    this.#max = max;
    this.#windowMs = windowMs;
  }
  check(): void {
    const now = Date.now();
    this.#failures = this.#failures.filter((t) => now - t < this.#windowMs);
    if (this.#failures.length >= this.#max) {
      throw new ConsoleHttpError(429, 'rate_limited', 'too many wrong links or codes; wait a minute and try again');
    }
  }
  fail(): void {
    this.#failures.push(Date.now());
  }
}

export function sessionView(ctx: Pick<RouteContext, 'backend' | 'store'>, s: Session) {
  const status = ctx.backend.status();
  return {
    state: s.state,
    csrf: s.csrf,
    expires_in: ctx.store.secondsLeft(s),
    device_id: status.device_id,
    version: status.version,
    passkeys: status.passkeys,
    credential_id: s.credentialId ?? null,
  };
}

/** Replace the session with a new one at a higher state and hand the browser the new cookie. */
function promote(ctx: RouteContext, state: SessionState, credentialId?: string) {
  const next = ctx.store.promote(ctx.session, state, credentialId);
  ctx.res.setHeader('set-cookie', cookieHeader(next, ctx.store.secondsLeft(next)));
  ctx.session = next;
  return sessionView(ctx, next);
}

function challenge(ctx: RouteContext): { challengeId: string; response: Record<string, unknown> } {
  const challengeId = str(ctx.body, 'challenge_id', 512);
  const response = obj(ctx.body, 'response');
  if (!ctx.store.takeChallenge(ctx.session, challengeId)) {
    throw new ConsoleHttpError(
      400,
      'bad_request',
      'this passkey ceremony was not started in this session or was already used; start again',
    );
  }
  return { challengeId, response };
}

async function issue(ctx: RouteContext, p: Promise<{ challenge_id: string; options: Record<string, unknown> }>) {
  const r = await p;
  ctx.store.rememberChallenge(ctx.session, r.challenge_id);
  return { challenge_id: r.challenge_id, options: r.options };
}

function found<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new ConsoleHttpError(404, 'not_found', `no such ${what}`);
  return value;
}

function intParam(q: URLSearchParams, key: string, min: number, max: number): number | undefined {
  const v = q.get(key);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConsoleHttpError(400, 'bad_request', `"${key}" must be an integer from ${min} to ${max}`);
  }
  return n;
}

function textParam(q: URLSearchParams, key: string): string | undefined {
  const v = q.get(key);
  if (v === null || v === '') return undefined;
  if (v.length > 256) throw new ConsoleHttpError(400, 'bad_request', `"${key}" is too long`);
  return v;
}

export const ROUTES: Route[] = [
  // Session and the ceremonies that lead to one.
  { method: 'GET', pattern: '/api/session', access: 'any', handle: (c) => sessionView(c, c.session) },
  {
    method: 'POST',
    pattern: '/api/session/link',
    access: 'any',
    handle: (c) => {
      c.attempts.check();
      if (!c.backend.redeemEnrolLink(str(c.body, 'token', 512))) {
        c.attempts.fail();
        throw new ConsoleHttpError(
          403,
          'forbidden',
          'this enrolment link is unknown, used or expired; run `briefcase console` for a new one',
        );
      }
      return promote(c, 'enrolling');
    },
  },
  {
    method: 'POST',
    pattern: '/api/recovery',
    access: 'any',
    handle: (c) => {
      c.attempts.check();
      if (!c.backend.redeemRecoveryCode(str(c.body, 'code', 256))) {
        c.attempts.fail();
        throw new ConsoleHttpError(403, 'forbidden', 'this recovery code is unknown or was already used');
      }
      return promote(c, 'enrolling');
    },
  },
  {
    method: 'POST',
    pattern: '/api/signin/options',
    access: 'any',
    handle: (c) => issue(c, c.backend.beginAssertion({ kind: 'signin' })),
  },
  {
    method: 'POST',
    pattern: '/api/signin',
    access: 'any',
    handle: async (c) => {
      const { challengeId, response } = challenge(c);
      const r = await c.backend.signIn(challengeId, response, c.origin);
      return promote(c, 'signed_in', r.credential_id);
    },
  },
  {
    method: 'POST',
    pattern: '/api/signout',
    access: 'any',
    handle: (c) => {
      c.store.end(c.session);
      c.res.setHeader('set-cookie', 'briefcase_console=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0');
      return { state: 'signed_out' };
    },
  },
  {
    method: 'POST',
    pattern: '/api/passkeys/register/options',
    access: 'enrolling',
    handle: (c) => {
      const label = str(c.body, 'label', 100);
      const operationId = optStr(c.body, 'operation_id', 256);
      // A second passkey is registered only inside a confirmed passkey_add operation; the first
      // one (or one after recovery) only in an enrolling session.
      if (c.session.state === 'signed_in' && operationId === undefined) {
        throw new ConsoleHttpError(400, 'bad_request', 'adding a passkey needs a confirmed passkey_add operation');
      }
      if (c.session.state === 'enrolling' && operationId !== undefined) {
        throw new ConsoleHttpError(403, 'forbidden', 'sign in before using an operation');
      }
      return issue(c, c.backend.beginRegistration(label, operationId));
    },
  },
  {
    method: 'POST',
    pattern: '/api/passkeys/register',
    access: 'enrolling',
    handle: async (c) => {
      const { challengeId, response } = challenge(c);
      const r = await c.backend.finishRegistration(challengeId, response, c.origin);
      const out = { passkey: r.passkey, recovery_codes: r.recovery_codes ?? null, policy_note: r.policy_note ?? null };
      if (c.session.state !== 'enrolling') return out;
      // The first passkey (or the one after recovery) signs its holder in.
      return { ...out, session: promote(c, 'signed_in', r.passkey.credential_id) };
    },
  },
  { method: 'GET', pattern: '/api/passkeys', access: 'signed_in', handle: (c) => ({ passkeys: c.backend.passkeys() }) },

  // Approvals.
  {
    method: 'GET',
    pattern: '/api/approvals',
    access: 'signed_in',
    handle: (c) => {
      const status = textParam(c.query, 'status');
      if (status !== undefined && !APPROVAL_STATUSES.has(status)) {
        throw new ConsoleHttpError(400, 'bad_request', `unknown status "${status}"`);
      }
      return { approvals: c.backend.approvals(status as Parameters<ConsoleBackend['approvals']>[0]) };
    },
  },
  {
    method: 'GET',
    pattern: '/api/approvals/:id',
    access: 'signed_in',
    handle: (c) => ({ approval: found(c.backend.approval(c.params.id!), 'approval') }),
  },
  {
    method: 'POST',
    pattern: '/api/approvals/:id/options',
    access: 'signed_in',
    handle: (c) => issue(c, c.backend.beginAssertion({ kind: 'approve', approval_id: c.params.id! })),
  },
  {
    method: 'POST',
    pattern: '/api/approvals/:id/approve',
    access: 'signed_in',
    handle: async (c) => {
      const { challengeId, response } = challenge(c);
      return { approval: await c.backend.approve(c.params.id!, challengeId, response, c.origin) };
    },
  },
  {
    method: 'POST',
    pattern: '/api/approvals/:id/reject',
    access: 'signed_in',
    handle: (c) => ({ approval: c.backend.reject(c.params.id!) }),
  },

  // Guarded operations (policy, caps, remotes, pins, connectors, keys, passkeys).
  {
    method: 'GET',
    pattern: '/api/operations',
    access: 'signed_in',
    handle: (c) => {
      const status = textParam(c.query, 'status');
      if (status !== undefined && !OPERATION_STATUSES.has(status)) {
        throw new ConsoleHttpError(400, 'bad_request', `unknown status "${status}"`);
      }
      return { operations: c.backend.operations(status as OperationView['status'] | undefined) };
    },
  },
  {
    method: 'POST',
    pattern: '/api/operations',
    access: 'signed_in',
    handle: async (c) => ({
      operation: await c.backend.startOperation(
        str(c.body, 'kind', 64),
        c.body.params === undefined ? {} : obj(c.body, 'params'),
      ),
    }),
  },
  {
    method: 'GET',
    pattern: '/api/operations/:id',
    access: 'signed_in',
    handle: (c) => ({ operation: found(c.backend.operation(c.params.id!), 'operation') }),
  },
  {
    method: 'POST',
    pattern: '/api/operations/:id/options',
    access: 'signed_in',
    handle: (c) => issue(c, c.backend.beginAssertion({ kind: 'operation', operation_id: c.params.id! })),
  },
  {
    method: 'POST',
    pattern: '/api/operations/:id/confirm',
    access: 'signed_in',
    handle: async (c) => {
      const { challengeId, response } = challenge(c);
      return { operation: await c.backend.confirm(c.params.id!, challengeId, response, c.origin) };
    },
  },
  {
    method: 'POST',
    pattern: '/api/operations/:id/reject',
    access: 'signed_in',
    handle: (c) => ({ operation: c.backend.rejectOperation(c.params.id!) }),
  },

  // Receipts and read-only views.
  {
    method: 'GET',
    pattern: '/api/receipts',
    access: 'signed_in',
    handle: (c) => {
      const filter: ReceiptFilter = {
        kind: textParam(c.query, 'kind'),
        tool: textParam(c.query, 'tool'),
        outcome: textParam(c.query, 'outcome'),
        before: intParam(c.query, 'before', 0, Number.MAX_SAFE_INTEGER),
        limit: intParam(c.query, 'limit', 1, 200) ?? 50,
      };
      return { receipts: c.backend.receipts(filter) };
    },
  },
  {
    method: 'POST',
    pattern: '/api/receipts/verify',
    access: 'signed_in',
    handle: async (c) => ({ verify: await c.backend.verify() }),
  },
  {
    method: 'GET',
    pattern: '/api/receipts/:id',
    access: 'signed_in',
    handle: (c) => ({ receipt: found(c.backend.receipt(c.params.id!), 'receipt') }),
  },
  { method: 'GET', pattern: '/api/spend', access: 'signed_in', handle: (c) => ({ spend: c.backend.spend() }) },
  { method: 'GET', pattern: '/api/grants', access: 'signed_in', handle: (c) => c.backend.grants() },
  {
    // Revoking narrows what an agent can do: the signed-in session is enough (like rejecting).
    // Creating a grant widens it: the guarded grant_create operation, confirmed with a passkey.
    method: 'POST',
    pattern: '/api/grants/:id/revoke',
    access: 'signed_in',
    handle: (c) => c.backend.revokeGrant(c.params.id!),
  },
  { method: 'GET', pattern: '/api/remotes', access: 'signed_in', handle: (c) => ({ remotes: c.backend.remotes() }) },
  {
    method: 'GET',
    pattern: '/api/connectors',
    access: 'signed_in',
    handle: (c) => ({ connectors: c.backend.connectors() }),
  },
  { method: 'GET', pattern: '/api/keys', access: 'signed_in', handle: (c) => ({ keys: c.backend.keys() }) },
  {
    method: 'GET',
    pattern: '/api/doctor',
    access: 'signed_in',
    handle: async (c) => ({ checks: await c.backend.doctor() }),
  },
  {
    method: 'GET',
    pattern: '/api/events',
    access: 'signed_in',
    handle: (c) => {
      openEventStream(c.res, c.session, c.store, c.backend, c.streams);
      return undefined;
    },
  },
];

/** Match a path against the table; `:name` segments capture one URL-decoded segment. */
export function matchRoute(
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | { allowed: string[] } | undefined {
  const parts = path.split('/');
  const allowed: string[] = [];
  for (const route of ROUTES) {
    const pat = route.pattern.split('/');
    if (pat.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pat.length && ok; i++) {
      const p = pat[i]!;
      const v = parts[i]!;
      if (p.startsWith(':')) {
        let decoded: string;
        try {
          decoded = decodeURIComponent(v);
        } catch {
          decoded = '';
        }
        if (decoded === '' || decoded.length > 256) ok = false;
        else params[p.slice(1)] = decoded;
      } else if (p !== v) ok = false;
    }
    if (!ok) continue;
    if (route.method === method) return { route, params };
    allowed.push(route.method);
  }
  return allowed.length ? { allowed } : undefined;
}
