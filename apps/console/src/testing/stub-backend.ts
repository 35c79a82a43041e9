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

export function stubBackend(): StubBackend {
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
  const check = (response: Record<string, unknown>) => {
    if (response.id !== STUB_CREDENTIAL) refuse();
  };
  const emit = (e: ConsoleEvent) => {
    for (const l of listeners) l(e);
  };
  const options = () => ({ challenge_id: `c${++n}`, options: { challenge: `stub-${n}`, rpId: 'localhost' } });

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
      return options();
    },
    finishRegistration: async (_c, response) => {
      calls.push('finishRegistration');
      check(response);
      const p = {
        credential_id: STUB_CREDENTIAL,
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
    spend: () => ({ currency: 'USD', caps: [], series: [] }),
    remotes: () => [],
    connectors: () => [],
    keys: () => [],
    doctor: async () => [{ name: 'stub', ok: true, detail: 'stub backend' }],
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}
