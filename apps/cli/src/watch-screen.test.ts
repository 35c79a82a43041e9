import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApprovalView } from '@briefcase/protocol';
import { argsSummary } from './approval-view.ts';
import { move, parseKeys, renderWatch, select, selectionSettled, SETTLE_MS, type WatchState } from './watch-screen.ts';

const approval = (id: string, over: Partial<ApprovalView> = {}): ApprovalView => ({
  id,
  status: 'pending',
  tier: 'local',
  tool: 'notes.add',
  origin: 'builtin',
  category: 'write',
  args: { text: id },
  call_hash: 'h',
  reason: 'policy',
  reads: null,
  changes: 'a note',
  estimated_cost: 0,
  currency: 'USD',
  requested_by: 'agent',
  created_at: '2026-12-02T19:00:00.000Z',
  expires_at: '2026-12-02T19:10:00.000Z',
  decided_at: null,
  ...over,
});

const state = (approvals: ApprovalView[], selected?: string): WatchState => ({
  approvals,
  selected,
  selectedSince: 0,
  message: '',
  offline: undefined,
  updatedAt: new Date(0),
});

describe('approvals watch screen (issue 11)', () => {
  it('reads arrows in both encodings, j/k, a, r, q and Ctrl-C', () => {
    assert.deepEqual(parseKeys('\u001b[A\u001bOB\u001b[Cjkarq\u0003x'), [
      'up',
      'down',
      'down',
      'up',
      'approve',
      'reject',
      'quit',
      'quit',
    ]);
  });

  it('never lets a daemon value put a control, bidi or escape on the screen, nor overflow a line', () => {
    const evil = `\u001b]8;;http://evil\u0007click\u001b[2J\u202e\u2066\r\n${'z'.repeat(5000)}`;
    const lines = renderWatch(
      state([approval('apr_1', { tool: `x${evil}`, args: { [evil]: evil }, reason: evil, changes: evil })]),
      80,
      40,
    );
    for (const l of lines) {
      assert.ok(
        [...l.text].every((c) => c.codePointAt(0)! >= 0x20 && c !== '\u007f' && c !== '\u202e' && c !== '\u2066'),
        JSON.stringify(l.text),
      );
      assert.ok([...l.text].length <= 80, `${[...l.text].length}: ${l.text}`);
    }
    assert.ok(lines.some((l) => l.text.includes('warning')));
  });

  it('keeps the selected row in view when the list is longer than the screen', () => {
    const many = Array.from({ length: 50 }, (_, i) => approval(`apr_${i}`));
    const lines = renderWatch(state(many, 'apr_45'), 100, 24);
    assert.ok(lines.length <= 24);
    assert.ok(lines.some((l) => l.inverse && l.text.startsWith('> apr_45')));
    assert.equal(move(state(many, 'apr_45'), 1), 'apr_46');
    assert.equal(move(state(many, 'apr_49'), 1), 'apr_49');
    assert.equal(move(state(many, 'apr_0'), -1), 'apr_0');
  });

  it('says where a passkey-tier approval is approved', () => {
    const text = renderWatch(state([approval('apr_p', { tier: 'presence' })]), 120, 40)
      .map((l) => l.text)
      .join('\n');
    assert.match(text, /needs your passkey/);
  });
});

describe('a key acts only on an approval shown selected long enough to read', () => {
  it('refuses right after the selection changed, by a key or by the list', () => {
    const s = state([approval('apr_a'), approval('apr_b')]);
    select(s, 'apr_a', 10_000);
    assert.equal(selectionSettled(s, 10_000 + SETTLE_MS - 1), false);
    assert.equal(selectionSettled(s, 10_000 + SETTLE_MS), true);
    // apr_a leaves the list: the selection falls to apr_b, which has not been read yet.
    s.approvals = [approval('apr_b')];
    select(s, 'apr_b', 20_000);
    assert.equal(selectionSettled(s, 20_001), false);
    // Re-selecting the same approval does not restart the clock.
    select(s, 'apr_b', 20_000 + SETTLE_MS);
    assert.equal(selectionSettled(s, 20_000 + SETTLE_MS), true);
    assert.equal(selectionSettled(state([]), 99_999), false);
  });
});

describe('argsSummary (approvals list)', () => {
  it('is short, escaped and marks the cut', () => {
    assert.equal(argsSummary({ a: 1 }), '{"a":1}');
    const s = argsSummary({ t: `\u202e${'y'.repeat(1_000_000)}` }, 30);
    assert.equal([...s].length, 30);
    assert.ok(s.startsWith('{"t":"\\u202e'), s);
    assert.ok(s.endsWith('…'));
    // An escape is never what makes the summary overflow.
    assert.ok([...argsSummary({ t: '\u001b'.repeat(100) }, 20)].length <= 20);
  });
});
