import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { argumentNotices, describeApproval } from './approval-view.ts';
import { countUnsafe, oneLine, safeJson, safeText } from './safe-text.ts';

/** Anything a terminal interprets or does not show (what no CLI output may contain raw). */
const RAW_DANGER =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff\uffa0\u{e0000}-\u{e0fff}]/u;

/** Strings rich in the characters that matter: controls, bidi, zero-width, tags, lone surrogates. */
const hostile = fc.string({
  unit: fc.oneof(
    fc.constantFrom(
      '\u001b',
      '\u001b[2K',
      '\u001b]8;;https://evil.example\u0007',
      '\r',
      '\b',
      '\n',
      '\t',
      '\u007f',
      '\u0085',
      '\u009b',
      '\u202e',
      '\u2066',
      '\u200f',
      '\u061c',
      '\u200b',
      '\u200d',
      '\ufeff',
      '\u{e0041}',
      '\ud800',
      '\udfff',
      '\u2028',
      '\u00a0',
    ),
    fc.string({ unit: 'grapheme', maxLength: 3 }),
    fc.string({ unit: 'binary', maxLength: 3 }),
  ),
  maxLength: 40,
});

describe('safe text: what the CLI writes to a terminal', () => {
  it('never lets a control, bidi, invisible or lone-surrogate code point through (property)', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        assert.doesNotMatch(oneLine(s), RAW_DANGER);
        assert.ok(!oneLine(s).includes('\n'));
        assert.doesNotMatch(safeText(s, { multiline: true }).replace(/[\n\t]/g, ''), RAW_DANGER);
        assert.ok(!/\p{Cs}/u.test(oneLine(s)), 'no lone surrogate');
      }),
      { numRuns: 500 },
    );
  });

  it('JSON output parses to the same value and holds no such code point raw (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(hostile, fc.oneof(hostile, fc.array(hostile), fc.integer())), (value) => {
        const text = safeJson(value);
        assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
        assert.doesNotMatch(text.replace(/\n/g, ''), RAW_DANGER);
      }),
      { numRuns: 300 },
    );
  });

  it('shows what was hidden as an escape an approver can read', () => {
    assert.equal(oneLine('pay\u202eevil'), 'pay\\u202eevil');
    assert.equal(oneLine('a\u001b[2Kb\rc'), 'a\\u001b[2Kb\\rc');
    assert.equal(oneLine('x\u{e0041}'), 'x\\u{e0041}');
    assert.equal(safeText('line one\nline two', { multiline: true }), 'line one\nline two');
    assert.equal(oneLine('line one\nline two'), 'line one\\nline two');
    assert.equal(safeText('é 😀 日本', { multiline: true }), 'é 😀 日本', 'ordinary text is untouched');
    assert.equal(countUnsafe('a\u200bb\u202ec d'), 2);
  });

  it('the approval view warns about invisible characters, long values and mixed scripts', () => {
    const notices = argumentNotices({ to: 'p\u0430ypal.com', text: `ok\u202e`, long: 'x'.repeat(500), n: 1 });
    assert.ok(notices.some((n) => /args\.text contains 1 invisible or control character/.test(n)));
    assert.ok(notices.some((n) => /args\.long is 500 characters long/.test(n)));
    assert.ok(notices.some((n) => /args\.to mixes Latin and Cyrillic/.test(n)));
    assert.deepEqual(argumentNotices({ text: 'buy milk', city: 'Zürich', ru: 'привет мир' }), []);
    const view = describeApproval({
      id: 'ap_1',
      status: 'pending',
      tier: 'local',
      tool: 'notes.add',
      origin: 'builtin',
      category: 'write',
      args: { text: 'safe\u001b[2K\rrm -rf /\u202e' },
      call_hash: 'h',
      reason: 'policy\u001b]0;title\u0007',
      reads: null,
      changes: 'notes.jsonl\nforged line',
      estimated_cost: 0,
      currency: 'USD',
      requested_by: 'agent',
      created_at: '',
      expires_at: '',
      decided_at: null,
    });
    assert.doesNotMatch(view, RAW_DANGER);
    assert.match(view, /warning {4}args\.text contains 3 invisible or control characters/);
    assert.match(view, /changes {4}notes\.jsonl\\nforged line/);
  });
});
