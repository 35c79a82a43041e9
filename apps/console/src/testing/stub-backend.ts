/**
 * A stand-in ConsoleBackend, for testing the console server's OWN HTTP behaviour only (Host,
 * Origin, CSRF, CORS, cookies, CSP, viewer scope, static files) and the hostile-page browser
 * test. It stands for the daemon's real backend (apps/briefcased/src/console/backend.ts), which
 * does every WebAuthn check; this stub checks no passkey at all: an assertion is "valid" when its
 * `id` is STUB_CREDENTIAL. Never use it to claim anything about passkeys, approvals or receipts:
 * test/console-e2e.test.ts does that against the real daemon.
 */
import { BriefcaseError, type ApprovalView } from '@briefcase/protocol';
import type { ConsoleBackend, ConsoleEvent, OperationView, PasskeyView } from '../backend.ts';

export const STUB_CREDENTIAL = 'stub-credential';
export const STUB_LINK = 'stub-enrol-link';

export interface StubBackend extends ConsoleBackend {
  /** What the stub was asked to do, to prove a refused request never reached it. */
  calls: string[];
  addApproval(id: string): ApprovalView;
  emit(e: ConsoleEvent): void;
}

/** Sample rows for the read-only pages (spend, remotes, connectors, keys), for looking at the page. */
const SAMPLE = {
  spend: {
    currency: 'USD',
    caps: [
      { id: 'daily', scope: 'all tools', window: 'day', limit: 500, spent: 120, reserved: 30 },
      { id: 'search', scope: 'tool web.search', window: 'month', limit: 2000, spent: 1900, reserved: 0 },
    ],
    series: Array.from({ length: 14 }, (_, i) => ({
      day: new Date(Date.UTC(2026, 10, 18 + i)).toISOString().slice(0, 10),
      total: [0, 40, 120, 80, 0, 0, 310, 150, 90, 60, 0, 220, 130, 150][i]!,
    })),
  },
  remotes: [
    {
      name: 'docs',
      transport: 'stdio',
      target: 'npx docs-server',
      status: 'connected',
      tools: [
        { qualified: 'docs.search', original: 'search', state: 'pinned' as const },
        {
          qualified: 'docs.fetch',
          original: 'fetch',
          state: 'changed' as const,
          before: '{\n  "name": "fetch",\n  "description": "Fetch a page"\n}',
          after: '{\n  "name": "fetch",\n  "description": "Fetch a page and send it to the server"\n}',
        },
      ],
    },
  ],
  connectors: [{ file: 'connectors/weather.json', tools: ['weather.forecast'], state: 'ok' as const, reason: null }],
  keys: [{ role: 'receipts', algorithm: 'ES256', backend: 'software', non_exportable: false, key_id: 'k_receipts' }],
};

export function stubBackend(opts: { sample?: boolean } = {}): StubBackend {
  const sample = opts.sample ?? false;
  const calls: string[] = [];
  const listeners = new Set<(e: ConsoleEvent) => void>();
  const approvals = new Map<string, ApprovalView>();
  const operations = new Map<string, OperationView>();
  const passkeys: PasskeyView[] = [];
  let n = 0;
  const refuse = () => {
    throw Object.assign(new Error('the passkey assertion was refused'), {
      name: 'BriefcaseError',
      code: 'presence_refused',
    });
  };
  // "Registered" ids: STUB_CREDENTIAL, and whatever id a registration answer carried.
  const known = new Set([STUB_CREDENTIAL]);
  const check = (response: Record<string, unknown>) => {
    if (typeof response.id !== 'string' || !known.has(response.id)) refuse();
  };
  const emit = (e: ConsoleEvent) => {
    for (const l of listeners) l(e);
  };
  // Well-formed WebAuthn options, so a browser's virtual authenticator can answer them; the stub
  // never verifies the answer's signature.
  const challenge = () => Buffer.from(`stub-challenge-${++n}-${Date.now()}`).toString('base64url');
  const options = () => ({
    challenge_id: `c${n + 1}`,
    options: {
      challenge: challenge(),
      rpId: 'localhost',
      userVerification: 'required',
      allowCredentials: [],
      timeout: 60_000,
    },
  });
  const regOptions = (label: string) => ({
    challenge_id: `c${n + 1}`,
    options: {
      challenge: challenge(),
      rp: { name: 'Briefcase (stub)', id: 'localhost' },
      user: { id: Buffer.from('stub-user').toString('base64url'), name: label, displayName: label },
      pubKeyCredParams: [{ alg: -7, type: 'public-key' }],
      timeout: 60_000,
      attestation: 'none',
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    },
  });

  return {
    calls,
    emit,
    addApproval(id) {
      const now = new Date();
      const a: ApprovalView = {
        id,
        status: 'pending',
        tier: 'presence',
        tool: 'demo.send_email',
        origin: 'builtin',
        category: 'write',
        args: { to: 'ana@example.com', subject: 'hello', body: '[redacted]' },
        call_hash: 'sha256:00',
        reason: 'policy: write tools need a passkey',
        reads: 'your address book',
        changes: 'sends one email',
        estimated_cost: 0,
        currency: 'USD',
        requested_by: 'agent',
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + 600_000).toISOString(),
        decided_at: null,
      };
      approvals.set(id, a);
      emit({ type: 'approval', id, status: 'pending' });
      return a;
    },
    status: () => ({ device_id: 'dev_stub', version: '0.0.0-stub', passkeys: passkeys.length }),
    redeemEnrolLink: (t) => {
      calls.push('redeemEnrolLink');
      return t === STUB_LINK;
    },
    redeemRecoveryCode: (c) => {
      calls.push('redeemRecoveryCode');
      return c === 'stub-recovery';
    },
    beginRegistration: async (label) => {
      calls.push(`beginRegistration:${label}`);
      return regOptions(label);
    },
    finishRegistration: async (_c, response) => {
      calls.push('finishRegistration');
      if (typeof response.id !== 'string') refuse();
      known.add(response.id as string);
      const p = {
        credential_id: response.id as string,
        label: 'stub',
        created_at: new Date().toISOString(),
        last_used_at: null,
      };
      passkeys.push(p);
      return { passkey: p, recovery_codes: ['stub-recovery'], policy_note: 'write tools now need a passkey' };
    },
    beginAssertion: async (purpose) => {
      calls.push(`beginAssertion:${purpose.kind}`);
      return options();
    },
    signIn: async (_c, response) => {
      calls.push('signIn');
      check(response);
      return { credential_id: STUB_CREDENTIAL };
    },
    approvals: (status) => [...approvals.values()].filter((a) => !status || a.status === status),
    approval: (id) => approvals.get(id),
    approve: async (id, _c, response) => {
      calls.push(`approve:${id}`);
      check(response);
      const a = approvals.get(id);
      if (!a) throw new BriefcaseError('not_found', 'no such approval');
      a.status = 'approved';
      emit({ type: 'approval', id, status: 'approved' });
      return a;
    },
    reject: (id) => {
      calls.push(`reject:${id}`);
      const a = approvals.get(id);
      if (!a) throw new BriefcaseError('not_found', 'no such approval');
      a.status = 'rejected';
      emit({ type: 'approval', id, status: 'rejected' });
      return a;
    },
    operations: (status) => [...operations.values()].filter((o) => !status || o.status === status),
    operation: (id) => operations.get(id),
    startOperation: async (kind, params) => {
      calls.push(`startOperation:${kind}`);
      const now = Date.now();
      const op: OperationView = {
        id: `op${++n}`,
        kind,
        summary: `${kind} (stub)`,
        details: params,
        status: 'pending',
        created_at: new Date(now).toISOString(),
        expires_at: new Date(now + 600_000).toISOString(),
      };
      operations.set(op.id, op);
      return op;
    },
    confirm: async (id, _c, response) => {
      calls.push(`confirm:${id}`);
      check(response);
      const op = operations.get(id);
      if (!op) throw new BriefcaseError('not_found', 'no such operation');
      op.status = 'confirmed';
      return op;
    },
    rejectOperation: (id) => {
      calls.push(`rejectOperation:${id}`);
      const op = operations.get(id);
      if (!op) throw new BriefcaseError('not_found', 'no such operation');
      op.status = 'rejected';
      return op;
    },
    passkeys: () => passkeys,
    receipts: () => [
      {
        seq: 1,
        id: 'r1',
        ts: new Date().toISOString(),
        kind: 'tool_call',
        actor: 'agent',
        tool: 'demo.echo',
        outcome: 'ok',
      },
    ],
    receipt: (id) => (id === 'r1' ? { seq: 1, kind: 'tool_call' } : undefined),
    verify: async () => ({ ok: true, records: 1, checkpoints: 0, assertions: 0, problems: [] }),
    spend: () => (sample ? SAMPLE.spend : { currency: 'USD', caps: [], series: [] }),
    grants: () => ({ wallet: null, grants: [] }),
    revokeGrant: (id) => {
      throw new BriefcaseError('not_found', `no active grant ${id}`);
    },
    remotes: () => (sample ? SAMPLE.remotes : []),
    connectors: () => (sample ? SAMPLE.connectors : []),
    keys: () => (sample ? SAMPLE.keys : []),
    doctor: async () => [{ name: 'stub', ok: true, detail: 'stub backend' }],
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}
