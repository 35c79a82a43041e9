import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DaemonClient } from './daemon-client.ts';

/**
 * A daemon from before the call stream (issue 13) answers its upgrade with 404, as any unknown
 * path. The gateway then makes its calls over HTTP, and does not ask again on every call.
 *
 * The server here is a stand-in for that older daemon (its API surface for one call, nothing
 * else): the current daemon always offers the stream, and an older build is not available to the
 * tests. test/call-stream.test.ts runs the stream against the real daemon.
 */
describe('DaemonClient against a daemon without the call stream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bc-old-daemon-'));
  const socket = join(dir, 'daemon.sock');
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.upgrade ?? ''}`.trim());
    if (req.method === 'POST' && req.url === '/v1/agent/tools/call') {
      req.resume();
      req.on('end', () => {
        const body = {
          ok: true,
          result: { content: [{ type: 'text', text: 'over http' }] },
          receipt_id: 'r1-0',
          origin: 'builtin',
        };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'not_found', message: `no such endpoint: ${req.method} ${req.url}` } }));
  });
  before(() => new Promise<void>((r) => server.listen(socket, r)));
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks for the stream once, then calls over HTTP', async () => {
    const client = new DaemonClient(socket, 'bc_agent_test');
    try {
      for (let i = 0; i < 3; i++) {
        const r = await client.callTool('echo', { text: 'x' });
        assert.equal(r.ok, true);
        assert.deepEqual(r.ok && r.result.content, [{ type: 'text', text: 'over http' }]);
      }
      assert.deepEqual(seen, [
        'GET /v1/agent/tools/stream briefcase-calls/1',
        'POST /v1/agent/tools/call',
        'POST /v1/agent/tools/call',
        'POST /v1/agent/tools/call',
      ]);
    } finally {
      client.close();
    }
  });
});
