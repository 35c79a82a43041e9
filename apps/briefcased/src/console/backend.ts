import type {
  ConsoleApproval,
  ConsoleBackend,
  ConsoleEvent,
  OperationView,
  PasskeyView,
  PresencePurpose,
  ReceiptFilter,
  ReceiptSummary,
} from '@briefcase/console';
import { capApplies } from '@briefcase/policy';
import { PresenceRefused, type BoundPurpose } from '@briefcase/presence';
import { BriefcaseError, type ApprovalView } from '@briefcase/protocol';
import type { Services } from '../daemon.ts';
import { approveWithPresence, rejectApproval } from '../presence/approve.ts';
import { enrolPasskey } from '../presence/enrol.ts';
import { confirmOperation, rejectOperation, startOperation, verifyPresence } from '../presence/guard.ts';
import type { Operation } from '../presence/operations.ts';
import type { RegistrationGrant } from '../presence/presence.ts';
import { toolAccess, toolAccessText } from '../tools/access-view.ts';
import { VERSION } from '../version.ts';
import { revokeGrant } from '../payments/admin.ts';
import { consoleDoctor } from './doctor.ts';
import { consoleGrants } from './grants.ts';
import { listReceipts, readReceipt, verifyLiveLog } from './receipts.ts';

/**
 * The daemon's side of the console (apps/console/src/backend.ts). The console owns HTTP and
 * sessions; every decision — who may register, whether an assertion holds, what runs — is here.
 */
export function consoleBackend(s: Services): ConsoleBackend {
  const grants = new Map<string, RegistrationGrant>();

  const bound = (purpose: PresencePurpose): BoundPurpose => {
    if (purpose.kind === 'signin') return { kind: 'signin' };
    if (purpose.kind === 'approve') {
      const a = s.approvals.get(purpose.approval_id);
      if (!a) throw new BriefcaseError('not_found', `no approval ${purpose.approval_id}`);
      if (a.status !== 'pending') throw new BriefcaseError('conflict', `approval ${a.id} is ${a.status}, not pending`);
      return { kind: 'approve', approval_id: a.id, call_hash: a.call_hash };
    }
    const op = s.operations.get(purpose.operation_id);
    if (!op) throw new BriefcaseError('not_found', `no operation ${purpose.operation_id}`);
    if (op.status !== 'pending')
      throw new BriefcaseError('conflict', `operation ${op.id} is ${op.status}, not pending`);
    return { kind: 'operation', operation_id: op.id, payload_sha256: op.payload_sha256 };
  };

  return {
    status: () => ({ device_id: s.keys.identity.keyId, version: VERSION, passkeys: s.presence.passkeys.count() }),

    redeemEnrolLink: (token) => typeof token === 'string' && s.presence.redeemEnrolLink(token),

    async beginRegistration(label, operationId) {
      const clean =
        String(label ?? '')
          .trim()
          .slice(0, 64) || 'passkey';
      const { challenge_id, options, grant } = await s.presence.beginRegistration(clean, operationId);
      grants.set(challenge_id, grant);
      return { challenge_id, options };
    },

    async finishRegistration(challengeId, response, origin) {
      const grant = grants.get(challengeId);
      grants.delete(challengeId);
      let passkey;
      try {
        passkey = await s.presence.finishRegistration(challengeId, response, origin);
      } catch (e) {
        if (!(e instanceof PresenceRefused)) throw e;
        s.receipts.append('passkey', 'admin', { event: 'registration_refused', reason: e.reason });
        throw new BriefcaseError('presence_refused', `refused: ${e.reason}`);
      }
      if (!grant) throw new BriefcaseError('forbidden', 'this registration was not opened');
      const out = enrolPasskey(s, passkey, grant);
      return { passkey: passkeyView(passkey), ...out };
    },

    async beginAssertion(purpose) {
      return s.presence.beginAssertion(bound(purpose));
    },

    async signIn(challengeId, response, origin) {
      const evidence = await verifyPresence(s, challengeId, response, origin, { kind: 'signin' });
      s.receipts.append('passkey', 'admin', { event: 'signed_in', credential_id: evidence.assertion.credential_id });
      return { credential_id: evidence.assertion.credential_id };
    },

    redeemRecoveryCode(code) {
      if (!s.presence.passkeys.useRecoveryCode(code, new Date().toISOString())) {
        s.receipts.append('passkey', 'admin', { event: 'recovery_code_refused' });
        return false;
      }
      s.receipts.append('passkey', 'admin', { event: 'recovery_code_used' });
      s.presence.grantRegistration('recovery');
      return true;
    },

    approvals: (status) => s.approvals.list(status).map((a) => withBudget(s, a)),
    approval: (id) => {
      const a = s.approvals.get(id);
      return a ? withBudget(s, a) : undefined;
    },
    approve: (id, challengeId, response, origin) => approveWithPresence(s, id, challengeId, response, origin),
    reject: (id) => rejectApproval(s, id, 'console'),

    operations: (status) => s.operations.list(status).map(operationView),
    operation: (id) => {
      const op = s.operations.get(id);
      return op ? operationView(op) : undefined;
    },
    startOperation: async (kind, params) => operationView(startOperation(s, kind, params)),
    confirm: async (id, challengeId, response, origin) =>
      operationView(await confirmOperation(s, id, challengeId, response, origin)),
    rejectOperation: (id) => operationView(rejectOperation(s, id)),

    passkeys: () => s.presence.passkeys.list().map(passkeyView),

    receipts: (filter: ReceiptFilter): ReceiptSummary[] => listReceipts(s, filter),
    receipt: (id) => readReceipt(s, id),
    verify: () => verifyLiveLog(s),

    spend: () => {
      const now = new Date();
      return {
        currency: s.config.budgets.currency,
        caps: s.config.budgets.caps.map((c) => ({
          id: c.id,
          scope: c.scope === 'all' ? 'all' : `${c.scope} ${c.match ?? ''}`.trim(),
          window: c.window,
          limit: c.limit,
          spent: s.ledger.spentFor(c, now),
          reserved: 0,
        })),
        series: s.ledger.series(30, now),
      };
    },

    remotes: () =>
      s.remotes.list().map((r) => ({
        name: r.name,
        transport: r.transport,
        target: r.target,
        status: r.status,
        access: r.access,
        tools: s.remotes.definitions(r.name).map((t) => ({
          qualified: t.qualified,
          original: t.original,
          state: t.state,
          ...(t.state === 'changed'
            ? { before: t.before ?? '(the reviewed definition was not kept)', after: t.after }
            : {}),
        })),
      })),

    connectors: () =>
      s.connectors.list().map(({ file, tools, state, reason }) => {
        const access = tools.map((t) => toolAccess(s, t)?.access).find((a) => a !== undefined);
        return { file, tools, state, reason, ...(access ? { access } : {}) };
      }),

    grants: () => consoleGrants(s),
    revokeGrant: (id) => {
      const r = revokeGrant(s, id) as { grant_id: string; revoked_at: string };
      return { grant_id: r.grant_id, revoked_at: r.revoked_at };
    },

    keys: () =>
      Object.values(s.keys).map((k) => ({
        role: k.role,
        algorithm: k.algorithm,
        backend: k.backend,
        non_exportable: k.nonExportable,
        key_id: k.keyId,
      })),

    doctor: () => consoleDoctor(s),

    subscribe(listener: (event: ConsoleEvent) => void) {
      const onApproval = (id: string) => {
        const a: ApprovalView | undefined = s.approvals.get(id);
        if (a) listener({ type: 'approval', id, status: a.status });
      };
      const onEvent = (e: ConsoleEvent) => listener(e);
      s.approvals.changed.on('change', onApproval);
      s.events.on('event', onEvent);
      return () => {
        s.approvals.changed.off('change', onApproval);
        s.events.off('event', onEvent);
      };
    },
  };
}

/** The caps a call draws on, with what is spent, and the ones approving it lets it exceed. */
function withBudget(s: Services, a: ApprovalView): ConsoleApproval {
  const exceeding = new Set(s.approvals.budgetCaps(a.id));
  const caps = s.config.budgets.caps.filter((c) => capApplies(c, a.tool, a.category));
  const access = toolAccessText(s, a.tool);
  if (caps.length === 0) return { ...a, budget: 'no budget cap applies to this tool', ...(access ? { access } : {}) };
  const currency = s.config.budgets.currency;
  const budget = caps
    .map((c) => {
      const spent = c.window === 'call' ? '' : `, ${s.ledger.spentFor(c)} spent`;
      const over = exceeding.has(c.id) ? ' — approving lets this call exceed it' : '';
      return `${c.id}: ${c.limit} ${currency} per ${c.window}${spent}${over}`;
    })
    .join('; ');
  return { ...a, budget, ...(access ? { access } : {}) };
}

function passkeyView(p: {
  credential_id: string;
  label: string;
  created_at: string;
  last_used_at?: string | null;
}): PasskeyView {
  return {
    credential_id: p.credential_id,
    label: p.label,
    created_at: p.created_at,
    last_used_at: p.last_used_at ?? null,
  };
}

function operationView(op: Operation): OperationView {
  return {
    id: op.id,
    kind: op.kind,
    summary: op.summary,
    details: op.details,
    status: op.status,
    created_at: op.created_at,
    expires_at: op.expires_at,
    ...(op.result ? { result: op.result } : {}),
    ...(op.error ? { error: op.error } : {}),
  };
}
