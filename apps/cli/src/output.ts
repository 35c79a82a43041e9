import { oneLine, safeJson, safeText } from './safe-text.ts';

/**
 * The only place the CLI writes to stdout and stderr (eslint refuses process.stdout.write and
 * console elsewhere in apps/cli/src). Everything passes through safe-text.ts on the way out, so no
 * command can print an agent's or a remote server's text raw. Callers still put untrusted values
 * that belong on one line through `oneLine` (tables do it for every cell), so a newline in a value
 * cannot forge a line of its own.
 */

// `briefcase … | head` closes the pipe early: that is the reader's choice, not an error to report.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

/** One JSON document on stdout for --json; human text otherwise. */
export function printJson(value: unknown): void {
  process.stdout.write(`${safeJson(value)}\n`);
}

export function print(text: string): void {
  process.stdout.write(`${safeText(text, { multiline: true })}\n`);
}

export function warn(text: string): void {
  process.stderr.write(`${safeText(text, { multiline: true })}\n`);
}

/** A document shown as it is (a policy file): newlines and tabs kept, nothing else raw. */
export function printDocument(text: string): void {
  process.stdout.write(safeText(text, { multiline: true }));
}

/** A prompt on stderr, without a newline (the answer is typed after it). */
export function ask(question: string): void {
  process.stderr.write(safeText(question));
}

/** Commander's own help and error text goes through the same filter. */
export const commanderOutput = {
  writeOut: (s: string) => process.stdout.write(safeText(s, { multiline: true })),
  writeErr: (s: string) => process.stderr.write(safeText(s, { multiline: true })),
};

/** Columns padded to their widest cell; every cell is rendered on one line. */
export function table(rows: unknown[][]): string {
  if (rows.length === 0) return '';
  const cells = rows.map((r) => r.map((c) => oneLine(c ?? '')));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** At most `max` characters, with an ellipsis when something was cut (the full text is in --json). */
export function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Whether a person is likely reading stdout (a terminal), e.g. to open a browser for them. */
export function stdoutIsTerminal(): boolean {
  return process.stdout.isTTY === true;
}

/**
 * The full-screen view of `approvals watch`. The only control sequences the CLI writes, from this
 * fixed list: the alternate screen, cursor hide and show, home, erase and reverse video. Every
 * line's text still goes through safe-text.ts, so nothing a daemon answer holds reaches the
 * terminal as a control.
 */
const CSI = '\u001b[';
export const screen = {
  enter(): void {
    process.stdout.write(`${CSI}?1049h${CSI}?25l${CSI}H${CSI}2J`);
  },
  leave(): void {
    process.stdout.write(`${CSI}0m${CSI}?25h${CSI}?1049l`);
  },
  draw(lines: { text: string; inverse?: boolean }[]): void {
    const body = lines
      .map((l) => (l.inverse ? `${CSI}7m${oneLine(l.text)}${CSI}0m` : oneLine(l.text)) + `${CSI}K`)
      .join('\r\n');
    process.stdout.write(`${CSI}H${body}${CSI}J`);
  },
  size(): { width: number; height: number } {
    return { width: process.stdout.columns ?? 80, height: process.stdout.rows ?? 24 };
  },
};
