import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rssMiB } from '../../bench/proc.ts';
import { sleep, token } from '../helpers.ts';
import { RawStream, upgrade } from '../lib/call-stream-raw.ts';
import { streamRig, type StreamRig } from './lib/call-stream.ts';

/**
 * What a holder of the agent token can make the daemon hold with call streams (docs/security.md,
 * "The call stream"): 256 calls in flight per stream, each with its arguments. The daemon holds
 * each call's arguments about once (no copy per frame or per chunk), and refuses the 257th.
 * The number of streams is not capped, as the number of HTTP connections is not (documented).
 */
describe('attack: many streams, each with 256 calls in flight holding large arguments', () => {
  let rig: StreamRig;
  before(async () => {
    rig = await streamRig();
  });
  after(() => rig?.close());

  it('3 streams × 256 held calls × 64 KiB: each 257th refused, the streams go on, memory about the arguments held', async (t) => {
    if (process.platform !== 'linux') return t.skip('reads /proc/<pid>/status (Linux only)');
    const { home } = rig;
    const pid = rig.daemon.proc.pid!;
    await sleep(500);
    const base = rssMiB(pid);
    const pad = 'm'.repeat(64 * 1024);
    const streams = await Promise.all(
      Array.from({ length: 3 }, () => RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent')))),
    );
    for (const [n, s] of streams.entries()) {
      for (let i = 0; i < 256; i++)
        s.send({ id: i, call: { tool: 'cs.hold', args: { mode: 'hold', pad: `${n}${pad}` } } });
    }
    await rig.until(() => rig.held.length >= 768, '768 held calls at the upstream', 120_000);
    for (const s of streams) s.send({ id: 256, call: { tool: 'echo', args: { text: 'one more' } } });
    for (const s of streams) {
      const frames = await s.until((f) => f.some((x) => x.id === 256));
      const refused = frames.find((x) => x.id === 256);
      assert.equal(refused?.error?.code, 'bad_request', JSON.stringify(refused));
      assert.match(refused?.error?.message ?? '', /256 calls in flight/);
    }
    const held = rssMiB(pid);
    const args = (768 * pad.length) / 1024 / 1024; // 48 MiB of arguments in flight
    t.diagnostic(`daemon RSS ${base.toFixed(0)} MiB → ${held.toFixed(0)} MiB with ${args} MiB of arguments in flight`);
    assert.ok(
      held - base < args * 6 + 64,
      `the daemon grew ${(held - base).toFixed(0)} MiB for ${args} MiB of arguments`,
    );
    // A cancelled call gives its place back once answered: the stream takes a new call in it.
    for (const s of streams) s.send({ id: 0, cancel: true });
    for (const s of streams) await s.until((f) => f.some((x) => x.id === 0));
    for (const s of streams) s.send({ id: 300, call: { tool: 'echo', args: { text: 'after' } } });
    for (const s of streams) {
      const frames = await s.until((f) => f.some((x) => x.id === 300));
      assert.equal((frames.find((x) => x.id === 300)?.response as { ok: boolean } | undefined)?.ok, true);
    }
    for (const s of streams) s.socket.destroy();
    for (const res of rig.held.splice(0)) res.destroy();
  });

  it('a line sent a byte per read (slowloris): the daemon holds about the bytes sent, not an object per read', async (t) => {
    if (process.platform !== 'linux') return t.skip('reads /proc/<pid>/status (Linux only)');
    const { home } = rig;
    const pid = rig.daemon.proc.pid!;
    const s = await RawStream.open(home, '/v1/agent/tools/stream', upgrade(token(home, 'agent')));
    await sleep(500);
    const base = rssMiB(pid);
    s.socket.write('{"id":1,"call":{"tool":"echo","args":{"text":"');
    const N = 800_000;
    for (let i = 0; i < N; i++) {
      s.socket.write('a');
      await new Promise((r) => setImmediate(r)); // most bytes reach the daemon in a read of their own
    }
    await sleep(1000);
    const grown = rssMiB(pid) - base;
    t.diagnostic(`daemon RSS grew ${grown.toFixed(0)} MiB holding a ${N}-byte partial line sent a byte at a time`);
    // Kept as one Buffer per read it was ~170–250 bytes per byte sent (130+ MiB here).
    assert.ok(grown < 48, `the daemon grew ${grown.toFixed(0)} MiB for ${N} bytes`);
    s.send('"}}}');
    const frames = await s.until((f) => f.length >= 1);
    assert.equal(frames[0]?.id, 1, 'the line, once ended, is one call (echo refuses text over 100,000 characters)');
    s.socket.destroy();
  });
});
