import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DaemonClient } from '../apps/mcp-gateway/src/daemon-client.ts';
import { streamRig, type StreamRig } from './attacks/lib/call-stream.ts';
import { daemonRequest, receiptRecords, sleep, stdioClient, token } from './helpers.ts';
import { RawStream, upgrade } from './lib/call-stream-raw.ts';

/**
 * Issue 13: tool calls on the daemon's call stream (apps/briefcased/src/api/call-stream.ts), the
 * one kept connection the gateway now makes its calls on. What HTTP gave each call must hold per
 * line: the credential, the body's limits, the firewall, one receipt per call; and a stream must
 * not let one party disturb another's calls or keep the daemon from stopping.
 */
describe('the call stream: tool calls as JSON lines on one connection (issue 13)', () => {
  // One connector, cs.hold: its upstream reflects the key (mode echo) or holds the answer until
  // the test releases it (mode hold), a slow tool to cancel mid-call.
  let rig: StreamRig;
  let home = '';
  let held: ServerResponse[] = [];

  before(async () => {
    rig = await streamRig();
    home = rig.home;
    held = rig.held;
  });
  after(() => rig?.close());

  const status = async () => {
    const r = await daemonRequest(home, 'GET', '/v1/admin/status', token(home, 'admin'));
    return JSON.parse(r.body) as { api_connections: number; call_streams: number };
  };

  it('opens only with the call endpoint’s own credential (attack: no token, a wrong one, the other role)', async () => {
    const cases: Array<[string, Record<string, string>, number]> = [
      ['/v1/agent/tools/stream', upgrade(), 401],
      ['/v1/agent/tools/stream', upgrade(`bc_agent_${'A'.repeat(43)}`), 401],
      ['/v1/admin/tools/stream', upgrade(token(home, 'agent')), 403],
      ['/v1/agent/tools/stream', upgrade(token(home, 'admin')), 403],
      ['/v1/agent/tools/call', upgrade(token(home, 'agent')), 404],
      ['/v1/agent/tools/stream', { ...upgrade(token(home, 'agent')), upgrade: 'websocket' }, 404],
    ];
    for (const [path, headers, expected] of cases) {
      const s = await RawStream.open(home, path, headers);
      assert.equal(s.status, expected, `${path} ${JSON.stringify(headers)}`);
      await s.closed; // refused: the daemon closes the connection, nothing was upgraded
    }
    const ok = await RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent')));
    assert.equal(ok.status, 101);
    ok.socket.destroy();
  });

  it('20 calls sent at once on one stream: each answered under its own id, each with its own receipt', async () => {
    const s = await RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent')));
    const calls = () => receiptRecords(home).filter((r) => r.kind === 'tool_call');
    const before = calls().length;
    // One write holding all 20 frames: the daemon must split them itself.
    s.socket.write(
      Array.from(
        { length: 20 },
        (_, i) => `${JSON.stringify({ id: 100 + i, call: { tool: 'echo', args: { text: `n${i}` } } })}\n`,
      ).join(''),
    );
    const frames = await s.until((f) => f.length >= 20);
    assert.equal(frames.length, 20);
    const receipts = new Set<string>();
    for (const f of frames) {
      assert.ok(typeof f.id === 'number' && f.id >= 100 && f.id < 120, JSON.stringify(f));
      const r = f.response as { ok: boolean; result: { content: Array<{ text: string }> }; receipt_id: string };
      assert.equal(r.ok, true, JSON.stringify(f));
      assert.equal(r.result.content[0]?.text, `n${f.id - 100}`, 'the answer belongs to the call with that id');
      receipts.add(r.receipt_id);
    }
    assert.equal(receipts.size, 20, 'one receipt per call');
    assert.equal(calls().length - before, 20);
    s.socket.destroy();
  });

  it('a bad call is refused on its own and the stream goes on; a duplicate id in flight is refused', async () => {
    const s = await RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent')));
    s.send({ id: 1, call: { tool: '' } });
    s.send({ id: 2, call: { tool: 'echo', args: { text: 'x' }, extra: true } });
    s.send({ id: 3, call: { tool: 'cs.hold', args: { mode: 'hold' } } });
    await s.until(() => held.length > 0);
    s.send({ id: 3, call: { tool: 'echo', args: { text: 'dup' } } });
    s.send({ id: 4, call: { tool: 'echo', args: { text: 'after' } } });
    const frames = await s.until((f) => f.some((x) => x.id === 4));
    const byId = (id: number) => frames.filter((f) => f.id === id);
    assert.equal(byId(1)[0]?.error?.code, 'bad_request');
    assert.match(byId(1)[0]?.error?.message ?? '', /call\.tool/);
    assert.equal(byId(2)[0]?.error?.code, 'bad_request');
    assert.equal(byId(3)[0]?.error?.code, 'bad_request', 'the second call with id 3 is refused');
    assert.match(byId(3)[0]?.error?.message ?? '', /already in flight/);
    assert.equal((byId(4)[0]?.response as { ok: boolean }).ok, true);
    // Release the held call: it answers under id 3, once.
    held.shift()?.end('{"key":"released"}');
    const done = await s.until((f) => f.some((x) => x.id === 3 && x.response !== undefined));
    assert.equal((done.find((x) => x.id === 3 && x.response !== undefined)?.response as { ok: boolean }).ok, true);
    s.socket.destroy();
  });

  it('a cancel line aborts its call: the upstream request is dropped and the call receipted', async () => {
    const s = await RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent')));
    const calls = () => receiptRecords(home).filter((r) => r.kind === 'tool_call');
    const before = calls().length;
    s.send({ id: 9, call: { tool: 'cs.hold', args: { mode: 'hold' } } });
    await s.until(() => held.length > 0);
    const upstreamClosed = new Promise<void>((r) => held[0]!.once('close', () => r()));
    s.send({ id: 9, cancel: true });
    await upstreamClosed;
    const deadline = Date.now() + 5000;
    while (calls().length === before && Date.now() < deadline) await sleep(50);
    const added = calls().slice(before);
    assert.equal(added.length, 1, 'the cancelled call has its receipt');
    assert.equal(added[0]?.body.tool, 'cs.hold');
    assert.notEqual(added[0]?.body.outcome, 'ok');
    held.shift()?.destroy();
    s.socket.destroy();
  });

  it('every answer line passes the firewall; a frame id equal to a secret is not a way to probe it (attack)', async () => {
    const s = await RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent')));
    s.send({ id: 5, call: { tool: 'cs.hold', args: { mode: 'echo' } } });
    const frames = await s.until((f) => f.some((x) => x.id === 5));
    const text = JSON.stringify(frames);
    assert.ok(!text.includes(rig.key), 'the reflected secret is not in the stream');
    assert.ok(!text.includes(Buffer.from(rig.key).toString('base64')));
    assert.equal((frames[0]?.response as { ok: boolean }).ok, true, 'the call itself worked');
    assert.match(text, /redacted/, 'the upstream did reflect it (the test is live)');
    s.socket.destroy();
  });

  it('a broken line ends the stream with a reason; the daemon keeps serving others (attack: hostile framing)', async () => {
    const cases: Array<[string, string]> = [
      ['{not json', 'bad_request'],
      ['[1,2,3]', 'bad_request'],
      ['{"call":{"tool":"echo"}}', 'bad_request'],
      ['{"id":-1,"call":{"tool":"echo"}}', 'bad_request'],
      ['{"id":1.5,"call":{"tool":"echo"}}', 'bad_request'],
      [`{"id":1,"call":{"tool":"echo","args":${'['.repeat(2000)}${']'.repeat(2000)}}}`, 'bad_request'],
    ];
    for (const [line, code] of cases) {
      const s = await RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent')));
      s.send(line);
      await s.closed;
      assert.equal(s.frames.at(-1)?.id, null, line);
      assert.equal(s.frames.at(-1)?.error?.code, code, line);
    }
    // A line that never ends: refused once it passes the body limit, without waiting for its end.
    const big = await RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent')));
    const chunk = `{"id":1,"call":{"tool":"echo","args":{"text":"${'a'.repeat(64 * 1024)}`;
    for (let i = 0; i < 40 && !big.socket.destroyed; i++) {
      big.socket.write(chunk.slice(i === 0 ? 0 : 30));
      await sleep(5);
    }
    await big.closed;
    assert.equal(big.frames.at(-1)?.error?.code, 'payload_too_large');
    const other = await RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent')));
    other.send({ id: 1, call: { tool: 'echo', args: { text: 'still here' } } });
    const frames = await other.until((f) => f.length > 0);
    const answer = frames[0]?.response as { result: { content: Array<{ text: string }> } };
    assert.equal(answer.result.content[0]?.text, 'still here');
    other.socket.destroy();
  });

  it('a client that does not read its answers is not read either: answers cannot pile up in the daemon (attack)', async () => {
    const s = await RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent')));
    const calls = () => receiptRecords(home).filter((r) => r.kind === 'tool_call').length;
    const before = calls();
    s.socket.pause(); // never reads
    const text = 'z'.repeat(64 * 1024);
    const N = 300;
    for (let i = 0; i < N; i++)
      s.socket.write(`${JSON.stringify({ id: i, call: { tool: 'echo', args: { text } } })}\n`);
    await sleep(2000);
    const served = calls() - before;
    // Each answer is 64 KiB: a few fill the socket's buffers, then the daemon stops reading.
    assert.ok(served < 60, `the daemon ran ${served} of ${N} calls for a client that reads nothing`);
    s.socket.resume();
    const frames = await s.until((f) => f.length >= N);
    assert.equal(frames.length, N, 'once read, every call is answered');
    assert.equal(calls() - before, N);
    s.socket.destroy();
  });

  it('the gateway makes its calls on one stream (status counts it), closed with the gateway', async () => {
    const settled = async () => {
      const deadline = Date.now() + 5000;
      while ((await status()).call_streams !== 0 && Date.now() < deadline) await sleep(50);
      assert.equal((await status()).call_streams, 0, 'no stream is left open');
    };
    await settled(); // the earlier tests' streams have closed
    const client = await stdioClient(home);
    try {
      await client.callTool({ name: 'echo', arguments: { text: 'warm' } });
      const first = await status();
      assert.equal(first.call_streams, 1, 'the gateway opened one call stream');
      for (let i = 0; i < 30; i++) {
        const r = await client.callTool({ name: 'echo', arguments: { text: `c${i}` } });
        assert.deepEqual(r.content, [{ type: 'text', text: `c${i}` }]);
      }
      const last = await status();
      assert.equal(last.call_streams, 1);
      assert.ok(last.api_connections - first.api_connections <= 3, 'no connection per call');
    } finally {
      await client.close();
    }
    await settled(); // the stream closed with its gateway
  });

  it('the gateway’s client: an aborted call is cancelled on the stream, the stream goes on', async () => {
    const client = new DaemonClient(join(home, 'daemon.sock'), token(home, 'agent'));
    try {
      const abort = new AbortController();
      const call = client.callTool('cs.hold', { mode: 'hold' }, abort.signal);
      while (held.length === 0) await sleep(20);
      const upstreamClosed = new Promise<void>((r) => held[0]!.once('close', () => r()));
      abort.abort();
      await assert.rejects(call, { name: 'AbortError' });
      await upstreamClosed; // the daemon dropped the upstream request: the cancel reached it
      held.shift();
      const r = await client.callTool('echo', { text: 'next' });
      assert.equal(r.ok, true);
      assert.equal((await status()).call_streams >= 1, true, 'the same client still uses a stream');
    } finally {
      client.close();
    }
  });

  it('the gateway’s client: a call in flight when the daemon stops fails as unavailable; after a restart the next call opens a new stream', async () => {
    const client = new DaemonClient(join(home, 'daemon.sock'), token(home, 'agent'));
    try {
      assert.equal((await client.callTool('echo', { text: 'before' })).ok, true);
      const call = client.callTool('cs.hold', { mode: 'hold' });
      while (held.length === 0) await sleep(20);
      const failed = assert.rejects(call, (e: unknown) => (e as { code?: string }).code === 'unavailable');
      await rig.daemon.stop();
      held.shift()?.destroy();
      await failed;
      await rig.restart();
      const r = await client.callTool('echo', { text: 'after' });
      assert.equal(r.ok, true);
      assert.equal((await status()).call_streams, 1, 'a new stream was opened');
    } finally {
      client.close();
    }
  });

  it('a client holding a stream with a call in flight does not keep the daemon from stopping; the call is receipted', async () => {
    const s = await RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent')));
    s.send({ id: 1, call: { tool: 'cs.hold', args: { mode: 'hold' } } });
    await s.until(() => held.length > 0);
    const t = Date.now();
    assert.equal(await rig.daemon.stop(), 0, rig.daemon.output());
    assert.ok(Date.now() - t < 5000, `the daemon took ${Date.now() - t} ms to stop`);
    await s.closed;
    await rig.restart();
    // The call the stop aborted was still receipted, before the database closed.
    const last = receiptRecords(home)
      .filter((r) => r.kind === 'tool_call')
      .at(-1);
    assert.equal(last?.body.tool, 'cs.hold');
    assert.notEqual(last?.body.outcome, 'ok');
  });
});
