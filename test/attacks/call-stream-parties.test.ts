import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DaemonClient } from '../../apps/mcp-gateway/src/daemon-client.ts';
import { receiptRecords, token } from '../helpers.ts';
import { RawStream, upgrade } from '../lib/call-stream-raw.ts';
import { streamRig, type StreamRig } from './lib/call-stream.ts';

type Answer = { ok: boolean; result?: { content: Array<{ text: string }> }; receipt_id: string };
const text = (f: RawStream['frames'][number]) => (f.response as Answer | undefined)?.result?.content[0]?.text;

/**
 * No party disturbs another's calls on the call stream (docs/security.md, "The call stream"):
 * many streams using the same ids at once, cancels sent for another stream's ids, and the
 * gateway's one stream shared by every session of `briefcase mcp --http` (one DaemonClient).
 */
describe('attack: one party against another party’s calls on call streams', () => {
  let rig: StreamRig;
  before(async () => {
    rig = await streamRig();
  });
  after(() => rig?.close());

  it('8 streams (agent and admin) × 40 calls at once with the same ids: every answer on its own stream, under its own id', async () => {
    const { home } = rig;
    const streams = await Promise.all(
      Array.from({ length: 8 }, (_, n) =>
        n % 2
          ? RawStream.open(home, '/v1/admin/tools/stream', upgrade(token(home, 'admin')))
          : RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent'))),
      ),
    );
    const before = rig.calls();
    for (const [n, s] of streams.entries()) {
      // One write per stream holding every frame, ids 0..39 on every stream.
      s.socket.write(
        Array.from(
          { length: 40 },
          (_, i) => `${JSON.stringify({ id: i, call: { tool: 'echo', args: { text: `s${n}-c${i}` } } })}\n`,
        ).join(''),
      );
    }
    for (const [n, s] of streams.entries()) {
      const frames = await s.until((f) => f.length >= 40);
      assert.equal(frames.length, 40, `stream ${n}`);
      for (const f of frames) assert.equal(text(f), `s${n}-c${String(f.id)}`, JSON.stringify(f).slice(0, 200));
      assert.equal(new Set(frames.map((f) => f.id)).size, 40, 'each id answered once');
    }
    await rig.until(() => rig.calls() - before >= 320, '320 receipts');
    assert.equal(rig.calls() - before, 320);
    for (const s of streams) s.socket.destroy();
  });

  it('a cancel on one stream does not reach another stream’s call with the same id; a cancel for a finished id is nothing', async () => {
    const { home } = rig;
    const victim = await RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent')));
    const attacker = await RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent')));
    victim.send({ id: 7, call: { tool: 'cs.hold', args: { mode: 'hold' } } });
    await rig.until(() => rig.held.length === 1, 'the victim’s call to reach its upstream');
    const upstream = rig.held[0]!;
    // The attacker cancels id 7 on its own stream, with and without a call 7 of its own.
    attacker.send({ id: 7, cancel: true });
    attacker.send({ id: 7, call: { tool: 'echo', args: { text: 'mine' } } });
    await attacker.until((f) => f.some((x) => x.id === 7));
    attacker.send({ id: 7, cancel: true });
    attacker.send({ id: 7, call: { tool: 'echo', args: { text: 'mine again' } } });
    const af = await attacker.until((f) => f.length >= 2);
    assert.deepEqual(
      af.map((f) => text(f)),
      ['mine', 'mine again'],
      'an id is reusable once answered, and a late cancel of it is nothing',
    );
    assert.equal(upstream.destroyed || upstream.writableEnded, false, 'the victim’s upstream request is untouched');
    upstream.end('{"released":true}');
    rig.held.shift();
    const vf = await victim.until((f) => f.length >= 1);
    assert.equal((vf[0]?.response as Answer).ok, true, JSON.stringify(vf[0]));
    assert.equal(vf[0]?.id, 7);
    victim.socket.destroy();
    attacker.socket.destroy();
  });

  it('the gateway’s one stream is shared by every MCP session: past 256 in flight another party’s call waits, and a cancel does not make it fail', async () => {
    const { home } = rig;
    // `briefcase mcp --http` serves all its sessions with one DaemonClient (apps/cli/src/commands/mcp.ts).
    const client = new DaemonClient(join(home, 'daemon.sock'), token(home, 'agent'));
    const before = rig.held.length;
    try {
      const hog = new AbortController();
      const last = new AbortController();
      const hogs = Array.from({ length: 256 }, (_, i) =>
        client.callTool('cs.hold', { mode: 'hold' }, i === 255 ? last.signal : hog.signal).catch((e: unknown) => e),
      );
      await rig.until(() => rig.held.length - before >= 256, '256 held calls at the upstream', 60_000);
      // Another party's call, through the same client: it waits for a place on the stream.
      const other = client.callTool('echo', { text: 'other party' });
      // A cancelled call keeps its place until the daemon has answered it (the daemon counts it
      // until then): the call that takes the place must not be refused by the daemon for it.
      last.abort();
      const r = await other;
      assert.equal(r.ok, true, JSON.stringify(r));
      // And once a held call ends, its place goes to the next call.
      const third = client.callTool('echo', { text: 'third' });
      rig.held.shift()?.end('{"released":true}');
      assert.equal((await third).ok, true);
      hog.abort();
      await Promise.all(hogs);
    } finally {
      client.close();
      for (const res of rig.held.splice(0)) res.destroy();
    }
    // Every hog call was receipted (aborted), none lost.
    await rig.until(
      () => receiptRecords(home).filter((r) => r.kind === 'tool_call' && r.body.tool === 'cs.hold').length >= 256,
      'the aborted calls’ receipts',
    );
  });
});
