import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { checkedFetch } from './fetch.ts';
import { closeConnectionPools } from './pool.ts';
import { EgressViolation, type EgressRules, type Lookup } from './rules.ts';

/**
 * Issue 13: checkedFetch keeps connections alive. Reuse must never carry a request past its own
 * check: the rules and the name's resolution are checked per request, before a pool is chosen.
 */
describe('checkedFetch connection pools', () => {
  let server: http.Server;
  let port = 0;
  let connections = 0;
  let requests = 0;

  before(async () => {
    server = http.createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => res.end(JSON.stringify({ n: requests })));
    });
    server.keepAliveTimeout = 2000; // closes idle connections quickly (Node's agent keeps none under 2 s)
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    closeConnectionPools();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const loopback = (): EgressRules => ({ grants: [`127.0.0.1:${port}`, `api.test:${port}`], allowPrivate: true });

  it('sequential requests to one address share one connection', async () => {
    closeConnectionPools();
    const before = connections;
    for (let i = 0; i < 10; i++) {
      const r = await checkedFetch(`http://127.0.0.1:${port}/x`, { rules: loopback(), method: 'POST', body: '{}' });
      assert.equal(r.status, 200);
      await r.text();
      // The body can be read to its end a turn before the connection is back in its pool; a
      // caller (an MCP client) does work between calls.
      await new Promise((res) => setTimeout(res, 5));
    }
    assert.equal(connections - before, 1);
  });

  it('a pooled connection does not carry a request the rules now refuse; nothing is sent (attack)', async () => {
    const r = await checkedFetch(`http://127.0.0.1:${port}/warm`, { rules: loopback() });
    await r.text();
    const before = requests;
    await assert.rejects(
      checkedFetch(`http://127.0.0.1:${port}/x`, { rules: { grants: [`127.0.0.1:${port + 1}`], allowPrivate: true } }),
      (e: unknown) => e instanceof EgressViolation,
    );
    await assert.rejects(
      checkedFetch(`http://127.0.0.1:${port}/x`, { rules: { grants: ['example.org:443'], allowPrivate: true } }),
      (e: unknown) => e instanceof EgressViolation,
    );
    assert.equal(requests, before, 'the refused requests never reached the server');
  });

  it('a name that rebinds to a refused address is refused, not sent over the connection to the old one (attack)', async () => {
    let answer = '127.0.0.1';
    const lookup: Lookup = async () => [{ address: answer, family: 4 }];
    const first = await checkedFetch(`http://api.test:${port}/a`, { rules: loopback(), lookup });
    await first.text();
    const before = requests;
    answer = '169.254.169.254'; // the metadata address: never allowed
    await assert.rejects(
      checkedFetch(`http://api.test:${port}/b`, { rules: loopback(), lookup }),
      (e: unknown) => e instanceof EgressViolation && /169\.254\.169\.254/.test(e.message + e.reason),
    );
    assert.equal(requests, before);
  });

  it('a connection the server closed while idle is not used again', async () => {
    const r = await checkedFetch(`http://127.0.0.1:${port}/a`, { rules: loopback() });
    await r.text();
    await new Promise((res) => setTimeout(res, 2500)); // past the server's keep-alive timeout
    const again = await checkedFetch(`http://127.0.0.1:${port}/b`, { rules: loopback(), method: 'POST', body: '{}' });
    assert.equal(again.status, 200);
  });
});
