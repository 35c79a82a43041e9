import type { ServerResponse } from 'node:http';
import { BriefcaseError } from '@briefcase/protocol';
import { PresenceRefused, type BoundPurpose, type PresenceEvidence } from '@briefcase/presence';
import { sendJson } from '../api/http.ts';
import type { Services } from '../daemon.ts';
import { transaction } from '../store/db.ts';
import { OPERATION_KINDS } from './operation-kinds.ts';
import { operationPayloadHash, type Operation } from './operations.ts';

/** How long a guarded change waits for a person before it expires. */
export const OPERATION_TTL_SECONDS = 15 * 60;

/** Where the person confirms an operation. */
export function operationUrl(s: Services, id: string): string | null {
  return s.console ? `${s.console.url}/#/operations/${id}` : null;
}

export function startOperation(s: Services, kind: string, params: Record<string, unknown>): Operation {
  const k = OPERATION_KINDS[kind];
  if (!k) throw new BriefcaseError('bad_request', `unknown operation ${kind}`);
  const prepared = k.prepare(s, params);
  const op = transaction(s.db, () => {
    const created = s.operations.create(
      kind,
      prepared.params,
      prepared.summary,
      prepared.details,
      OPERATION_TTL_SECONDS,
    );
    s.receipts.append('operation', 'admin', {
      event: 'started',
      operation_id: created.id,
      kind,
      payload_sha256: created.payload_sha256,
      summary: created.summary,
    });
    return created;
  });
  s.logger.info('guarded operation waiting for a passkey', { operation: op.id, kind });
  s.events.emit('event', { type: 'operation', id: op.id, status: op.status });
  return op;
}

/**
 * An admin route for a change that widens what an agent can do. Before any passkey is enrolled it
 * runs at once. After, it becomes a pending operation and the answer is 403 `presence_required`
 * with the console link where a person confirms it with a passkey — whoever asked, admin token
 * or not (issue 9, guarded administration).
 */
export async function guarded(
  s: Services,
  res: ServerResponse,
  kind: string,
  params: Record<string, unknown>,
): Promise<void> {
  if (!s.presence.enrolled()) {
    const k = OPERATION_KINDS[kind]!;
    const prepared = k.prepare(s, params);
    sendJson(res, 200, await k.run(s, prepared.params, ''));
    return;
  }
  const op = startOperation(s, kind, params);
  const url = operationUrl(s, op.id);
  sendJson(res, 403, {
    error: {
      code: 'presence_required',
      message: url
        ? `this change needs a passkey: confirm it in the console at ${url}`
        : 'this change needs a passkey, and the console is not running: start the daemon with the console enabled',
    },
    operation: { id: op.id, kind: op.kind, summary: op.summary, expires_at: op.expires_at, url },
  });
}

/** Verify an assertion for `purpose`; a refusal is receipted, then thrown as presence_refused. */
export async function verifyPresence(
  s: Services,
  challengeId: string,
  response: unknown,
  origin: string,
  purpose: BoundPurpose,
): Promise<PresenceEvidence> {
  try {
    return await s.presence.verify(challengeId, response, origin, purpose);
  } catch (e) {
    if (!(e instanceof PresenceRefused)) throw e;
    const credential = (response as { id?: unknown } | null)?.id;
    s.receipts.append('passkey', 'admin', {
      event: 'assertion_refused',
      purpose,
      reason: e.reason,
      credential_id: typeof credential === 'string' ? credential.slice(0, 200) : null,
    });
    s.logger.warn('passkey assertion refused', { purpose: purpose.kind, reason: e.reason });
    throw new BriefcaseError('presence_refused', `refused: ${e.reason}`);
  }
}

/** Confirm a pending operation with a passkey, then run it. */
export async function confirmOperation(
  s: Services,
  id: string,
  challengeId: string,
  response: unknown,
  origin: string,
): Promise<Operation> {
  const op = s.operations.get(id);
  if (!op) throw new BriefcaseError('not_found', `no operation ${id}`);
  if (op.status !== 'pending') throw new BriefcaseError('conflict', `operation ${id} is ${op.status}, not pending`);
  // The stored parameters must still be what the person is asked to confirm.
  if (operationPayloadHash(op.kind, op.params) !== op.payload_sha256) {
    throw new BriefcaseError('conflict', `operation ${id} was altered in the database; start it again`);
  }
  const evidence = await verifyPresence(s, challengeId, response, origin, {
    kind: 'operation',
    operation_id: op.id,
    payload_sha256: op.payload_sha256,
  });
  transaction(s.db, () => {
    if (!s.operations.transition(id, 'pending', 'confirmed')) {
      throw new BriefcaseError('conflict', `operation ${id} expired or was decided meanwhile`);
    }
    s.receipts.append('operation', 'admin', {
      event: 'confirmed',
      operation_id: id,
      kind: op.kind,
      payload_sha256: op.payload_sha256,
      presence: evidence,
    });
  });
  try {
    const result = await OPERATION_KINDS[op.kind]!.run(s, op.params, id);
    s.operations.finish(id, { result });
    s.receipts.append('operation', 'admin', { event: 'done', operation_id: id, kind: op.kind });
  } catch (e) {
    const message = e instanceof BriefcaseError ? e.message : 'internal error';
    s.operations.transition(id, 'confirmed', 'failed');
    s.operations.finish(id, { error: message });
    s.receipts.append('operation', 'admin', { event: 'failed', operation_id: id, kind: op.kind, error: message });
    if (!(e instanceof BriefcaseError)) s.logger.error('confirmed operation failed', { operation: id, error: e });
  }
  s.events.emit('event', { type: 'operation', id, status: s.operations.get(id)!.status });
  return s.operations.get(id)!;
}

export function rejectOperation(s: Services, id: string): Operation {
  const op = s.operations.get(id);
  if (!op) throw new BriefcaseError('not_found', `no operation ${id}`);
  transaction(s.db, () => {
    if (!s.operations.transition(id, 'pending', 'rejected')) {
      throw new BriefcaseError('conflict', `operation ${id} is ${op.status}, not pending`);
    }
    s.receipts.append('operation', 'admin', { event: 'rejected', operation_id: id, kind: op.kind });
  });
  s.events.emit('event', { type: 'operation', id, status: 'rejected' });
  return s.operations.get(id)!;
}
