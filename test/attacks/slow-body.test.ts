import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rssMiB } from '../../bench/proc.ts';
import { cli, sleep, startDaemon, tempHome, token, type DaemonProcess } from '../helpers.ts';

/**
 * The HTTP twin of call-stream-memory's slowloris: a holder of the agent token sends a call's
 * body a byte per read. The daemon must hold about the bytes sent, not a Buffer object per read
 * (apps/briefcased/src/api/byte-buffer.ts; kept as chunks it was ~170–250 bytes per byte).
 */
describe('attack (agent): an HTTP request body sent a byte at a time', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;
  before(async () => {
    assert.equal(cli(home, ['init', '--master-key', 'file']).code, 0);
    daemon = await startDaemon(home);
  });
  after(async () => {
    await daemon?.stop();
    cleanup();
  });

  it('the daemon holds about the bytes sent, and the call, once complete, is answered', async (t) => {
    if (process.platform !== 'linux') return t.skip('reads /proc/<pid>/status (Linux only)');
    const pid = daemon.proc.pid!;
    const socket = connect(join(home, 'daemon.sock'));
    await new Promise((r) => socket.once('connect', r));
    socket.setNoDelay(true);
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString('utf8')));
    const N = 800_000;
    const head = '{"tool":"echo","args":{"text":"';
    const tail = '"}}';
    await sleep(500);
    const base = rssMiB(pid);
    socket.write(
      `POST /v1/agent/tools/call HTTP/1.1\r\nhost: daemon\r\nauthorization: Bearer ${token(home, 'agent')}\r\n` +
        `content-type: application/json\r\ncontent-length: ${head.length + N + tail.length}\r\n\r\n${head}`,
    );
    for (let i = 0; i < N; i++) {
      socket.write('a');
      await new Promise((r) => setImmediate(r)); // most bytes reach the daemon in a read of their own
    }
    await sleep(1000);
    const grown = rssMiB(pid) - base;
    t.diagnostic(`daemon RSS grew ${grown.toFixed(0)} MiB holding a ${N}-byte partial body sent a byte at a time`);
    assert.ok(grown < 48, `the daemon grew ${grown.toFixed(0)} MiB for ${N} bytes`);
    socket.write(tail);
    const deadline = Date.now() + 30_000;
    while (!answer.includes('\r\n\r\n') && Date.now() < deadline) await sleep(50);
    assert.match(
      answer,
      /^HTTP\/1\.1 200/,
      'the complete body is one call (echo refuses text that long: a tool error)',
    );
    socket.destroy();
  });
});
