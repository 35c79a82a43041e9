import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approvalFacts, approvalUrl, receiptLine, verifyText, visible } from '../extension/format.js';

const approval = {
  id: 'ap_1',
  status: 'pending',
  tier: 'presence',
  tool: 'notes.add',
  origin: 'builtin',
  category: 'write',
  args: { text: 'pay\u202Egnp.exe', token: '[redacted]' },
  call_hash: 'h',
  reason: 'policy write-tools-need-approval',
  reads: null,
  changes: 'appends to notes.jsonl',
  estimated_cost: 0,
  currency: 'USD',
  requested_by: 'agent',
  created_at: '2030-01-01T00:00:00.000Z',
  expires_at: '2030-01-01T00:10:00.000Z',
  decided_at: null,
};

describe('the popup’s view of an approval (format.js)', () => {
  it('shows every fact the console shows, in order', () => {
    const facts = approvalFacts(approval, Date.parse('2030-01-01T00:00:55.000Z'));
    assert.deepEqual(
      facts.map((f) => f.label),
      ['Tool', 'Server', 'Arguments', 'Reads', 'Changes', 'Cost', 'Why', 'Tier', 'Expires'],
    );
    const by = Object.fromEntries(facts.map((f) => [f.label, f.value]));
    assert.equal(by.Tool, 'notes.add');
    assert.equal(by.Reads, '-');
    assert.equal(by.Cost, '0 USD minor units (estimated)');
    assert.equal(by.Tier, 'presence');
    assert.equal(by.Expires, 'in 9 min 5 s (2030-01-01T00:10:00.000Z)');
  });

  it('shows a bidi override in the arguments as an escape, and counts it', () => {
    const args = approvalFacts(approval).find((f) => f.label === 'Arguments')!;
    assert.match(args.value, /pay\\u\{202e\}gnp\.exe/);
    assert.equal(args.hidden, 1);
    assert.deepEqual(visible('a\u200Bb\nc'), { text: 'a\\u{200b}b\\u{a}c', hidden: 2 });
  });

  it('links to the console page of that approval, whatever the id holds', () => {
    assert.equal(approvalUrl('http://localhost:4000', 'ap_1'), 'http://localhost:4000/#/approvals/ap_1');
    assert.equal(
      approvalUrl('http://localhost:4000/x?y', '../#/x y'),
      'http://localhost:4000/#/approvals/..%2F%23%2Fx%20y',
    );
  });

  it('says plainly whether the receipt log verifies', () => {
    assert.equal(verifyText({ ok: true, records: 5, checkpoints: 1, assertions: 1, problems: [] }).ok, true);
    const bad = verifyText({ ok: false, records: 5, checkpoints: 1, assertions: 0, problems: ['seq 3: bad hash'] });
    assert.deepEqual(bad, { ok: false, text: 'Receipt log does NOT verify: seq 3: bad hash' });
    assert.equal(
      receiptLine({
        seq: 7,
        ts: '2030-01-01T14:03:07.123Z',
        kind: 'approval',
        tool: 'notes.add',
        event: 'approved',
        presence: true,
      }),
      '#7 14:03:07 approval notes.add approved · passkey',
    );
  });
});
