import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { cli, cliJson, receiptRecords, startDaemon, stdioClient, tempHome, type DaemonProcess } from '../helpers.ts';
import { callAs, patchConfig, startUpstream, tally, writeConnector, type Upstream } from './lib/calls.ts';

interface Approval {
  id: string;
  status: string;
  tier: string;
  tool: string;
  args: Record<string, unknown>;
  reads: string | null;
  changes: string | null;
  estimated_cost: number;
  currency: string;
  reason: string;
}

/**
 * Class 8 of issue 8 (approval flood): a hostile agent buries the approver under approvals.
 * At most `approvals.max_pending` (default 20) wait per requester; more are refused with
 * `rate_limited`, each refusal receipted once, and the limit holds for concurrent calls.
 */
describe('attack: an approval flood', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;
  let agent: Client;

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home);
    agent = await stdioClient(home, ['--approval-wait', '0']);
  });
  after(async () => {
    await agent?.close();
    await daemon?.stop();
    cleanup();
  });

  it('30 distinct write calls at once: exactly 20 approvals wait, 10 calls are rate_limited', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, i) => callAs(agent, 'notes.add', { text: `flood ${i}` })),
    );
    assert.deepEqual(tally(outcomes), { approval_required: 20, rate_limited: 10 });
    const pending = cliJson<{ approvals: Approval[] }>(home, ['approvals', 'list']).json.approvals;
    assert.equal(pending.length, 20);
    const limited = outcomes.find((o) => o.code === 'rate_limited')!;
    assert.match(limited.text, /20 approvals/);
    assert.match(limited.text, /approvals list/);
    assert.match(limited.text, /expire/);
    assert.ok(limited.receipt, 'a refused call is receipted');
    const calls = receiptRecords(home).filter((r) => r.kind === 'tool_call' && r.body.tool === 'notes.add');
    assert.equal(calls.length, 30, 'exactly one tool_call receipt per call');
    assert.equal(calls.filter((r) => r.body.outcome === 'rate_limited').length, 10);
  });

  it('a retry of a waiting call is not refused; deciding one makes room for one more', async () => {
    const again = await callAs(agent, 'notes.add', { text: 'flood 0' });
    assert.equal(again.code, 'approval_required');
    const pending = cliJson<{ approvals: Approval[] }>(home, ['approvals', 'list']).json.approvals;
    assert.equal(cli(home, ['approvals', 'reject', pending[0]!.id]).code, 0);
    const [first, second] = await Promise.all([
      callAs(agent, 'notes.add', { text: 'room 1' }),
      callAs(agent, 'notes.add', { text: 'room 2' }),
    ]);
    assert.deepEqual(tally([first!, second!]), { approval_required: 1, rate_limited: 1 });
    // Calls that need no approval still run.
    assert.equal((await callAs(agent, 'notes.search', { query: 'x' })).code, 'ok');
  });
});

/**
 * Gaps the review named: what an approval shows the approver, and that an approval the CLI
 * cannot give (presence, signer) is refused there while the call never runs. Also: an approval
 * counts only at the tier required when it is used (policy may have tightened since).
 */
describe('attack: approvals at the wrong tier, and what an approver sees', () => {
  const { home, cleanup } = tempHome();
  let upstream: Upstream;
  let daemon: DaemonProcess;
  let agent: Client;
  const show = (id: string) => cliJson<Approval>(home, ['approvals', 'show', id]);

  before(async () => {
    upstream = await startUpstream();
    assert.equal(cli(home, ['init']).code, 0);
    writeConnector(home, upstream, 'door.open', { category: 'write', estimate: 0 });
    writeConnector(home, upstream, 'pay.card', {
      category: 'payment',
      estimate: 250,
      currency: 'EUR',
      sensitive: ['card'],
      reads: 'the balance of your card',
      changes: 'charges your card',
    });
    patchConfig(home, {
      budgets: {
        currency: 'EUR',
        caps: [{ id: 'eur-day', scope: 'tool', match: 'pay.card', window: 'day', limit: 100, on_exceed: 'approval' }],
      },
    });
    daemon = await startDaemon(home);
    agent = await stdioClient(home, ['--approval-wait', '0']);
  });
  after(async () => {
    await agent?.close();
    await daemon?.stop();
    upstream?.close();
    cleanup();
  });

  it('approvals show: tool, redacted sensitive args, reads, changes, cost, currency and why', async () => {
    const asked = await callAs(agent, 'pay.card', { item: 'lamp', card: '4111-CANARY-1111' });
    assert.equal(asked.code, 'approval_required');
    const { code, json } = show(asked.approvalId!);
    assert.equal(code, 0);
    assert.equal(json.tool, 'pay.card');
    assert.deepEqual(json.args, { item: 'lamp', card: '[redacted]' });
    assert.equal(json.reads, 'the balance of your card');
    assert.equal(json.changes, 'charges your card');
    assert.equal(json.estimated_cost, 250);
    assert.equal(json.currency, 'EUR');
    assert.match(json.reason, /large-payments-need-approval/, 'the policy that asks');
    assert.match(json.reason, /eur-day/, 'the budget cap that asks');
    const human = cli(home, ['approvals', 'show', asked.approvalId!]);
    assert.doesNotMatch(JSON.stringify(json) + human.stdout, /CANARY/);
    assert.equal(upstream.hits('/pay.card'), 0);
  });

  it('a local approval does not count once policy requires presence; the CLI refuses presence, rejects', async () => {
    const first = await callAs(agent, 'door.open', { item: 'front' });
    assert.equal(first.code, 'approval_required');
    assert.equal(cli(home, ['approvals', 'approve', first.approvalId!]).code, 0);

    // Policy tightens between the approval and the retry.
    const policy = `${readFileSync(join(home, 'policy.cedar'), 'utf8')}
@id("doors-need-presence")
@approval("presence")
permit (principal, action == Briefcase::Action::"call", resource)
when { resource.name == "door.open" };
`;
    const file = join(home, '..', 'presence.cedar');
    writeFileSync(file, policy);
    assert.equal(cli(home, ['policy', 'apply', file]).code, 0);

    const retry = await callAs(agent, 'door.open', { item: 'front' });
    assert.equal(retry.code, 'approval_required', 'the local approval is not enough now');
    assert.match(retry.text, /presence/);
    assert.notEqual(retry.approvalId, first.approvalId);
    assert.equal(show(retry.approvalId!).json.tier, 'presence');

    const approve = cli(home, ['approvals', 'approve', retry.approvalId!]);
    assert.notEqual(approve.code, 0, 'the CLI cannot give a presence approval');
    assert.match(approve.stderr + approve.stdout, /presence/);
    assert.match(approve.stderr + approve.stdout, /reject/);
    assert.equal(show(retry.approvalId!).json.status, 'pending');
    assert.equal((await callAs(agent, 'door.open', { item: 'front' })).code, 'approval_required');

    assert.equal(cli(home, ['approvals', 'reject', retry.approvalId!]).code, 0);
    assert.equal(show(retry.approvalId!).json.status, 'rejected');
    assert.equal(upstream.hits('/door.open'), 0, 'the call never ran');
    const ran = receiptRecords(home).filter(
      (r) => r.kind === 'tool_call' && r.body.tool === 'door.open' && r.body.outcome === 'ok',
    );
    assert.equal(ran.length, 0);
  });
});
