import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { daemonRequest, receiptRecords, sleep, token } from '../helpers.ts';
import { RawStream, upgrade } from '../lib/call-stream-raw.ts';
import { streamRig, type StreamRig } from './lib/call-stream.ts';

type Answer = { ok: boolean; result?: unknown; error?: { code: string; message: string }; receipt_id: string };
const text = (f: RawStream['frames'][number] | undefined) =>
  (f?.response as { result?: { content: Array<{ text: string }> } } | undefined)?.result?.content[0]?.text;

/**
 * Hostile framing on the call stream (docs/security.md, "The call stream"): a line is a line
 * however it is cut, a call means what the same body means over HTTP, and an id is an integer
 * the daemon answers under exactly as it was sent.
 */
describe('attack: hostile framing and ids on the call stream', () => {
  let rig: StreamRig;
  const open = () => RawStream.open(rig.home, '/v1/agent/tools/stream', upgrade(token(rig.home, 'agent')));
  before(async () => {
    rig = await streamRig();
  });
  after(() => rig?.close());

  it('frames cut at every byte, multi-byte characters split across reads: each call gets its exact text', async () => {
    const s = await open();
    const texts = ['é日本🔑', 'ä\u0000"\\\n\u2028x', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢'];
    const bytes = Buffer.from(
      texts.map((t, i) => `${JSON.stringify({ id: i, call: { tool: 'echo', args: { text: t } } })}\n`).join(''),
    );
    for (let i = 0; i < bytes.length; i++) {
      s.socket.write(bytes.subarray(i, i + 1));
      // A macrotask between bytes: the daemon reads them one (or a few) at a time.
      if (i % 2 === 0) await new Promise((r) => setImmediate(r));
    }
    const frames = await s.until((f) => f.length >= texts.length);
    for (const [i, t] of texts.entries()) {
      assert.equal(text(frames.find((f) => f.id === i)), t, `call ${i}`);
    }
    s.socket.destroy();
  });

  it('a call on the stream means what the same body means over HTTP: lone surrogates, invalid UTF-8, __proto__ keys', async () => {
    const { home } = rig;
    const bodies = [
      '{"tool":"echo","args":{"text":"\\ud800 lone"}}',
      '{"tool":"echo","args":{"text":"\\udfff\\ud800"}}',
      '{"tool":"echo","args":{"__proto__":{"text":"polluted"}}}',
      '{"tool":"echo","args":{"text":"x","__proto__":{"admin":true}}}',
      '{"tool":"__proto__","args":{}}',
      '{"tool":"echo","args":{"text":"ok"},"__proto__":{"tool":"cs.hold"}}',
    ];
    const raw = [
      Buffer.concat([
        Buffer.from('{"tool":"echo","args":{"text":"bad '),
        Buffer.from([0xff, 0xc3]),
        Buffer.from('"}}'),
      ]),
    ];
    const all = [...bodies.map((b) => Buffer.from(b)), ...raw];
    const s = await open();
    for (const [i, b] of all.entries()) {
      s.socket.write(Buffer.concat([Buffer.from(`{"id":${i},"call":`), b, Buffer.from('}\n')]));
    }
    const frames = await s.until((f) => f.length >= all.length);
    for (const [i, b] of all.entries()) {
      const http = await daemonRequest(home, 'POST', '/v1/agent/tools/call', token(home, 'agent'), b.toString('utf8'));
      const viaHttp = JSON.parse(http.body) as Answer | { error: { code: string; message: string } };
      const f = frames.find((x) => x.id === i);
      const strip = (a: unknown) => JSON.stringify(a).replace(/"receipt_id":"[^"]*"/, '');
      if ('error' in viaHttp && !('ok' in viaHttp)) {
        // Refused before the pipeline over HTTP: refused the same way, under this call's id.
        assert.equal(f?.error?.code, viaHttp.error.code, `body ${i}: ${JSON.stringify(f)}`);
        const where = (m: string | undefined) => m?.replace(/^(call\.|call:|body:)/, '');
        assert.equal(where(f?.error?.message), where(viaHttp.error.message), `body ${i}`);
      } else {
        assert.equal(strip(f?.response), strip(viaHttp), `body ${i}`);
      }
    }
    s.socket.destroy();
  });

  it('ids: -0, 1e2, 1.0 and 2^53 − 1 are answered as the integer they are; others end the stream with a reason', async () => {
    const s = await open();
    const ok: Array<[string, number]> = [
      ['-0', 0],
      ['1e2', 100],
      ['1.0', 1],
      ['9007199254740991', 2 ** 53 - 1],
    ];
    for (const [raw, id] of ok) s.send(`{"id":${raw},"call":{"tool":"echo","args":{"text":"${id}"}}}`);
    const frames = await s.until((f) => f.length >= ok.length);
    for (const [, id] of ok) assert.equal(text(frames.find((f) => f.id === id)), String(id), `id ${id}`);
    s.socket.destroy();
    const bad = [
      '9007199254740992',
      '1e400',
      `1${'0'.repeat(5000)}`,
      '"7"',
      'true',
      'null',
      '{}',
      '[1]',
      '0x10',
      'NaN',
      'Infinity',
    ];
    const before = receiptRecords(rig.home).filter((r) => r.kind === 'tool_call').length;
    for (const raw of bad) {
      const b = await open();
      b.send(`{"id":${raw},"call":{"tool":"echo","args":{"text":"x"}}}`);
      await b.until(() => false); // until the daemon closes it (bounded)
      assert.ok(b.socket.destroyed, `id ${raw.slice(0, 20)}: the stream was closed`);
      assert.equal(b.frames.length, 1, raw);
      assert.equal(b.frames[0]?.id, null, raw);
      assert.equal(b.frames[0]?.error?.code, 'bad_request', raw);
      assert.ok((b.frames[0]?.error?.message.length ?? 0) < 300, 'the reason does not echo a huge line');
    }
    // `{"__proto__":{"id":1}}` is an own key of the parsed frame, not its id.
    const p = await open();
    p.send('{"__proto__":{"id":1},"call":{"tool":"echo","args":{"text":"x"}}}');
    await p.until(() => false);
    assert.equal(p.frames[0]?.id, null);
    // A frame with an id whose call hides under `__proto__` is a frame without a call.
    const q = await open();
    q.send('{"id":3,"__proto__":{"call":{"tool":"echo","args":{"text":"x"}}}}');
    const qf = await q.until((f) => f.length >= 1);
    assert.equal(qf[0]?.id, 3);
    assert.equal(qf[0]?.error?.code, 'bad_request');
    q.socket.destroy();
    // None of these frames made a call.
    await sleep(200);
    assert.equal(receiptRecords(rig.home).filter((r) => r.kind === 'tool_call').length, before);
  });

  it('a client that half-closes with calls in flight: the stream ends, each call has its receipt, none runs on', async () => {
    const s = await open();
    const before = rig.calls();
    const heldBefore = rig.held.length;
    for (let i = 0; i < 3; i++) s.send({ id: i, call: { tool: 'cs.hold', args: { mode: 'hold' } } });
    await rig.until(() => rig.held.length - heldBefore >= 3, 'three held calls');
    const upstreams = rig.held.slice(heldBefore);
    const dropped = Promise.all(
      upstreams.map((r) => new Promise<void>((ok) => (r.destroyed ? ok() : r.once('close', () => ok())))),
    );
    s.socket.end();
    await s.closed;
    await dropped; // the calls were aborted at their upstream
    await rig.until(() => rig.calls() - before >= 3, 'their receipts');
    assert.equal(rig.calls() - before, 3);
  });
});
