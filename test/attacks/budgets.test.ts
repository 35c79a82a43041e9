import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { cli, cliJson, receiptRecords, startDaemon, stdioClient, tempHome, type DaemonProcess } from '../helpers.ts';
import { callAs, patchConfig, startUpstream, tally, writeConnector, type Upstream } from './lib/calls.ts';

/**
 * Class 1 of issue 8: budgets under concurrency. A hostile (or merely parallel) agent fires many
 * calls at once, through one gateway or several, to slip past a cap between its check and its
 * reservation. A cap holds for any interleaving: check and reservation are one transaction.
 */
describe('attack: concurrent calls against a budget cap', () => {
  const { home, cleanup } = tempHome();
  let upstream: Upstream;
  let daemon: DaemonProcess;
  const clients: Client[] = [];
  const status = () => cliJson<{ spend: { day: number } }>(home, ['status']).json.spend;

  before(async () => {
    upstream = await startUpstream();
    assert.equal(cli(home, ['init']).code, 0);
    // Cost 1 each, payment category (under the default policy's approval threshold: no policy approval).
    for (const name of ['shop.deny', 'shop.ask', 'shop.split']) writeConnector(home, upstream, name);
    writeConnector(home, upstream, 'shop.later', { category: 'write' });
    patchConfig(home, {
      budgets: {
        currency: 'USD',
        caps: [
          { id: 'deny-3', scope: 'tool', match: 'shop.deny', window: 'day', limit: 3, on_exceed: 'deny' },
          { id: 'ask-3', scope: 'tool', match: 'shop.ask', window: 'day', limit: 3, on_exceed: 'approval' },
          { id: 'split-3', scope: 'tool', match: 'shop.split', window: 'day', limit: 3, on_exceed: 'deny' },
          { id: 'later-1', scope: 'tool', match: 'shop.later', window: 'day', limit: 1, on_exceed: 'approval' },
        ],
      },
    });
    daemon = await startDaemon(home);
    for (let i = 0; i < 4; i++) clients.push(await stdioClient(home, ['--approval-wait', '0']));
  });
  after(async () => {
    for (const c of clients) await c.close();
    await daemon?.stop();
    upstream?.close();
    cleanup();
  });

  it('20 calls at once through one gateway: exactly 3 run, 17 budget_exceeded (on_exceed deny)', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => callAs(clients[0]!, 'shop.deny', { item: `w${i}` })),
    );
    assert.deepEqual(tally(outcomes), { ok: 3, budget_exceeded: 17 });
    assert.equal(upstream.hits('/shop.deny'), 3, 'the upstream was reached exactly 3 times');
    const refused = outcomes.find((o) => o.code === 'budget_exceeded')!;
    assert.match(refused.text, /deny-3/);
    const calls = receiptRecords(home).filter((r) => r.kind === 'tool_call' && r.body.tool === 'shop.deny');
    assert.equal(calls.length, 20, 'one tool_call receipt per call');
    assert.equal(calls.filter((r) => r.body.outcome === 'ok').length, 3);
  });

  it('20 calls at once with on_exceed "approval": exactly 3 run, 17 wait for approval, none runs without it', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => callAs(clients[0]!, 'shop.ask', { item: 'same' })),
    );
    assert.deepEqual(tally(outcomes), { ok: 3, approval_required: 17 });
    assert.equal(upstream.hits('/shop.ask'), 3);
    const ids = new Set(outcomes.filter((o) => o.approvalId).map((o) => o.approvalId));
    assert.equal(ids.size, 1, 'identical calls wait on one approval');
    const ran = receiptRecords(home).filter(
      (r) => r.kind === 'tool_call' && r.body.tool === 'shop.ask' && r.body.outcome === 'ok',
    );
    assert.equal(ran.length, 3);
    assert.ok(
      ran.every((r) => r.body.approval_id === undefined),
      'the three within the cap needed no approval',
    );

    // Once a person approves exceeding the cap, the identical call runs once (single use).
    assert.equal(cli(home, ['approvals', 'approve', [...ids][0]!]).code, 0);
    const retried = await Promise.all(
      Array.from({ length: 20 }, () => callAs(clients[1]!, 'shop.ask', { item: 'same' })),
    );
    assert.deepEqual(tally(retried), { ok: 1, approval_required: 19 });
    assert.equal(upstream.hits('/shop.ask'), 4);
  });

  it('20 calls at once split across 4 gateways: exactly 3 run', async () => {
    const before = status().day;
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => callAs(clients[i % 4]!, 'shop.split', { item: `s${i}` })),
    );
    assert.deepEqual(tally(outcomes), { ok: 3, budget_exceeded: 17 });
    assert.equal(upstream.hits('/shop.split'), 3);
    assert.equal(status().day - before, 3, 'spend grew by exactly the cap');
  });

  it('an approval given before the budget ran out does not cover exceeding it', async () => {
    // shop.later needs a policy approval (write tool); both calls are approved while within the
    // cap. The first spends the cap; the second must then be approved again, for the budget.
    const a = await callAs(clients[0]!, 'shop.later', { item: 'a' });
    const b = await callAs(clients[0]!, 'shop.later', { item: 'b' });
    assert.equal(a.code, 'approval_required');
    assert.equal(b.code, 'approval_required');
    assert.doesNotMatch(b.text, /later-1/, 'within the cap, only policy asks');
    assert.equal(cli(home, ['approvals', 'approve', a.approvalId!]).code, 0);
    assert.equal(cli(home, ['approvals', 'approve', b.approvalId!]).code, 0);
    assert.equal((await callAs(clients[0]!, 'shop.later', { item: 'a' })).code, 'ok');
    const again = await callAs(clients[0]!, 'shop.later', { item: 'b' });
    assert.equal(again.code, 'approval_required', 'the earlier approval did not cover exceeding the cap');
    assert.match(again.text, /later-1/);
    assert.notEqual(again.approvalId, b.approvalId);
    assert.equal(upstream.hits('/shop.later'), 1);
    assert.equal(cli(home, ['approvals', 'approve', again.approvalId!]).code, 0);
    assert.equal((await callAs(clients[0]!, 'shop.later', { item: 'b' })).code, 'ok');
    assert.equal(upstream.hits('/shop.later'), 2);
    assert.equal(cliJson<{ ok: boolean }>(home, ['receipts', 'verify']).json.ok, true);
  });
});
