import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { cli, cliAsync, sleep, startDaemon, tempHome, type DaemonProcess } from '../helpers.ts';
import {
  httpClient,
  openEventStream,
  rawPost,
  rawSession,
  sessionOf,
  startHttpGateway,
  type HttpGateway,
} from './lib/http-gateway.ts';
import { nested } from './lib/raw-gateway.ts';

const LIMIT = 64; // the gateway's default session limit

/** Open and abandon `n` sessions the way an agent host that exits does: no DELETE. */
async function abandon(gw: HttpGateway, n: number): Promise<void> {
  for (let done = 0; done < n; done += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, n - done) }, async () => {
        const c = await httpClient(gw);
        await c.close(); // closes the transport; the session stays open on the server
      }),
    );
  }
}

const echo = async (c: Client, text: string) => {
  const r = await c.callTool({ name: 'echo', arguments: { text } });
  assert.deepEqual(r.content, [{ type: 'text', text }]);
};

/**
 * Issue 8, class 8: 64 clients that initialize and leave without DELETE locked everyone out of
 * the HTTP gateway for 30 minutes. At the limit the least recently used idle session now makes
 * room; a session with a request in flight is never evicted.
 */
describe('HTTP gateway sessions under abandonment (issue 8 class 8)', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;
  let gw: HttpGateway;

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home);
    gw = await startHttpGateway(home, ['--approval-wait', '120']);
  });
  after(async () => {
    await gw?.stop();
    await daemon?.stop();
    cleanup();
  });

  it(`${LIMIT + 16} abandoned sessions do not lock a new client out (official SDK client)`, async () => {
    await abandon(gw, LIMIT + 16);
    const fresh = await httpClient(gw);
    try {
      await echo(fresh, 'not locked out');
    } finally {
      await fresh.close();
    }
  });

  it('an evicted client gets 404 and initializing again works', async () => {
    const first = await httpClient(gw);
    const id = sessionOf(first);
    await echo(first, 'before eviction');
    await first.close();
    await abandon(gw, LIMIT); // pushes `first` out: it is the least recently used idle session
    const resumed = await httpClient(gw, id);
    await assert.rejects(
      resumed.callTool({ name: 'echo', arguments: { text: 'x' } }),
      (e: unknown) => e instanceof StreamableHTTPError && e.code === 404,
    );
    await resumed.close();
    const again = await httpClient(gw); // what MCP tells a client to do on 404
    await echo(again, 'after re-initializing');
    await again.close();
  });

  it('sessions with a request in flight are never evicted; only when all are busy is there a clear 503', async () => {
    // One session whose tool call is held open for an approval (a POST in flight)…
    const held = await rawSession(gw);
    const call = rawPost(
      gw,
      { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'notes.add', arguments: { text: 'held' } } },
      held,
    );
    let approvalId: string | undefined;
    for (let i = 0; !approvalId; i++) {
      assert.ok(i < 200, 'the held call never asked for approval');
      await sleep(100);
      const list = await cliAsync(home, ['approvals', 'list', '--json']);
      approvalId = (JSON.parse(list.stdout) as { approvals: { id: string; status: string }[] }).approvals.find(
        (a) => a.status === 'pending',
      )?.id;
    }
    // …and the rest sessions with their event stream open (as every SDK client keeps one). The
    // streams are opened here and awaited, so each is known to be in flight before the late
    // initialize: the SDK client opens its stream some time after connect() returns.
    const live: { session: string; stream: { close(): void } }[] = [];
    try {
      for (let i = 0; i < LIMIT - 1; i += 21) {
        live.push(
          ...(await Promise.all(
            Array.from({ length: Math.min(21, LIMIT - 1 - i) }, async () => {
              const session = await rawSession(gw);
              return { session, stream: await openEventStream(gw, session) };
            }),
          )),
        );
      }
      const refused = await rawPost(gw, {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'late', version: '1' } },
      });
      assert.equal(refused.status, 503);
      assert.match(
        String((refused.messages[0]?.error as { message: string }).message),
        /every session has a request in flight/,
      );

      // None of the busy sessions was evicted: each still answers, the held call completes.
      await Promise.all(
        live.map(async ({ session }, i) => {
          const r = await rawPost(
            gw,
            { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: `live ${i}` } } },
            session,
          );
          assert.equal(r.status, 200, `live session ${i} was evicted`);
          assert.deepEqual((r.messages.at(-1)?.result as { content: unknown }).content, [
            { type: 'text', text: `live ${i}` },
          ]);
        }),
      );
      assert.equal(cli(home, ['approvals', 'approve', approvalId]).code, 0);
      const done = await call;
      assert.equal(done.status, 200);
      assert.match(JSON.stringify(done.messages), /Saved note/);
    } finally {
      for (const { stream } of live) stream.close();
    }
    await sleep(100); // the gateway sees the streams close
    // Their streams closed, the sessions are idle again: a new client gets in.
    const fresh = await httpClient(gw);
    await echo(fresh, 'room again');
    await fresh.close();
  });

  it('over HTTP: id null, malformed ids and hostile nesting get -32600 (id when readable); the gateway keeps serving', async () => {
    const session = await rawSession(gw);
    for (const id of [null, { a: 1 }, 2.5, false]) {
      const r = await rawPost(gw, { jsonrpc: '2.0', id, method: 'tools/list' }, session);
      assert.equal(r.status, 400);
      assert.deepEqual(r.messages[0]?.id, null);
      assert.equal((r.messages[0]?.error as { code: number }).code, -32600, JSON.stringify(r));
    }
    const deep = await rawPost(
      gw,
      `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"text":${nested(100_000)}}}}`,
      session,
    );
    assert.equal(deep.status, 400);
    assert.equal(deep.messages[0]?.id, 5);
    assert.equal((deep.messages[0]?.error as { code: number }).code, -32600);
    const ok = await rawPost(
      gw,
      { jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'echo', arguments: { text: 'fine' } } },
      session,
    );
    assert.match(JSON.stringify(ok.messages), /"text":"fine"/);
  });
});
