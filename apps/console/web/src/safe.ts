/**
 * Text an agent or a remote server chose is shown with invisible and control characters made
 * visible (bidi overrides, zero-width characters), as the CLI does (apps/cli/src/safe-text.ts).
 * React already escapes markup; this is about what a person reads.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

export function visible(text: string, keepNewlines = false): string {
  return text.replace(UNSAFE, (ch) =>
    keepNewlines && ch === '\n' ? ch : `\\u{${ch.codePointAt(0)!.toString(16).padStart(4, '0')}}`,
  );
}

export function countHidden(text: string): number {
  return [...text.matchAll(UNSAFE)].filter((m) => m[0] !== '\n').length;
}

export function prettyJson(value: unknown): string {
  return visible(JSON.stringify(value, null, 2), true);
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
