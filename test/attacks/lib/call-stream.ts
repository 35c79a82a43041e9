import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import {
  cli,
  freePort,
  receiptRecords,
  sleep,
  startDaemon,
  tempHome,
  writeJson,
  type DaemonProcess,
} from '../../helpers.ts';

/**
 * A data directory and daemon for the call-stream attacks (test/attacks/call-stream-*.test.ts):
 * one connector, `cs.hold`, whose upstream holds every request until the test releases it (or
 * reflects the connector's key with `mode: "echo"`), so calls can be kept in flight at will.
 */
export interface StreamRig {
  home: string;
  /** The strong secret the connector sends upstream (vault name `cs_key`). */
  key: string;
  daemon: DaemonProcess;
  /** Upstream requests being held, in arrival order. */
  held: ServerResponse[];
  /** tool_call receipts so far. */
  calls: () => number;
  /** Wait until `cond()` holds, polling (generous bound: machine speed must not matter). */
  until: (cond: () => boolean, what: string, ms?: number) => Promise<void>;
  restart: () => Promise<void>;
  close: () => Promise<void>;
}

export async function streamRig(extraArgs: string[] = []): Promise<StreamRig> {
  const { home, cleanup } = tempHome();
  const held: ServerResponse[] = [];
  const port = await freePort();
  const upstream: Server = createServer((req, res) => {
    const mode = new URL(req.url ?? '/', 'http://x').searchParams.get('mode');
    if (mode === 'hold') return void held.push(res);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ key: String(req.headers['x-api-key'] ?? '') }));
  });
  await new Promise<void>((r) => upstream.listen(port, '127.0.0.1', r));
  assert.equal(cli(home, ['init', '--master-key', 'file']).code, 0);
  writeJson(join(home, 'connectors', 'hold.json'), {
    kind: 'http',
    name: 'cs.hold',
    description: 'An upstream that holds its answer until released, or reflects its key (test double)',
    category: 'read',
    input_schema: {
      type: 'object',
      properties: { mode: { type: 'string', enum: ['echo', 'hold'] }, pad: { type: 'string' } },
      required: ['mode'],
      additionalProperties: false,
    },
    request: {
      method: 'GET',
      url: `http://127.0.0.1:${port}/r?mode={mode}`,
      headers: { 'X-Api-Key': '{{secret:cs_key}}' },
    },
    egress: [`127.0.0.1:${port}`],
  });
  const daemon = await startDaemon(home, extraArgs);
  const key = `cs-key-${randomBytes(16).toString('hex')}`;
  assert.equal(cli(home, ['secrets', 'set', 'cs_key'], `${key}\n`).code, 0);
  const rig: StreamRig = {
    home,
    key,
    daemon,
    held,
    calls: () => receiptRecords(home).filter((r) => r.kind === 'tool_call').length,
    async until(cond, what, ms = 20_000) {
      const deadline = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
        await sleep(25);
      }
    },
    async restart() {
      rig.daemon = await startDaemon(home, extraArgs);
    },
    async close() {
      for (const res of held.splice(0)) res.destroy();
      await rig.daemon.stop();
      upstream.closeAllConnections();
      upstream.close();
      cleanup();
    },
  };
  return rig;
}
