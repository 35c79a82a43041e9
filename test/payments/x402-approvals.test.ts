import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { join } from 'node:path';
import { cli, cliJson, readJson, receiptRecords, startDaemon, stdioClient, writeJson } from '../helpers.ts';
import { anvilSkipReason, DEV_KEY_0, startChain, type Chain } from './chain.ts';
import { createGrant, payingHome, type PayingHome } from './harness.ts';
import { startX402Upstream, type Upstream } from './x402-upstream.ts';

const skip = anvilSkipReason();
const AMOUNT = 250_000n;
const ABOVE = '100000';

interface Outcome {
  ok: boolean;
  code: string | undefined;
  approvalId: string | undefined;
  payment: Record<string, string> | undefined;
  text: string;
}
interface ApprovalJson {
  id: string;
  status: string;
  tool: string;
  reason: string;
  payment?: Record<string, unknown>;
}

/**
 * Issue 12, payment approvals: a 402 above a grant's approval threshold goes through the
 * approval flow, bound to the call AND the exact offer (rail, network, asset, amount, payee),
 * single-use, and hard limits are never approvable. Real chain, facilitator, gateway, CLI.
 */
describe('x402 payment approvals', { skip }, () => {
  const payTo = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Hex;
  const payTo2 = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Hex;
  const live = { amount: AMOUNT, payTo };
  let chain: Chain;
  let upstream: Upstream;
  let fresh: Upstream;
  const payTo3 = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Hex;
  let h: PayingHome;
  let agent: Client;

  before(async () => {
    chain = await startChain(privateKeyToAccount(DEV_KEY_0).address);
    upstream = await startX402Upstream({ chain, payTo, amount: AMOUNT, live });
    fresh = await startX402Upstream({ chain, payTo: payTo3, amount: AMOUNT });
    const max = (AMOUNT * 10n).toString();
    h = await payingHome(chain, [
      ...['appr', 'change', 'race', 'total', 'payee', 'asset', 'velocity'].map((n) => ({
        name: `pay.${n}`,
        upstream: upstream.url,
        max,
        decimals: 6,
      })),
      { name: 'pay.newpayee', upstream: fresh.url, max, decimals: 6 },
      { name: 'pay.write', upstream: upstream.url, max, decimals: 6, category: 'write' },
    ]);
    const g = (name: string, flags: Partial<Parameters<typeof createGrant>[2]> = {}) =>
      createGrant(h.home, chain, { payee: payTo, purpose: `pay.${name}`, approvalAbove: ABOVE, ...flags });
    g('appr');
    g('change', { morePayees: [payTo2] });
    g('race');
    g('total', { total: '200000' });
    g('payee', { payee: payTo2 });
    g('asset', { asset: `0x${'42'.repeat(20)}` });
    g('velocity', { count: 1 });
    g('write');
    createGrant(h.home, chain, { payee: payTo3, purpose: 'pay.newpayee' });
    agent = await stdioClient(h.home, ['--approval-wait', '0']);
  });
  after(async () => {
    await agent?.close();
    await h?.cleanup();
    await upstream?.close();
    await fresh?.close();
    await chain?.stop();
  });

  async function call(tool: string): Promise<Outcome> {
    const r = (await agent.callTool({ name: tool, arguments: { city: 'oslo' } }, undefined, { timeout: 120_000 })) as {
      isError?: boolean;
      content?: { text?: string }[];
      _meta?: Record<string, unknown>;
    };
    const err = r._meta?.['dev.briefcase/error'] as { code?: string; approval_id?: string } | undefined;
    return {
      ok: r.isError !== true,
      code: err?.code,
      approvalId: err?.approval_id,
      payment: r._meta?.['dev.briefcase/payment'] as Record<string, string> | undefined,
      text: r.content?.map((c) => c.text ?? '').join('') ?? '',
    };
  }
  const approve = (id: string) => assert.equal(cli(h.home, ['approvals', 'approve', id]).code, 0);
  const show = (id: string) => cliJson<ApprovalJson>(h.home, ['approvals', 'show', id, '--json']).json;
  const approvalsFor = (tool: string) =>
    cliJson<{ approvals: ApprovalJson[] }>(h.home, ['approvals', 'list', '--all', '--json']).json.approvals.filter(
      (a) => a.tool === tool,
    );
  const paymentReceipts = (tool: string) =>
    receiptRecords(h.home).filter((r) => r.kind === 'payment' && r.body.tool === tool);

  test('above the threshold: a person approves exactly this payment, the identical retry pays once', async () => {
    const payee = await chain.balanceOf(payTo);
    const first = await call('pay.appr');
    assert.equal(first.code, 'approval_required', first.text);
    assert.ok(first.approvalId);
    assert.match(first.text, /approvals approve/);
    assert.equal(await chain.balanceOf(payTo), payee, 'nothing paid before the approval');

    // What the person sees: rail, amount with asset and decimals, payee, tool; no secret.
    const view = show(first.approvalId);
    assert.equal(view.tool, 'pay.appr');
    assert.equal(view.payment?.rail, 'x402');
    assert.equal(view.payment?.network, chain.network);
    assert.equal(view.payment?.asset, chain.token.toLowerCase());
    assert.equal(view.payment?.amount, AMOUNT.toString());
    assert.equal(view.payment?.decimals, 6);
    assert.match(String(view.payment?.display), /^0\.25 0x[0-9a-f]{40} \(250000 atomic units, 6 decimals\)$/);
    assert.equal(view.payment?.payee, payTo);
    assert.match(view.reason, /approval threshold/);
    const human = cli(h.home, ['approvals', 'show', first.approvalId]).stdout;
    assert.match(human, /PAYMENT\s+0\.25/);
    assert.match(human, new RegExp(`payee\\s+${payTo}`));
    assert.doesNotMatch(JSON.stringify(view), /signature|authorization/i);

    // Retried before anyone decided: still waiting on the same approval.
    const again = await call('pay.appr');
    assert.equal(again.code, 'approval_required');
    assert.equal(again.approvalId, first.approvalId);

    approve(first.approvalId);
    const paid = await call('pay.appr');
    assert.equal(paid.ok, true, paid.text);
    assert.equal(paid.payment?.status, 'settled');
    assert.equal(paid.payment?.approval_id, first.approvalId);
    assert.equal((await chain.balanceOf(payTo)) - payee, AMOUNT, 'the payee got exactly the amount');
    assert.equal(show(first.approvalId).status, 'consumed');

    // Receipts for each step.
    const records = receiptRecords(h.home);
    const steps = records
      .filter((r) => r.kind === 'approval' && r.body.approval_id === first.approvalId)
      .map((r) => r.body.event);
    assert.deepEqual(steps, ['created', 'approved', 'consumed']);
    const created = records.find((r) => r.kind === 'approval' && r.body.approval_id === first.approvalId)!;
    assert.match(String(created.body.payment_hash), /^[0-9a-f]{64}$/);
    const pays = paymentReceipts('pay.appr');
    assert.deepEqual(
      pays.map((r) => `${String(r.body.event)}:${String(r.body.reason ?? r.body.status)}`),
      ['refused:approval_needed', 'refused:approval_needed', 'payment:settled'],
    );
    assert.equal(pays[2]!.body.approval_id, first.approvalId);

    // Replay: the approval is spent; the same call asks again and pays nothing.
    const replay = await call('pay.appr');
    assert.equal(replay.code, 'approval_required');
    assert.notEqual(replay.approvalId, first.approvalId);
    assert.equal((await chain.balanceOf(payTo)) - payee, AMOUNT, 'a replayed approval paid nothing more');
  });

  test('the upstream changes its price or payee after the approval: refused, a new approval is needed', async () => {
    const payee = await chain.balanceOf(payTo);
    const payee2 = await chain.balanceOf(payTo2);
    const asked = await call('pay.change');
    assert.equal(asked.code, 'approval_required');
    approve(asked.approvalId!);
    try {
      live.amount = AMOUNT + 10_000n;
      const pricier = await call('pay.change');
      assert.equal(pricier.code, 'approval_required', pricier.text);
      assert.notEqual(pricier.approvalId, asked.approvalId);
      assert.equal(show(pricier.approvalId!).payment?.amount, (AMOUNT + 10_000n).toString());
      live.amount = AMOUNT;
      live.payTo = payTo2; // also on the grant's allowlist
      const elsewhere = await call('pay.change');
      assert.equal(elsewhere.code, 'approval_required', elsewhere.text);
      assert.notEqual(elsewhere.approvalId, asked.approvalId);
      assert.equal(show(elsewhere.approvalId!).payment?.payee, payTo2);
    } finally {
      live.amount = AMOUNT;
      live.payTo = payTo;
    }
    assert.equal(await chain.balanceOf(payTo), payee);
    assert.equal(await chain.balanceOf(payTo2), payee2);
    assert.equal(show(asked.approvalId!).status, 'approved', 'the approval still waits for exactly its offer');
    // Back to the approved offer: it pays, once.
    const paid = await call('pay.change');
    assert.equal(paid.ok, true, paid.text);
    assert.equal(paid.payment?.approval_id, asked.approvalId);
    assert.equal((await chain.balanceOf(payTo)) - payee, AMOUNT);
  });

  test('20 concurrent retries after one approval pay exactly once', async () => {
    const payee = await chain.balanceOf(payTo);
    const asked = await call('pay.race');
    approve(asked.approvalId!);
    const served = upstream.paidRequests();
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => call('pay.race')));
    const paid = outcomes.filter((o) => o.ok);
    assert.equal(paid.length, 1, outcomes.map((o) => o.code ?? 'ok').join(','));
    assert.equal(paid[0]!.payment?.approval_id, asked.approvalId);
    assert.ok(outcomes.filter((o) => !o.ok).every((o) => o.code === 'approval_required'));
    assert.equal((await chain.balanceOf(payTo)) - payee, AMOUNT, 'exactly one payment');
    assert.equal(upstream.paidRequests() - served, 1);
    assert.equal(paymentReceipts('pay.race').filter((r) => r.body.event === 'payment').length, 1);
    // The losers wait on one new approval, not nineteen.
    assert.equal(approvalsFor('pay.race').filter((a) => a.status === 'pending').length, 1);
  });

  for (const [tool, reason, wire] of [
    ['pay.total', 'over_grant_total', 'budget_exceeded'],
    ['pay.payee', 'payee_not_allowed', 'payment_failed'],
    ['pay.asset', 'asset_not_allowed', 'payment_failed'],
  ] as const) {
    test(`a hard limit is never approvable: ${reason}`, async () => {
      const payee = await chain.balanceOf(payTo);
      const r = await call(tool);
      assert.equal(r.code, wire, r.text);
      assert.equal(approvalsFor(tool).length, 0, 'no approval was even asked for');
      assert.equal(paymentReceipts(tool).at(-1)?.body.reason, reason);
      assert.equal(await chain.balanceOf(payTo), payee);
    });
  }

  test('an approved payment still cannot pass the velocity limit', async () => {
    const payee = await chain.balanceOf(payTo);
    const first = await call('pay.velocity');
    approve(first.approvalId!);
    assert.equal((await call('pay.velocity')).ok, true);
    const second = await call('pay.velocity');
    assert.equal(second.code, 'approval_required');
    approve(second.approvalId!);
    const refused = await call('pay.velocity');
    assert.equal(refused.code, 'budget_exceeded', refused.text);
    assert.equal(paymentReceipts('pay.velocity').at(-1)?.body.reason, 'velocity_exceeded');
    assert.equal((await chain.balanceOf(payTo)) - payee, AMOUNT, 'only the payment within velocity');
  });

  test('a call that needs approval itself: approving its payment lets it run and pay once', async () => {
    const payee = await chain.balanceOf(payTo);
    const call1 = await call('pay.write');
    assert.equal(call1.code, 'approval_required', call1.text);
    assert.equal(show(call1.approvalId!).payment, undefined, 'first the call itself');
    approve(call1.approvalId!);
    const pay1 = await call('pay.write');
    assert.equal(pay1.code, 'approval_required', pay1.text);
    const asked = show(pay1.approvalId!);
    assert.equal(asked.payment?.amount, AMOUNT.toString());
    assert.match(asked.reason, /also lets this call run once/);
    assert.equal(await chain.balanceOf(payTo), payee);
    approve(pay1.approvalId!);
    const paid = await call('pay.write');
    assert.equal(paid.ok, true, paid.text);
    assert.equal(paid.payment?.approval_id, pay1.approvalId);
    assert.equal((await chain.balanceOf(payTo)) - payee, AMOUNT);
    assert.equal(approvalsFor('pay.write').length, 2, 'two approvals, not three');
    // Spent: the same call asks for its call approval again and pays nothing.
    const again = await call('pay.write');
    assert.equal(again.code, 'approval_required');
    assert.equal(show(again.approvalId!).payment, undefined);
    assert.equal((await chain.balanceOf(payTo)) - payee, AMOUNT);
  });

  test('policy approve_new_payees: the first payment to a payee never paid needs approval, later ones not', async () => {
    await agent.close();
    await h.daemon.stop();
    const configPath = join(h.home, 'config.json');
    const config = readJson<{ payments: Record<string, unknown> }>(configPath);
    writeJson(configPath, { ...config, payments: { ...config.payments, approve_new_payees: true } });
    h.daemon = await startDaemon(h.home);
    agent = await stdioClient(h.home, ['--approval-wait', '0']);
    const before = await chain.balanceOf(payTo3);
    const first = await call('pay.newpayee');
    assert.equal(first.code, 'approval_required', first.text);
    assert.match(show(first.approvalId!).reason, /never paid before/);
    assert.equal(await chain.balanceOf(payTo3), before);
    approve(first.approvalId!);
    assert.equal((await call('pay.newpayee')).ok, true);
    const again = await call('pay.newpayee');
    assert.equal(again.ok, true, `a payee paid before needs no approval: ${again.text}`);
    assert.equal((await chain.balanceOf(payTo3)) - before, AMOUNT * 2n);
  });
});
