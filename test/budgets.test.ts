import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cli,
  cliAsync,
  cliJson,
  freePort,
  readJson,
  receiptRecords,
  startDaemon,
  tempHome,
  writeJson,
  type DaemonProcess,
} from './helpers.ts';

interface Status {
  spend: { day: number; month: number; in_doubt: number };
}
interface CallResult {
  ok: boolean;
  error?: { code: string; message: string };
}

/** Budgets: durable spend, enforced across restarts and crashes, counted exactly once. */
describe('budgets survive restarts and crashes without losing or double-counting spend', () => {
  const { home, cleanup } = tempHome();
  let upstream: Server;
  let daemon: DaemonProcess | undefined;
  let hang = false;
  let received: (() => void) | undefined;

  const pay = async () =>
    JSON.parse(
      (await cliAsync(home, ['tools', 'call', 'shop.buy', '--args', '{"item":"widget"}', '--json'])).stdout,
    ) as CallResult;
  const spend = () => cliJson<Status>(home, ['status']).json.spend;

  before(async () => {
    const port = await freePort();
    upstream = createServer((req, res) => {
      received?.();
      if (hang) return; // the "payment" reached the provider; the answer never comes back
      res.writeHead(200, { 'content-type': 'application/json', 'x-cost': '50' });
      res.end('{"bought":"widget"}');
      req.resume();
    });
    await new Promise<void>((r) => upstream.listen(port, '127.0.0.1', r));
    assert.equal(cli(home, ['init']).code, 0);
    writeJson(join(home, 'connectors', 'shop.json'), {
      kind: 'http',
      name: 'shop.buy',
      description: 'Buys an item (a payment-like call)',
      category: 'payment',
      input_schema: {
        type: 'object',
        properties: { item: { type: 'string' } },
        required: ['item'],
        additionalProperties: false,
      },
      request: { method: 'POST', url: `http://127.0.0.1:${port}/buy`, body_args: ['item'], timeout_ms: 60000 },
      egress: [`127.0.0.1:${port}`],
      cost: { estimate: 60, currency: 'USD', actual_header: 'x-cost' },
    });
    writeJson(join(home, 'connectors', 'gift.json'), {
      kind: 'http',
      name: 'shop.gift',
      description: 'Sends a gift (a payment-like call with its own per-call cap)',
      category: 'payment',
      input_schema: {
        type: 'object',
        properties: { item: { type: 'string' } },
        required: ['item'],
        additionalProperties: false,
      },
      request: { method: 'POST', url: `http://127.0.0.1:${port}/gift`, body_args: ['item'] },
      egress: [`127.0.0.1:${port}`],
      cost: { estimate: 70, currency: 'USD', actual_header: 'x-cost' },
    });
    const config = readJson(join(home, 'config.json'));
    writeJson(join(home, 'config.json'), {
      ...config,
      budgets: {
        currency: 'USD',
        caps: [
          { id: 'shop-daily', scope: 'tool', match: 'shop.buy', window: 'day', limit: 150, on_exceed: 'deny' },
          { id: 'gift-per-call', scope: 'tool', match: 'shop.gift', window: 'call', limit: 65, on_exceed: 'approval' },
        ],
      },
    });
    daemon = await startDaemon(home);
  });
  after(async () => {
    await daemon?.stop();
    upstream?.close();
    cleanup();
  });

  it('records the actual cost and keeps it across a clean restart', async () => {
    const r = await pay();
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(spend().day, 50);
    await daemon!.stop();
    daemon = await startDaemon(home);
    assert.equal(spend().day, 50);
  });

  it('a crash after the request left keeps the spend counted once (kill -9 mid-call)', async () => {
    hang = true;
    const reached = new Promise<void>((r) => {
      received = r;
    });
    const call = cliAsync(home, ['tools', 'call', 'shop.buy', '--args', '{"item":"widget"}']);
    await reached;
    await daemon!.kill9();
    assert.notEqual((await call).code, 0);
    hang = false;
    received = undefined;

    daemon = await startDaemon(home);
    const s = spend();
    assert.equal(s.day, 110, 'the in-flight estimate (60) is counted, and only once');
    assert.equal(s.in_doubt, 60);
    // A crash can also leave an unsigned tail, signed at start-up with its own recovery receipt.
    const spendRecovery = (r: { kind: string; body: Record<string, unknown> }) =>
      r.kind === 'recovery' && r.body.event === 'spend_in_doubt';
    const recoveries = receiptRecords(home).filter(spendRecovery);
    assert.equal(recoveries.length, 1);
    assert.equal(recoveries[0]!.body.amount, 60);

    // Another restart does not count it again.
    await daemon.stop();
    daemon = await startDaemon(home);
    assert.equal(spend().day, 110);
    assert.equal(receiptRecords(home).filter(spendRecovery).length, 1);
    assert.equal(cliJson<{ ok: boolean }>(home, ['receipts', 'verify']).json.ok, true);
  });

  it('enforces the cap with what was spent before the restart and the crash', async () => {
    const r = await pay(); // 110 + 60 > 150
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, 'budget_exceeded');
    assert.match(r.error?.message ?? '', /shop-daily/);
    assert.equal(spend().day, 110);
  });

  it('a cap configured for approval asks a person, and the approved call goes through', async () => {
    const gift = async () =>
      JSON.parse(
        (await cliAsync(home, ['tools', 'call', 'shop.gift', '--args', '{"item":"flowers"}', '--json'])).stdout,
      ) as CallResult & {
        error?: { approval?: { approval_id: string } };
      };
    const first = await gift();
    assert.equal(first.error?.code, 'approval_required');
    assert.match(first.error?.message ?? '', /gift-per-call/);
    assert.equal(cli(home, ['approvals', 'approve', first.error!.approval!.approval_id]).code, 0);
    const second = await gift();
    assert.equal(second.ok, true, JSON.stringify(second));
    const calls = receiptRecords(home).filter((r) => r.kind === 'tool_call' && String(r.body.tool).startsWith('shop.'));
    assert.ok(calls.length >= 4);
    assert.ok(
      calls.every((r) => r.actor === 'admin'),
      'admin-side calls are receipted with actor admin',
    );
  });
});
