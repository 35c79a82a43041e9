import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { receiptRecords, token } from '../helpers.ts';
import { RawStream, upgrade } from '../lib/call-stream-raw.ts';
import { streamRig, type StreamRig } from './lib/call-stream.ts';

/**
 * The daemon stops cleanly whatever call streams are open (docs/security.md, "The call stream"):
 * every call in flight is receipted, and `briefcased` exits 0 promptly, with peers that hold
 * streams, calls, unread answers, half lines and refused upgrades open.
 */
describe('attack: call streams held open against a daemon stop', () => {
  let rig: StreamRig;
  before(async () => {
    rig = await streamRig();
  });
  after(() => rig?.close());

  it('4 streams × 25 held calls, an unread stream, a half line and refused upgrades: exit 0, 100 receipts', async () => {
    const { home } = rig;
    const before = rig.calls();
    const streams = await Promise.all(
      Array.from({ length: 4 }, () => RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent')))),
    );
    for (const [n, s] of streams.entries()) {
      for (let i = 0; i < 25; i++) s.send({ id: i, call: { tool: 'cs.hold', args: { mode: 'hold', pad: `s${n}` } } });
    }
    // A stream whose peer reads nothing, with answers waiting to be written.
    const deaf = await RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent')));
    deaf.socket.pause();
    const big = 'q'.repeat(256 * 1024);
    for (let i = 0; i < 20; i++) deaf.send({ id: i, call: { tool: 'echo', args: { text: big } } });
    // A stream with half a line, never finished (slowloris).
    const half = await RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent')));
    half.socket.write('{"id":1,"call":{"tool":"echo","args":{"text":"never ends');
    // Upgrades the daemon refused, whose peers never close their side (a peer without a token
    // can do this on the TCP listener too), and one that sends its upgrade request only in part.
    const refused = await Promise.all([
      RawStream.open(home, '/v1/agent/tools/stream', upgrade()),
      RawStream.open(home, '/v1/admin/tools/stream', upgrade(token(home, 'agent'))),
      RawStream.open(home, '/v1/nowhere', upgrade(token(home, 'agent'))),
    ]);
    for (const r of refused) assert.notEqual(r.status, 101);
    const partial = connect(join(home, 'daemon.sock'));
    partial.on('error', () => {});
    partial.write('GET /v1/agent/tools/stream HTTP/1.1\r\nhost: daemon\r\nupgrade: briefcase-calls/1\r\n');

    await rig.until(() => rig.held.length === 100, '100 held upstream requests');
    const t = Date.now();
    const code = await rig.daemon.stop();
    const took = Date.now() - t;
    assert.equal(code, 0, rig.daemon.output());
    // pipeline.settled waits at most 5 s for receipts; a generous bound above that.
    assert.ok(took < 15_000, `the daemon took ${took} ms to stop`);
    for (const s of [...streams, deaf, half]) await s.closed;
    await rig.restart();
    assert.ok(rig.calls() > before, 'the daemon restarted on the same receipts');
    const held = receiptRecords(home).filter((r) => r.kind === 'tool_call' && r.body.tool === 'cs.hold');
    assert.equal(held.length, 100, 'each held call has exactly one receipt');
    for (const r of held) assert.notEqual(r.body.outcome, 'ok');
    partial.destroy();
    for (const r of refused) r.socket.destroy();
    for (const res of rig.held.splice(0)) res.destroy();
  });
});
