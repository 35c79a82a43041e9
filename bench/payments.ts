/**
 * `npm run bench`: what paying adds to a tool call, per rail (AC5 of issue 12). x402 here; L402
 * in payments-l402.ts.
 *
 * Method: one Briefcase home (tests' harness), one @x402/express upstream on anvil with the
 * reference facilitator in-process, two connectors on it: `weather.get` (paid, 0.25 test USD per
 * call) and `weather.free` (the same handler without the paywall). The same official-SDK MCP
 * client, through `briefcase mcp`, calls each sequentially after a warm-up. A paid call is two
 * HTTP round trips, an EIP-3009 signature, an on-chain settlement (anvil mines at once) and the
 * daemon's chain verification, plus two durable ledger writes and a payment receipt.
 */
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { Hex } from 'viem';
import { stdioClient } from '../test/helpers.ts';
import { anvilSkipReason, DEV_KEY_0, startChain } from '../test/payments/chain.ts';
import { createGrant, payingHome } from '../test/payments/harness.ts';
import { startX402Upstream } from '../test/payments/x402-upstream.ts';
import { percentiles, round } from './lib.ts';

const CALLS = Number(process.env.BENCH_PAY_CALLS ?? 50);
const WARMUP = 5;

export async function run(log: (m: string) => void = () => {}) {
  const skip = anvilSkipReason();
  if (skip) return { skipped: skip };
  const payTo = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Hex;
  const chain = await startChain(privateKeyToAccount(DEV_KEY_0).address);
  const upstream = await startX402Upstream({ chain, payTo, amount: 250_000n });
  const h = await payingHome(
    chain,
    [
      { name: 'weather.get', upstream: upstream.url, max: '250000' },
      { name: 'weather.free', upstream: upstream.url, path: '/free' },
    ],
    1_000_000_000n,
  );
  createGrant(h.home, chain, { payee: payTo, total: '1000000000', count: 100_000 });
  const agent = await stdioClient(h.home);
  try {
    const measure = async (tool: string) => {
      for (let i = 0; i < WARMUP; i++) await agent.callTool({ name: tool, arguments: { city: 'oslo' } });
      const samples: number[] = [];
      for (let i = 0; i < CALLS; i++) {
        const t = performance.now();
        const r = await agent.callTool({ name: tool, arguments: { city: 'oslo' } });
        samples.push(performance.now() - t);
        if (r.isError) throw new Error(`${tool} failed: ${JSON.stringify(r)}`);
      }
      return percentiles(samples);
    };
    log('payments: x402 unpaid…');
    const unpaid = await measure('weather.free');
    log('payments: x402 paid…');
    const paid = await measure('weather.get');
    return {
      calls: CALLS,
      x402: {
        unpaid_ms: unpaid,
        paid_ms: paid,
        added_ms: {
          p50: round(paid.p50 - unpaid.p50),
          p95: round(paid.p95 - unpaid.p95),
          p99: round(paid.p99 - unpaid.p99),
        },
      },
    };
  } finally {
    await agent.close();
    await h.cleanup();
    await upstream.close();
    await chain.stop();
  }
}

if (import.meta.main) console.log(JSON.stringify(await run((m) => process.stderr.write(`${m}\n`)), null, 2));
