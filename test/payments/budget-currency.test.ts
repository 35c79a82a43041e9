import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cli, cliAsync, cliJson, startDaemon, tempHome, writeJson, type DaemonProcess } from '../helpers.ts';

/**
 * Issue 12, currency-aware caps: `budgets.currency` names what the caps count. A tool whose cost
 * is in another currency is refused before it runs, and its estimate is never added to them.
 */
const { home, cleanup } = tempHome();
let upstream: Server;
let daemon: DaemonProcess;

before(async () => {
  upstream = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as AddressInfo).port;
  assert.equal(cli(home, ['init']).code, 0);
  for (const [name, currency] of [
    ['shop.usd', 'USD'],
    ['shop.eur', 'EUR'],
  ] as const) {
    writeJson(join(home, 'connectors', `${name}.json`), {
      kind: 'http',
      name,
      description: `Buys something priced in ${currency}`,
      category: 'payment',
      input_schema: { type: 'object', properties: {}, additionalProperties: false },
      request: { method: 'POST', url: `http://127.0.0.1:${port}/buy` },
      egress: [`127.0.0.1:${port}`],
      cost: { estimate: 40, currency },
    });
  }
  daemon = await startDaemon(home);
});
after(async () => {
  await daemon?.stop();
  upstream?.close();
  cleanup();
});

test('a cost in another currency than the caps is refused and never added to them', async () => {
  const usd = JSON.parse((await cliAsync(home, ['tools', 'call', 'shop.usd', '--args', '{}', '--json'])).stdout) as {
    ok: boolean;
  };
  assert.equal(usd.ok, true);
  const eur = JSON.parse((await cliAsync(home, ['tools', 'call', 'shop.eur', '--args', '{}', '--json'])).stdout) as {
    ok: boolean;
    error?: { code: string; message: string };
  };
  assert.equal(eur.ok, false);
  assert.equal(eur.error?.code, 'budget_exceeded');
  assert.match(eur.error?.message ?? '', /EUR.*USD/);
  const spend = cliJson<{ spend: { day: number } }>(home, ['status']).json.spend;
  assert.equal(spend.day, 40, 'only the USD estimate counts');
});
