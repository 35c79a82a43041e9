/**
 * `npm run bench`: what paying over L402 adds to a tool call (AC5 of issue 12, the L402 row).
 *
 * Method: the two-node LND regtest of the tests (alice pays, bob is the API's node), the bLIP-26
 * test server, one Briefcase home paying from alice (test/payments/l402-home.ts), three tools on
 * the same server through `briefcase mcp`: `weather.free` (the handler without a price),
 * `weather.get` with a cached token (reuse: one round trip with `Authorization: L402`), and
 * `weather.get` after the server revoked every token (a full payment: refused token, 402, LND
 * pays the invoice over the direct channel, retry, LND's record confirms, ledger and receipt).
 * Skipped when the Lightning test peers are not built (scripts/test-peers/build-lnd.sh).
 */
import { stdioClient } from '../test/helpers.ts';
import { startL402Server } from '../test/lib/l402-server.ts';
import { regtestSkip, startRegtest } from '../test/lib/lnd-regtest.ts';
import { l402Home } from '../test/payments/l402-home.ts';
import { percentiles, round } from './lib.ts';

const CALLS = Number(process.env.BENCH_PAY_CALLS ?? 30);
const WARMUP = 3;
const PRICE_SAT = 10;

export async function run(log: (m: string) => void = () => {}) {
  const skip = regtestSkip();
  if (skip) return { skipped: skip };
  log('payments: L402 regtest starting…');
  const net = await startRegtest();
  const server = await startL402Server(net.bob, PRICE_SAT);
  const h = await l402Home(net, server.url, String(PRICE_SAT * 1000), {
    'weather.get': '/forecast',
    'weather.free': '/free',
  });
  const agent = await stdioClient(h.home);
  try {
    const call = async (tool: string) => {
      const t = performance.now();
      const r = await agent.callTool({ name: tool, arguments: { city: 'oslo' } }, undefined, { timeout: 300_000 });
      const ms = performance.now() - t;
      if (r.isError) throw new Error(`${tool} failed: ${JSON.stringify(r)}`);
      return { ms, paid: r._meta?.['dev.briefcase/payment'] !== undefined };
    };
    const measure = async (tool: string, before: () => void, mustPay: boolean) => {
      for (let i = 0; i < WARMUP; i++) {
        before();
        await call(tool);
      }
      const samples: number[] = [];
      for (let i = 0; i < CALLS; i++) {
        before();
        const r = await call(tool);
        if (r.paid !== mustPay) throw new Error(`${tool}: expected ${mustPay ? 'a payment' : 'no payment'}`);
        samples.push(r.ms);
      }
      return percentiles(samples);
    };
    log('payments: L402 unpaid…');
    const unpaid = await measure('weather.free', () => {}, false);
    log('payments: L402 paid (a payment per call)…');
    const paid = await measure('weather.get', () => server.revokeAll(), true);
    log('payments: L402 token reused…');
    const reused = await measure('weather.get', () => {}, false);
    const added = (p: { p50: number; p95: number; p99: number }) => ({
      p50: round(p.p50 - unpaid.p50),
      p95: round(p.p95 - unpaid.p95),
      p99: round(p.p99 - unpaid.p99),
    });
    return {
      calls: CALLS,
      l402: {
        unpaid_ms: unpaid,
        paid_ms: paid,
        reused_token_ms: reused,
        added_ms: added(paid),
        added_reuse_ms: added(reused),
      },
    };
  } finally {
    await agent.close();
    await h.cleanup();
    await server.close();
    await net.stop();
  }
}

if (import.meta.main) console.log(JSON.stringify(await run((m) => process.stderr.write(`${m}\n`)), null, 2));
