import type { ApprovalView } from '@briefcase/protocol';
import { argsSummary, argumentNotices } from './approval-view.ts';
import { oneLine } from './safe-text.ts';

/** How often `approvals watch` asks the daemon for the waiting approvals (the UI refresh bound is 1 s). */
export const POLL_MS = 500;

/**
 * How long an approval must have been shown selected before `a` or `r` acts on it. The list moves
 * under the person (an approval expires or is decided elsewhere, and the selection falls to
 * another); a key pressed for the one that left must not decide one they have not read.
 */
export const SETTLE_MS = 400;

export type Key = 'up' | 'down' | 'approve' | 'reject' | 'quit' | 'refresh';

/** Keys from raw terminal input: arrows (CSI and SS3 forms), j/k, a, r, q, Ctrl-C, Ctrl-L. */
export function parseKeys(input: string): Key[] {
  const keys: Key[] = [];
  for (let i = 0; i < input.length; i++) {
    // ESC [ A and ESC O A (application cursor mode) are the up arrow; B is down.
    if (input[i] === '\u001b' && (input[i + 1] === '[' || input[i + 1] === 'O')) {
      const final = input[i + 2];
      if (final === 'A' || final === 'B') keys.push(final === 'A' ? 'up' : 'down');
      i += 2;
      continue;
    }
    const ch = input[i]!;
    if (ch === 'k') keys.push('up');
    else if (ch === 'j') keys.push('down');
    else if (ch === 'a') keys.push('approve');
    else if (ch === 'r') keys.push('reject');
    else if (ch === 'q' || ch === '\u0003' || ch === '\u0004') keys.push('quit');
    else if (ch === '\u000c') keys.push('refresh');
  }
  return keys;
}

export interface WatchState {
  approvals: ApprovalView[];
  /** The selected approval's id (selection follows the approval as the list changes). */
  selected: string | undefined;
  /** When the selection last changed (by a key or because the selected approval left). */
  selectedSince: number;
  /** The last thing that happened (approved, rejected, an error), shown at the bottom. */
  message: string;
  /** The daemon could not be reached on the last poll. */
  offline: string | undefined;
  updatedAt: Date | undefined;
}

export interface Line {
  text: string;
  inverse?: boolean;
}

/** The selected approval, falling back to the first when it left the list. */
export function selectedApproval(state: WatchState): ApprovalView | undefined {
  return state.approvals.find((a) => a.id === state.selected) ?? state.approvals[0];
}

/** Select `id` (the current selection if undefined), noting when the selection changed. */
export function select(state: WatchState, id: string | undefined, now: number): void {
  if (id !== state.selected) {
    state.selected = id;
    state.selectedSince = now;
  }
}

/** Whether `a`/`r` may act: the selected approval has been on screen, selected, for SETTLE_MS. */
export function selectionSettled(state: WatchState, now: number): boolean {
  return state.selected !== undefined && now - state.selectedSince >= SETTLE_MS;
}

/** Move the selection up or down by one. */
export function move(state: WatchState, by: number): string | undefined {
  const current = selectedApproval(state);
  const i = current ? state.approvals.indexOf(current) : 0;
  const next = state.approvals[Math.min(Math.max(i + by, 0), state.approvals.length - 1)];
  return next?.id ?? state.selected;
}

/** Visible width: every line is rendered on one line, escaped, then clipped to the terminal. */
function fit(text: string, width: number): string {
  const chars = [...oneLine(text)];
  return chars.length <= width ? chars.join('') : `${chars.slice(0, Math.max(width - 1, 0)).join('')}…`;
}

/**
 * The screen as lines, at most `height` of them, each at most `width` characters, every value
 * from the daemon (tool names, arguments, reasons: agent- or server-chosen) through safe-text.ts.
 */
export function renderWatch(state: WatchState, width: number, height: number): Line[] {
  const w = Math.max(width, 20);
  const sel = selectedApproval(state);
  const time = state.updatedAt ? state.updatedAt.toISOString().slice(11, 19) : '--:--:--';
  const head: Line[] = [
    { text: `Briefcase approvals: ${state.approvals.length} waiting (updated ${time})` },
    { text: '↑/↓ select · a approve · r reject · q quit' },
    { text: state.offline ? `daemon not reachable: ${state.offline} (retrying)` : '' },
  ];
  const detail: Line[] = sel ? details(sel, w) : [{ text: 'Nothing is waiting. New approvals appear here.' }];
  // The message may carry a console link: wrapped, not clipped, over up to four lines.
  const foot: Line[] = [{ text: '' }, ...wrap(state.message, w, 4).map((text) => ({ text }))];
  const listRows = Math.max(height - head.length - detail.length - foot.length - 1, 1);
  const rows = state.approvals.map((a) => ({
    text: `${a === sel ? '>' : ' '} ${a.id}  ${a.tool}  ${a.tier}  ${a.estimated_cost} ${a.currency}  ${argsSummary(a.args, 40)}`,
    inverse: a === sel,
  }));
  // Keep the selected row in view when the list is longer than the screen.
  const at = sel ? state.approvals.indexOf(sel) : 0;
  const start = Math.min(Math.max(at - listRows + 1, 0), Math.max(rows.length - listRows, 0));
  const list = rows.slice(start, start + listRows);
  return [...head, ...list, { text: '' }, ...detail, ...foot]
    .slice(0, Math.max(height, 1))
    .map((l) => ({ ...l, text: fit(l.text, w) }));
}

/** `text` on one line (escaped), cut into pieces of `width` characters, at most `max` of them. */
function wrap(text: string, width: number, max: number): string[] {
  const chars = [...oneLine(text)];
  const lines: string[] = [];
  for (let i = 0; i < chars.length && lines.length < max; i += width) lines.push(chars.slice(i, i + width).join(''));
  return lines.length ? lines : [''];
}

/** The facts of one approval, as `approvals show` gives them, each on one line. */
function details(a: ApprovalView, width: number): Line[] {
  const notices = [...argumentNotices(a.args), ...argumentNotices(a.tool, 'the tool name')];
  return [
    { text: `approval ${a.id} (tier ${a.tier}), requested by ${a.requested_by}` },
    { text: `  tool       ${a.tool} (${a.category}, ${a.origin})` },
    { text: `  arguments  ${argsSummary(a.args, Math.max(width - 14, 10))}` },
    ...notices.slice(0, 3).map((n) => ({ text: `  warning    ${n}` })),
    ...(notices.length > 3 ? [{ text: `  warning    … ${notices.length - 3} more: approvals show ${a.id}` }] : []),
    { text: `  reads      ${a.reads ?? '-'}` },
    { text: `  changes    ${a.changes ?? '-'}` },
    { text: `  cost       ${a.estimated_cost} ${a.currency} minor units (estimated)` },
    { text: `  why        ${a.reason}` },
    { text: `  expires    ${a.expires_at}` },
    ...(a.tier === 'local'
      ? []
      : [{ text: `  needs your passkey: "a" shows where to approve it in the console (it can be rejected here)` }]),
  ];
}
