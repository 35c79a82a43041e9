import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cli, token } from '../helpers.ts';
import { RawStream, upgrade } from '../lib/call-stream-raw.ts';
import { streamRig, type StreamRig } from './lib/call-stream.ts';

/**
 * The output firewall on every line of the call stream (docs/security.md, "The call stream"): the
 * answers of both roles, the daemon's own error messages that quote the agent's input, and the
 * frame's id, which the daemon writes outside the firewall, are no way to read or probe a secret.
 */
describe('attack: the call stream’s frames and error messages against the firewall', () => {
  let rig: StreamRig;
  before(async () => {
    rig = await streamRig();
  });
  after(() => rig?.close());

  const open = (role: 'agent' | 'admin') =>
    RawStream.open(rig.home, `/v1/${role}/tools/stream`, upgrade(token(rig.home, role)));

  it('errors that quote the agent’s line (bad JSON, unknown tool, bad arguments) never carry the key raw; a near miss comes back unchanged', async () => {
    const { key } = rig;
    const near = `${key.slice(0, -1)}${key.endsWith('0') ? '1' : '0'}`;
    for (const candidate of [key, near]) {
      const lines = [
        `{"id":1,"call":{"tool":"${candidate}","args":{}}}`,
        `{"id":2,"call":{"tool":"echo","args":{"${candidate}":1}}}`,
        `{"id":3,"call":{"tool":"echo","args":{"text":"${candidate}"}}}`,
        `{"id":4,"call":{"tool":"echo","args":{"text":1},"${candidate}":1}}`,
      ];
      const s = await open('agent');
      for (const l of lines) s.send(l);
      const frames = await s.until((f) => f.length >= lines.length);
      assert.equal(frames.length, lines.length);
      s.socket.destroy();
      // The stream's last word on a broken line quotes the line (JSON.parse's message).
      const b = await open('agent');
      b.send(`{"id":5,"call":${candidate}}`);
      await b.until(() => false);
      const text = JSON.stringify([...frames, ...b.frames]);
      assert.ok(!text.includes(key), `the key came back raw: ${text.slice(0, 500)}`);
      if (candidate === near) {
        // Only the exact key is redacted (firewall.test.ts's oracle promise holds on the stream).
        assert.ok(text.includes(near), 'a near miss is quoted as sent');
        assert.ok(!/redacted/i.test(text), text.slice(0, 500));
      } else {
        assert.match(text, /redacted/i, 'the exact key, quoted back, was redacted (the test is live)');
      }
    }
  });

  it('both roles’ answers are firewalled: an upstream reflecting its key reaches neither the agent nor the admin stream', async () => {
    for (const role of ['agent', 'admin'] as const) {
      const s = await open(role);
      s.send({ id: 1, call: { tool: 'cs.hold', args: { mode: 'echo' } } });
      const frames = await s.until((f) => f.length >= 1);
      const text = JSON.stringify(frames);
      assert.equal((frames[0]?.response as { ok: boolean } | undefined)?.ok, true, text);
      assert.ok(!text.includes(rig.key), `${role}: the reflected key reached the stream`);
      assert.ok(!text.includes(Buffer.from(rig.key).toString('base64')), role);
      assert.match(text, /redacted/i, `${role}: the upstream did reflect the key (the test is live)`);
      s.socket.destroy();
    }
  });

  it('a numeric secret equal to a frame id: the answers for that id and for another are the same but for the id', async () => {
    // An id is a safe integer (≤ 2^53 − 1, under 64 bits): a secret it could equal is weak, and
    // a weak secret is never value-scrubbed, so nothing about the frame depends on it.
    const pin = '4711';
    assert.equal(cli(rig.home, ['secrets', 'set', 'cs_pin'], `${pin}\n`).code, 0);
    const run = async (id: number) => {
      const s = await open('agent');
      s.send({ id, call: { tool: 'cs.hold', args: { mode: 'hold' } } });
      await rig.until(() => rig.held.length > 0, 'the held call');
      s.send({ id, call: { tool: 'echo', args: { text: String(id) } } }); // already in flight
      s.send({ id: id + 1, call: { tool: 'echo', args: { text: `${id}`, n: id } } }); // bad args, quoting
      s.send({ id: id + 2, call: { tool: 'echo', args: { text: `call ${id}` } } });
      await s.until((f) => f.length >= 3);
      rig.held.shift()?.end('{"ok":true}');
      const frames = await s.until((f) => f.length >= 4);
      s.socket.destroy();
      return JSON.stringify([...frames].sort((a, b) => Number(a.id) - Number(b.id) || (a.error ? -1 : 1))).replace(
        /"receipt_id":"[^"]*"/g,
        '',
      );
    };
    const withPin = await run(Number(pin));
    const other = await run(4811);
    assert.ok(withPin.includes(pin), 'the id and the quoted value came back as sent');
    assert.equal(
      withPin.replaceAll(pin, 'N').replaceAll('4712', 'N+1').replaceAll('4713', 'N+2'),
      other.replaceAll('4811', 'N').replaceAll('4812', 'N+1').replaceAll('4813', 'N+2'),
    );
  });
});
