import type { AdminClient } from '../client.ts';
import { print, printJson, table } from '../output.ts';

interface OperationRow {
  id: string;
  kind: string;
  summary: string;
  status: string;
  expires_at: string;
  url: string | null;
  error?: string;
}

/** Guarded changes: those waiting for a passkey in the console, and what became of the others. */
export async function operationsList(c: AdminClient, json: boolean): Promise<void> {
  const { operations } = await c.get<{ operations: OperationRow[] }>('/v1/admin/operations');
  if (json) return printJson({ operations });
  if (operations.length === 0) return print('No guarded changes.');
  print(
    table([
      ['ID', 'STATUS', 'CHANGE', 'EXPIRES', 'CONFIRM AT'],
      ...operations.map((o) => [o.id, o.status, o.summary, o.expires_at, o.status === 'pending' ? (o.url ?? '-') : '']),
    ]),
  );
}

/** Narrowing: call a pending change off (no passkey needed). */
export async function operationsReject(c: AdminClient, id: string, json: boolean): Promise<void> {
  const op = await c.post<OperationRow>(`/v1/admin/operations/${encodeURIComponent(id)}/reject`);
  if (json) return printJson(op);
  print(`Operation ${op.id} rejected: ${op.summary}`);
}
