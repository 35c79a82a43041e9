import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { Hex } from 'viem';
import { PaymentError, type Challenge, type PaymentAuthorization } from '@briefcase/payments';
import { X402Backend, localX402Signer } from '@briefcase/payments/x402';
import { anvilSkipReason, startChain, type Chain } from './chain.ts';
import { startX402Upstream, type Upstream } from './x402-upstream.ts';

const skip = anvilSkipReason();

function headersOf(r: Response): Record<string, string> {
  return Object.fromEntries([...r.headers].map(([k, v]) => [k.toLowerCase(), v]));
}

/** The x402 rail on its own, against anvil, a deployed EIP-3009 token and the reference facilitator. */
describe('x402 rail (exact, EIP-3009) on anvil', { skip }, () => {
  const payerKey = generatePrivateKey();
  const payer = privateKeyToAccount(payerKey).address;
  const payTo = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Hex;
  let chain: Chain;
  let upstream: Upstream;
  let liar: Upstream;
  let backend: X402Backend;

  before(async () => {
    chain = await startChain(payer);
    upstream = await startX402Upstream({ chain, payTo, amount: 250_000n });
    liar = await startX402Upstream({ chain, payTo, amount: 250_000n, lie: true });
    backend = new X402Backend({ rpc: { [chain.network]: chain.rpcUrl }, signer: localX402Signer(payerKey) });
  });
  after(async () => {
    await upstream?.close();
    await liar?.close();
    await chain?.stop();
  });

  async function challenge(base: string): Promise<Challenge> {
    const r = await fetch(`${base}/weather/paris`);
    await r.arrayBuffer();
    return { url: r.url, status: r.status, headers: headersOf(r) };
  }

  function authz(over: Partial<PaymentAuthorization> = {}): PaymentAuthorization {
    return {
      budgetId: crypto.randomUUID(),
      grantId: 'g1',
      rail: 'x402',
      network: chain.network,
      asset: chain.token.toLowerCase(),
      payee: payTo,
      maxAmount: '250000',
      expiresAt: Date.now() + 60_000,
      ...over,
    };
  }

  test('parses the 402 into a rail-neutral requirement', async () => {
    const offers = backend.parse(await challenge(upstream.url));
    assert.equal(offers.length, 1);
    const [o] = offers;
    assert.deepEqual(
      { rail: o!.rail, network: o!.network, asset: o!.asset, amount: o!.amount, payee: o!.payee },
      { rail: 'x402', network: chain.network, asset: chain.token.toLowerCase(), amount: '250000', payee: payTo },
    );
  });

  test('pays, retries, and the chain confirms: payee +amount, tx on chain', async () => {
    const [offer] = backend.parse(await challenge(upstream.url));
    const before = await chain.balanceOf(payTo);
    const proof = await backend.pay(offer!, authz(), () => {});
    assert.equal(proof.moneyMoved, false);
    const r = await fetch(`${upstream.url}/weather/paris`, { headers: proof.retryHeaders });
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { city: string }).city, 'paris');
    const settlement = await backend.confirm(proof, { status: r.status, headers: headersOf(r) });
    assert.equal(settlement.status, 'settled');
    assert.equal(settlement.amount, '250000');
    assert.match(settlement.txRef ?? '', /^0x[0-9a-f]{64}$/);
    assert.equal((await chain.balanceOf(payTo)) - before, 250_000n);
    // Crash recovery finds the same settlement from the chain alone.
    const recovered = await backend.recover({ ...offer!, budgetId: proof.budgetId, ref: proof.ref });
    assert.equal(recovered.status, 'settled');
    assert.equal(recovered.txRef, settlement.txRef);
  });

  test('refuses to sign beyond the authorization (amount, payee, asset)', async () => {
    const [offer] = backend.parse(await challenge(upstream.url));
    for (const over of [
      { maxAmount: '249999' },
      { payee: `0x${'11'.repeat(20)}` },
      { asset: `0x${'22'.repeat(20)}` },
    ]) {
      await assert.rejects(
        backend.pay(offer!, authz(over), () => {}),
        (e: unknown) => e instanceof PaymentError,
      );
    }
  });

  test('a facilitator that claims a settlement that did not happen is not believed', async () => {
    const [offer] = backend.parse(await challenge(liar.url));
    const before = await chain.balanceOf(payTo);
    const proof = await backend.pay(offer!, authz(), () => {});
    const r = await fetch(`${liar.url}/weather/paris`, { headers: proof.retryHeaders });
    await r.arrayBuffer();
    assert.ok(headersOf(r)['payment-response'], 'the liar claims a settlement');
    const settlement = await backend.confirm(proof, { status: r.status, headers: headersOf(r) });
    assert.notEqual(settlement.status, 'settled');
    assert.equal(settlement.amount, '0');
    assert.equal(await chain.balanceOf(payTo), before);
  });
});
