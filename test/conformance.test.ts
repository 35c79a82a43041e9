import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, ROOT, cli, freePort, startDaemon, tempHome, token, type DaemonProcess } from './helpers.ts';

/**
 * The official MCP conformance suite against the gateway's Streamable HTTP endpoint (AC-8).
 *
 * The suite's CLI cannot send an Authorization header, and the gateway requires its bearer token.
 * An agent host would add the token; this small proxy plays that host: it adds the token and
 * forwards everything else — method, path, Host, Origin, body — untouched, so the gateway's own
 * Host/Origin checks are what the dns-rebinding scenario exercises.
 */
function tokenProxy(targetPort: number, bearer: string): Server {
  return createServer((req, res) => {
    const upstream = request(
      {
        host: '127.0.0.1',
        port: targetPort,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, authorization: `Bearer ${bearer}` },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
}

describe('MCP conformance suite against the gateway (AC-8)', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;
  let gateway: ChildProcess;
  let proxy: Server;
  let url = '';

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home);
    const gwPort = await freePort();
    gateway = spawn(process.execPath, [BIN, 'mcp', '--http', `127.0.0.1:${gwPort}`], {
      env: { ...process.env, BRIEFCASE_HOME: home },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await new Promise<void>((res) => gateway.stdout?.on('data', (c: Buffer) => c.toString().includes('/mcp') && res()));
    proxy = tokenProxy(gwPort, token(home, 'gateway-http'));
    const proxyPort = await freePort();
    await new Promise<void>((r) => proxy.listen(proxyPort, '127.0.0.1', r));
    url = `http://127.0.0.1:${proxyPort}/mcp`;
  });
  after(async () => {
    proxy?.closeAllConnections();
    proxy?.close();
    gateway?.kill('SIGTERM');
    await daemon?.stop();
    cleanup();
  });

  it('passes every scenario that applies to a gateway; the rest are listed with reasons', async () => {
    const out = mkdtempSync(join(tmpdir(), 'bc-conformance-'));
    const result = await new Promise<{ code: number | null; output: string }>((res) => {
      const p = spawn(
        process.execPath,
        [
          join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js'),
          'server',
          '--url',
          url,
          '--expected-failures',
          join(ROOT, 'test/conformance/expected-failures.yml'),
          '--output-dir',
          out,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
      );
      let output = '';
      p.stdout.on('data', (c) => (output += c));
      p.stderr.on('data', (c) => (output += c));
      p.once('exit', (code) => res({ code, output }));
    });
    assert.equal(result.code, 0, result.output.slice(-4000));
    // The scenarios the issue names must have run and passed, not merely be absent.
    const baseline = readFileSync(join(ROOT, 'test/conformance/expected-failures.yml'), 'utf8');
    for (const required of [
      'server-initialize',
      'ping',
      'tools-list',
      'logging-set-level',
      'dns-rebinding-protection',
    ]) {
      assert.ok(
        !new RegExp(`^\\s*-\\s*${required}\\s*(#.*)?$`, 'm').test(baseline),
        `${required} may not be an expected failure`,
      );
      assert.match(result.output, new RegExp(required), `${required} did not run`);
    }
  });
});
