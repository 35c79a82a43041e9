import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { cliJson, daemonRequest, receiptRecords, sleep, startDaemon, stdioClient, token } from '../helpers.ts';
import { anvilSkipReason, DEV_KEY_0, startChain, type Chain } from './chain.ts';
import { createGrant, payingHome, type PayingHome } from './harness.ts';
import { startRogueUpstream } from './x402-rogue-upstream.ts';
import { startX402Upstream, type Upstream } from './x402-upstream.ts';

const skip = anvilSkipReason();
const spentOf = (s: { settled: string; reserved: string } | undefined) =>
  s && { settled: s.settled, reserved: s.reserved };
const AMOUNT = 250_000n;

interface CallResult {
  isError?: boolean;
  content?: { text?: string }[];
  _meta?: Record<string, unknown>;
}
interface GrantsView {
  grants: { grantId: string; spent: { settled: string; reserved: string }[] }[];
}

/**
 * AC3 (issue 12): hostile 402s and hostile servers. Each refusal happens before any money moves
 * (payee and wallet balances unchanged, the upstream never served a paid request) and leaves a
 * `payment` receipt naming the reason. Real chain, real facilitator, real gateway.
 */
describe('x402 payment attacks (AC3)', { skip }, () => {
  const payTo = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Hex;
  const otherPayee = privateKeyToAccount(generatePrivateKey()).address.toLowerCase();
  let chain: Chain;
  let upstream: Upstream;
  let liar: Upstream;
  let failing: Awaited<ReturnType<typeof startRogueUpstream>>;
  let hanging: Awaited<ReturnType<typeof startRogueUpstream>>;
  let h: PayingHome;
  let agent: Client;
  const grants: Record<string, string> = {};

  before(async () => {
    chain = await startChain(privateKeyToAccount(DEV_KEY_0).address);
    upstream = await startX402Upstream({ chain, payTo, amount: AMOUNT });
    liar = await startX402Upstream({ chain, payTo, amount: AMOUNT, lie: true });
    failing = await startRogueUpstream({ chain, payTo, amount: AMOUNT, mode: 'fail' });
    hanging = await startRogueUpstream({ chain, payTo, amount: AMOUNT, mode: 'hang' });
    const max = AMOUNT.toString();
    h = await payingHome(chain, [
      ...['total', 'payee', 'asset', 'approval', 'expired', 'revoked', 'velocity', 'nogrant'].map((n) => ({
        name: `pay.${n}`,
        upstream: upstream.url,
        max,
      })),
      { name: 'pay.estimate', upstream: upstream.url, max: '100000' },
      { name: 'pay.liar', upstream: liar.url, max },
      { name: 'pay.fail', upstream: failing.url, max, path: '' },
      { name: 'pay.hang', upstream: hanging.url, max, path: '' },
    ]);
    const g = (name: string, flags: Partial<Parameters<typeof createGrant>[2]> = {}) =>
      (grants[name] = createGrant(h.home, chain, { payee: payTo, purpose: `pay.${name}`, ...flags }));
    g('total', { total: '100000' });
    g('payee', { payee: otherPayee });
    g('asset', { asset: `0x${'42'.repeat(20)}` });
    g('estimate');
    g('revoked');
    g('velocity', { count: 5, total: '100000000' });
    g('liar');
    g('fail');
    g('hang');
    const approval = cliJson(h.home, [
      'grants',
      'create',
      '--network',
      chain.network,
      '--asset',
      chain.token,
      '--total',
      '1000000',
      '--payee',
      payTo,
      '--purpose',
      'pay.approval',
      '--approval-above',
      '100000',
    ]);
    assert.equal(approval.code, 0, approval.stderr);
    const expiring = await daemonRequest(
      h.home,
      'POST',
      '/v1/admin/grants',
      token(h.home, 'admin'),
      JSON.stringify({
        limits: [
          {
            rail: 'x402',
            network: chain.network,
            asset: chain.token.toLowerCase(),
            total: '1000000',
            velocity: { amount: '1000000', count: 10, windowSeconds: 3600 },
          },
        ],
        payees: [payTo],
        purposes: ['pay.expired'],
        expiresAt: new Date(Date.now() + 2000).toISOString(),
      }),
    );
    assert.equal(expiring.status, 200, expiring.body);
    assert.equal(cliJson(h.home, ['grants', 'revoke', grants.revoked!]).code, 0);
    // A payment that needs approval answers at once (approval_required) instead of the gateway waiting.
    agent = await stdioClient(h.home, ['--approval-wait', '0']);
    await sleep(2100); // the expiring grant is now past its expiry
  });
  after(async () => {
    await agent?.close();
    await h?.cleanup();
    for (const u of [upstream, liar, failing, hanging]) await u?.close();
    await chain?.stop();
  });

  const call = (tool: string) =>
    agent.callTool({ name: tool, arguments: { city: 'oslo' } }, undefined, { timeout: 120_000 }) as Promise<CallResult>;

  async function refusedBeforePaying(tool: string, reason: string, wire = 'payment_failed'): Promise<void> {
    const payee = await chain.balanceOf(payTo);
    const wallet = await chain.balanceOf(h.wallet);
    const served = upstream.paidRequests();
    const result = await call(tool);
    assert.equal(result.isError, true, JSON.stringify(result));
    assert.match(JSON.stringify(result), new RegExp(wire));
    assert.equal(await chain.balanceOf(payTo), payee, 'the payee got nothing');
    assert.equal(await chain.balanceOf(h.wallet), wallet, 'the wallet paid nothing');
    assert.equal(upstream.paidRequests(), served, 'the upstream served no paid request');
    const receipt = receiptRecords(h.home).find(
      (r) => r.kind === 'payment' && r.body.event === 'refused' && r.body.tool === tool,
    );
    assert.equal(receipt?.body.reason, reason, `a payment receipt says ${reason}`);
  }

  test('a 402 above the grant total is refused', () =>
    refusedBeforePaying('pay.total', 'over_grant_total', 'budget_exceeded'));
  test('a payee not on the allowlist is refused', () => refusedBeforePaying('pay.payee', 'payee_not_allowed'));
  test('an asset the grant does not cover is refused', () => refusedBeforePaying('pay.asset', 'asset_not_allowed'));
  // Approving them is test/payments/x402-approvals.test.ts.
  test('a 402 above the tool’s declared estimate needs approval', () =>
    refusedBeforePaying('pay.estimate', 'approval_needed', 'approval_required'));
  test('a payment above the grant’s approval threshold needs approval', () =>
    refusedBeforePaying('pay.approval', 'approval_needed', 'approval_required'));
  test('an expired grant is refused', () => refusedBeforePaying('pay.expired', 'grant_expired'));
  test('a revoked grant is refused', () => refusedBeforePaying('pay.revoked', 'grant_revoked'));
  test('a purpose no grant allows is refused', () => refusedBeforePaying('pay.nogrant', 'purpose_not_allowed'));

  test('20 concurrent calls through the gateway cannot pass a velocity of 5', async () => {
    const payee = await chain.balanceOf(payTo);
    const results = await Promise.all(Array.from({ length: 20 }, () => call('pay.velocity')));
    const receipts = receiptRecords(h.home).filter((r) => r.kind === 'payment' && r.body.tool === 'pay.velocity');
    const paid = receipts.filter((r) => r.body.event === 'payment');
    const refused = receipts.filter((r) => r.body.event === 'refused');
    const outcomes = receiptRecords(h.home)
      .filter((r) => r.kind === 'tool_call' && r.body.tool === 'pay.velocity')
      .map((r) => `${String(r.body.outcome)} ${String(r.body.detail ?? '')}`);
    assert.equal(paid.length, 5, `exactly five payments went past the reservation: ${outcomes.join(' | ')}`);
    assert.equal(refused.length, 15);
    assert.ok(refused.every((r) => r.body.reason === 'velocity_exceeded'));
    assert.equal(results.filter((r) => r.isError).length >= 15, true);
    const settled = paid.filter((r) => r.body.status === 'settled').length;
    assert.equal((await chain.balanceOf(payTo)) - payee, AMOUNT * BigInt(settled));
  });

  test('a facilitator that claims a settlement that did not happen is not believed', async () => {
    const payee = await chain.balanceOf(payTo);
    const result = await call('pay.liar');
    const meta = result._meta?.['dev.briefcase/payment'] as Record<string, string> | undefined;
    assert.notEqual(meta?.status, 'settled');
    assert.equal(await chain.balanceOf(payTo), payee);
    const receipt = receiptRecords(h.home).find((r) => r.kind === 'payment' && r.body.tool === 'pay.liar');
    assert.equal(receipt?.body.status, 'unknown');
    assert.equal(receipt?.body.amount, '0');
    assert.equal(receipt?.body.tx, undefined);
    // Still counted (the signed authorization could yet be submitted), never as settled.
    const view = cliJson<GrantsView>(h.home, ['grants', 'list']).json.grants.find((g) => g.grantId === grants.liar);
    assert.deepEqual(spentOf(view?.spent[0]), { settled: '0', reserved: AMOUNT.toString() });
  });

  test('a server that takes the payment and then errors: spend counted, receipt says so', async () => {
    const payee = await chain.balanceOf(payTo);
    const result = await call('pay.fail');
    assert.equal(result.isError, true);
    assert.equal((await chain.balanceOf(payTo)) - payee, AMOUNT);
    const receipts = receiptRecords(h.home);
    const payment = receipts.find((r) => r.kind === 'payment' && r.body.tool === 'pay.fail');
    assert.equal(payment?.body.status, 'settled');
    assert.match(String(payment?.body.tx), /^0x[0-9a-f]{64}$/);
    const toolCall = receipts.find((r) => r.kind === 'tool_call' && r.body.tool === 'pay.fail');
    assert.equal(toolCall?.body.outcome, 'tool_error');
    assert.equal((toolCall?.body.payment as Record<string, string>).status, 'settled');
    const view = cliJson<GrantsView>(h.home, ['grants', 'list']).json.grants.find((g) => g.grantId === grants.fail);
    assert.deepEqual(spentOf(view?.spent[0]), { settled: AMOUNT.toString(), reserved: '0' });
  });

  test('a crash between paying and receipting is recovered on restart, counted once', async () => {
    const payee = await chain.balanceOf(payTo);
    const pending = call('pay.hang').catch(() => undefined);
    for (let i = 0; i < 1200 && hanging.settled() === 0; i++) await sleep(50);
    assert.equal(hanging.settled(), 1, 'the rogue server settled the payment');
    await h.daemon.kill9();
    await agent.close();
    await pending;
    h.daemon = await startDaemon(h.home);
    // A payment that needs approval answers at once (approval_required) instead of the gateway waiting.
    agent = await stdioClient(h.home, ['--approval-wait', '0']);
    assert.equal((await chain.balanceOf(payTo)) - payee, AMOUNT);
    const receipts = receiptRecords(h.home);
    const recovered = receipts.filter(
      (r) => r.kind === 'payment' && r.body.event === 'recovered' && r.body.grant_id === grants.hang,
    );
    assert.equal(recovered.length, 1);
    assert.equal(recovered[0]?.body.status, 'settled');
    assert.equal(recovered[0]?.body.grant_id, grants.hang);
    assert.match(String(recovered[0]?.body.tx), /^0x[0-9a-f]{64}$/);
    const view = cliJson<GrantsView>(h.home, ['grants', 'list']).json.grants.find((g) => g.grantId === grants.hang);
    assert.deepEqual(spentOf(view?.spent[0]), { settled: AMOUNT.toString(), reserved: '0' });
    // A second restart finds nothing left to recover: nothing counted twice.
    await h.daemon.stop();
    h.daemon = await startDaemon(h.home);
    const again = receiptRecords(h.home).filter(
      (r) => r.kind === 'payment' && r.body.event === 'recovered' && r.body.grant_id === grants.hang,
    );
    assert.equal(again.length, 1);
  });
});
