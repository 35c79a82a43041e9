import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, freePort, healthy, sleep, startDaemon, tempHome, token, type DaemonProcess } from '../helpers.ts';
import { RawStream, upgrade } from '../lib/call-stream-raw.ts';
import { streamRig, type StreamRig } from './lib/call-stream.ts';

/**
 * A request target `new URL` cannot parse (`http://[`), sent to the daemon socket with no token,
 * as a call-stream upgrade or a plain request: before, the throw ended the daemon (exit 1) — a
 * one-line denial of service by any peer that reaches a daemon socket. Now it is a 4xx and the
 * daemon keeps serving (docs/security.md, "The call stream").
 */
describe('attack: a request target the URL parser refuses, on the daemon socket', () => {
  let rig: StreamRig;
  before(async () => {
    rig = await streamRig();
  });
  after(() => rig?.close());

  const send = (request: string) =>
    new Promise<string>((resolve) => {
      const s = connect(join(rig.home, 'daemon.sock'));
      let got = '';
      s.on('data', (c: Buffer) => (got += c.toString('latin1')));
      s.on('error', () => resolve(got));
      s.on('close', () => resolve(got));
      s.write(request);
      // A plain request is kept alive: done once the answer is in.
      const check = setInterval(() => {
        if (/\r\n\r\n[\s\S]*\}$/.test(got)) {
          clearInterval(check);
          s.destroy();
        }
      }, 20);
      s.once('close', () => clearInterval(check));
    });

  for (const target of ['http://[', '//[::1', 'http://a:b/']) {
    for (const kind of ['upgrade', 'plain'] as const) {
      it(`${kind} request to ${target}: a 4xx, the daemon keeps serving`, async () => {
        const headers =
          kind === 'upgrade' ? 'connection: Upgrade\r\nupgrade: briefcase-calls/1\r\n' : 'connection: keep-alive\r\n';
        const answer = await send(`GET ${target} HTTP/1.1\r\nhost: d\r\n${headers}\r\n`);
        await sleep(100);
        assert.equal(rig.daemon.proc.exitCode, null, `the daemon ended:\n${rig.daemon.output().slice(-800)}`);
        assert.match(answer, /^HTTP\/1\.1 4\d\d /, answer);
        assert.ok(await healthy(rig.home));
        const s = await RawStream.open(rig.home, '/v1/agent/tools/stream', upgrade(token(rig.home, 'agent')));
        s.send({ id: 1, call: { tool: 'echo', args: { text: 'still here' } } });
        const frames = await s.until((f) => f.length >= 1);
        assert.equal((frames[0]?.response as { ok: boolean } | undefined)?.ok, true);
        s.socket.destroy();
      });
    }
  }
});

describe('attack: the same target at the demo API the daemon serves (`init --demo`)', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;
  let port: number;
  before(async () => {
    port = await freePort();
    assert.equal(cli(home, ['init', '--master-key', 'file', '--demo', '--demo-port', String(port)]).code, 0);
    daemon = await startDaemon(home);
  });
  after(async () => {
    await daemon?.stop();
    cleanup();
  });

  it('`GET http://[` without the demo key: a 4xx, the daemon keeps serving', async () => {
    const answer = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (c: Buffer) => {
        got += c.toString('latin1');
        if (/\r\n\r\n[\s\S]*\}$/.test(got)) s.destroy();
      });
      s.on('error', () => resolve(got));
      s.on('close', () => resolve(got));
      s.write('GET http://[ HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
    });
    await sleep(100);
    assert.equal(daemon.proc.exitCode, null, `the daemon ended:\n${daemon.output().slice(-800)}`);
    assert.match(answer, /^HTTP\/1\.1 4\d\d /, answer);
    assert.ok(await healthy(home));
  });
});
