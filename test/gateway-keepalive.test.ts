import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, daemonRequest, startDaemon, stdioClient, tempHome, token, type DaemonProcess } from './helpers.ts';

/**
 * Issue 13: the gateway keeps its connection to the daemon open across calls (HTTP keep-alive on
 * the Unix socket) instead of one connection per call, and that reuse authenticates nothing: the
 * bearer token is checked on every request, so a connection opened with a good token carries no
 * authority for the next request on it.
 */
describe('gateway ↔ daemon: one kept-alive connection, a token checked per request', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;

  before(async () => {
    assert.equal(cli(home, ['init', '--master-key', 'file']).code, 0);
    daemon = await startDaemon(home);
  });
  after(async () => {
    await daemon?.stop();
    cleanup();
  });

  const accepted = async (): Promise<number> => {
    const r = await daemonRequest(home, 'GET', '/v1/admin/status', token(home, 'admin'));
    assert.equal(r.status, 200, r.body);
    const n = (JSON.parse(r.body) as { api_connections?: unknown }).api_connections;
    assert.equal(typeof n, 'number', 'status reports api_connections');
    return n as number;
  };

  it('40 sequential calls through `briefcase mcp` open no new connection to the daemon', async () => {
    const client = await stdioClient(home);
    try {
      // The first call opens the gateway's connection (and its list watch may open another).
      await client.callTool({ name: 'echo', arguments: { text: 'warm' } });
      const first = await accepted();
      for (let i = 0; i < 40; i++) {
        const r = await client.callTool({ name: 'echo', arguments: { text: `call ${i}` } });
        assert.deepEqual(r.content, [{ type: 'text', text: `call ${i}` }]);
      }
      const last = await accepted();
      // One per status request of this test at most, a list-watch re-poll, none per call: a
      // gateway that connected per call would add 40.
      assert.ok(last - first <= 4, `the daemon accepted ${last - first} connections during 40 calls`);
    } finally {
      await client.close();
    }
  });

  it('a kept-alive connection authenticated once carries no authority to the next request (attack)', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (path: string, bearer: string) =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = request(
          { socketPath: join(home, 'daemon.sock'), path, agent, headers: { authorization: `Bearer ${bearer}` } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    try {
      const ok = await send('/v1/agent/tools', token(home, 'agent'));
      assert.equal(ok.status, 200);
      // Same socket, now with a token that is not (or no longer) the agent's.
      const stale = await send('/v1/agent/tools', `bc_agent_${'A'.repeat(43)}`);
      assert.equal(stale.reused, true, 'the second request went over the same connection');
      assert.equal(stale.status, 401);
      const none = await send('/v1/agent/tools', '');
      assert.equal(none.reused, true);
      assert.equal(none.status, 401);
      // The agent's token on that connection still reaches no admin endpoint.
      const admin = await send('/v1/admin/status', token(home, 'agent'));
      assert.equal(admin.reused, true);
      assert.equal(admin.status, 403);
    } finally {
      agent.destroy();
    }
  });
});
