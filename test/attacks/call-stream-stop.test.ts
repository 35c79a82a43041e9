import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
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

  it('peers that keep their side open after a refused upgrade or a broken stream: their sockets are closed, the daemon stops', async () => {
    const { home } = rig;
    const pid = rig.daemon.proc.pid!;
    const fds = () => (process.platform === 'linux' ? readdirSync(`/proc/${pid}/fd`).length : 0);
    const base = fds();
    // A peer that never closes its side, whatever it is told (a Node socket with allowHalfOpen; a
    // plain one ends its side when the daemon ends).
    const told: Array<Promise<void>> = [];
    const peer = (request: string, then?: string) => {
      const s = connect({ path: join(home, 'daemon.sock'), allowHalfOpen: true });
      s.on('error', () => {});
      s.on('data', (c: Buffer) => {
        if (then && c.toString('latin1').startsWith('HTTP/1.1 101')) s.write(then);
      });
      // The daemon has said its last word (a refusal, or the stream's error) and ended its side.
      told.push(new Promise((r) => s.once('end', () => r())));
      s.write(request);
      return s;
    };
    const req = (path: string, bearer?: string) =>
      `GET ${path} HTTP/1.1\r\nhost: d\r\nconnection: Upgrade\r\nupgrade: briefcase-calls/1\r\n` +
      (bearer ? `authorization: Bearer ${bearer}\r\n` : '') +
      '\r\n';
    const peers = [
      ...Array.from({ length: 10 }, () => peer(req('/v1/agent/tools/stream'))), // 401
      ...Array.from({ length: 5 }, () => peer(req('/v1/admin/tools/stream', token(home, 'agent')))), // 403
      ...Array.from({ length: 5 }, () => peer(req('/v1/nowhere', token(home, 'agent')))), // 404
      // Opened, then a broken line: the daemon ends the stream.
      ...Array.from({ length: 5 }, () => peer(req('/v1/agent/tools/stream', token(home, 'agent')), '{not json\n')),
    ];
    await Promise.all(told);
    if (process.platform === 'linux') {
      // The daemon lets go of each of them (file descriptors back to where they were).
      await rig.until(
        () => fds() <= base + 2,
        `the daemon to close the 25 refused or broken sockets (${fds()} fds, ${base} before)`,
      );
    }
    const t = Date.now();
    const code = await Promise.race([
      rig.daemon.stop(),
      new Promise((r) => setTimeout(() => r('still running'), 30_000)),
    ]);
    assert.equal(code, 0, `stop with half-open peers: ${String(code)} after ${Date.now() - t} ms`);
    for (const p of peers) p.destroy();
    await rig.restart();
  });
});
