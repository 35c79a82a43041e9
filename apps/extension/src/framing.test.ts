import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameReader, MAX_INCOMING, MAX_OUTGOING, encodeFrame } from './framing.ts';

const frame = (body: Buffer | string) => {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const h = Buffer.alloc(4);
  h.writeUInt32LE(b.length, 0);
  return Buffer.concat([h, b]);
};

describe('native messaging framing', () => {
  it('writes a 4-byte little-endian length, then UTF-8 JSON', () => {
    const out = encodeFrame({ type: 'session', note: 'é' });
    const body = '{"type":"session","note":"é"}';
    assert.equal(out.readUInt32LE(0), Buffer.byteLength(body));
    assert.equal(out.subarray(4).toString('utf8'), body);
  });

  it('refuses to write a message over Chromium’s 1 MB limit', () => {
    assert.throws(() => encodeFrame({ x: 'a'.repeat(MAX_OUTGOING) }), { code: 'too_large' });
  });

  it('reads messages split across chunks at any byte, and several in one chunk', () => {
    const bytes = Buffer.concat([frame('{"a":1}'), frame('{"b":"ü"}'), frame('[]')]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const reader = new FrameReader();
      const events = [...reader.push(bytes.subarray(0, cut)), ...reader.push(bytes.subarray(cut)), ...reader.end()];
      assert.deepEqual(events, [
        { kind: 'message', value: { a: 1 } },
        { kind: 'message', value: { b: 'ü' } },
        { kind: 'message', value: [] },
      ]);
    }
  });

  it('refuses a length over the limit as soon as the header arrives, and then reads nothing more', () => {
    const reader = new FrameReader();
    const h = Buffer.alloc(4);
    h.writeUInt32LE(MAX_INCOMING + 1, 0);
    const events = reader.push(h);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.kind === 'error' && events[0]!.error.code, 'too_large');
    assert.deepEqual(reader.push(frame('{}')), []);
    assert.deepEqual(reader.end(), []);
  });

  it('refuses a body that is not UTF-8 JSON', () => {
    for (const body of [Buffer.from('{nope'), Buffer.from([0x7b, 0xff, 0x7d])]) {
      const events = new FrameReader().push(frame(body));
      assert.equal(events[0]!.kind === 'error' && events[0]!.error.code, 'bad_json');
    }
  });

  it('reports input that ends inside a message', () => {
    const reader = new FrameReader();
    assert.deepEqual(reader.push(frame('{"a":1}').subarray(0, 6)), []);
    const events = reader.end();
    assert.equal(events[0]!.kind === 'error' && events[0]!.error.code, 'truncated');
  });
});
