import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, cli, freePort, startDaemon, stdioClient, tempHome, token, type DaemonProcess } from './helpers.ts';

/** AC-1.1: a real MCP client (official SDK) reaches the Briefcase over stdio and Streamable HTTP. */
describe('MCP client → briefcase mcp → briefcased (AC-1.1)', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;

  before(async () => {
    const demoPort = await freePort();
    assert.equal(cli(home, ['init', '--demo', '--demo-port', String(demoPort)]).code, 0);
    daemon = await startDaemon(home);
  });
  after(async () => {
    await daemon?.stop();
    cleanup();
  });

  const exercise = async (client: Client) => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    assert.deepEqual(names, ['demo.weather', 'echo', 'notes.add', 'notes.search']);
    const echo = tools.find((t) => t.name === 'echo')!;
    assert.equal(echo.inputSchema.type, 'object');

    const r = await client.callTool({ name: 'echo', arguments: { text: 'hello briefcase' } });
    assert.equal(r.isError, undefined);
    assert.deepEqual(r.content, [{ type: 'text', text: 'hello briefcase' }]);
    assert.match(String((r._meta as Record<string, unknown>)['dev.briefcase/receipt']), /^r\d+-[0-9a-f]{12}$/);

    const w = await client.callTool({ name: 'demo.weather', arguments: { city: 'Lisbon' } });
    assert.equal(w.isError, undefined, JSON.stringify(w));
    const body = JSON.parse((w.content as { text: string }[])[0]!.text) as { city: string; source: string };
    assert.equal(body.city, 'Lisbon');
    assert.equal(body.source, 'briefcase demo API');

    const unknown = await client.callTool({ name: 'no.such.tool', arguments: {} });
    assert.equal(unknown.isError, true);
    assert.equal((unknown._meta as Record<string, { code: string }>)['dev.briefcase/error']!.code, 'unknown_tool');
  };

  it('over stdio', async () => {
    const client = await stdioClient(home);
    try {
      await exercise(client);
    } finally {
      await client.close();
    }
  });

  it('over Streamable HTTP with the gateway bearer token', async () => {
    const port = await freePort();
    const gw: ChildProcess = spawn(process.execPath, [BIN, 'mcp', '--http', `127.0.0.1:${port}`], {
      env: { ...process.env, BRIEFCASE_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await new Promise<void>((res, rej) => {
        gw.stdout?.on('data', (c: Buffer) => c.toString().includes('/mcp') && res());
        gw.once('exit', (code) => rej(new Error(`gateway exited ${code}`)));
      });
      const url = new URL(`http://127.0.0.1:${port}/mcp`);
      const unauthorised = await fetch(url, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(unauthorised.status, 401);
      const client = new Client({ name: 'http-agent', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(url, {
          requestInit: { headers: { authorization: `Bearer ${token(home, 'gateway-http')}` } },
        }),
      );
      try {
        await exercise(client);
      } finally {
        await client.close();
      }
    } finally {
      gw.kill('SIGTERM');
    }
  });
});
