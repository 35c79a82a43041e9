import { startAuthentication, startRegistration } from '@simplewebauthn/browser';
import { post } from './api.ts';
import type { Ceremony, OperationView } from './types.ts';

type Json = Record<string, unknown>;

/** Ask the console for a challenge, let the authenticator sign it, hand the answer back. */
export async function assert<T>(optionsPath: string, finishPath: string, extra: Json = {}): Promise<T> {
  const c = await post<Ceremony>(optionsPath, extra);
  const response = await startAuthentication({ optionsJSON: c.options as never });
  return post<T>(finishPath, { challenge_id: c.challenge_id, response });
}

export async function register<T>(label: string, operationId?: string): Promise<T> {
  const c = await post<Ceremony>('/api/passkeys/register/options', {
    label,
    ...(operationId ? { operation_id: operationId } : {}),
  });
  const response = await startRegistration({ optionsJSON: c.options as never });
  return post<T>('/api/passkeys/register', { challenge_id: c.challenge_id, response });
}

export function confirmOperation(id: string): Promise<{ operation: OperationView }> {
  const p = `/api/operations/${encodeURIComponent(id)}`;
  return assert(`${p}/options`, `${p}/confirm`);
}

/** Start a guarded change and confirm it with a passkey at once. */
export async function startAndConfirm(kind: string, params: Json): Promise<OperationView> {
  const { operation } = await post<{ operation: OperationView }>('/api/operations', { kind, params });
  return (await confirmOperation(operation.id)).operation;
}

/** A person-readable reason for a failed ceremony (cancelled, timed out, refused by the daemon). */
export function ceremonyError(e: unknown): string {
  if (e instanceof Error) {
    if (e.name === 'NotAllowedError') return 'The passkey prompt was cancelled or timed out. Nothing was approved.';
    return e.message;
  }
  return String(e);
}
