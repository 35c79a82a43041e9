// Types for format.js (hand-written JS, loaded by the popup as is; Node tests import it).
export interface Fact {
  label: string;
  value: string;
  pre: boolean;
  hidden: number;
}
export function visible(text: unknown, multiline?: boolean): { text: string; hidden: number };
export function argumentsText(args: unknown): { text: string; hidden: number };
export function costText(cost: number, currency: string): string;
export function expiresText(expiresAt: string, now?: number): string;
export function approvalFacts(a: Record<string, unknown>, now?: number): Fact[];
export function approvalUrl(consoleUrl: string, id: string): string;
export function receiptLine(r: Record<string, unknown>): string;
export function verifyText(v: Record<string, unknown> | undefined | null): { ok: boolean | null; text: string };
export function helpFor(code: string): string;
