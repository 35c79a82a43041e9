import { receiptRecords } from '../../helpers.ts';

export type ReceiptRecord = ReturnType<typeof receiptRecords>[number];

/** tool_call receipts appended after `since` (a seq), in order. */
export function toolCallsSince(home: string, since: number): ReceiptRecord[] {
  return receiptRecords(home).filter((r) => r.kind === 'tool_call' && r.seq > since);
}

export function lastSeq(home: string): number {
  const all = receiptRecords(home);
  return all.length ? all[all.length - 1]!.seq : 0;
}

/** The receipt id the gateway returned in a tool result's _meta. */
export function receiptOf(result: { _meta?: unknown }): string | undefined {
  return (result._meta as Record<string, string> | undefined)?.['dev.briefcase/receipt'];
}

export function errorCode(result: { _meta?: unknown }): string | undefined {
  return (result._meta as Record<string, { code: string }> | undefined)?.['dev.briefcase/error']?.code;
}
