import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { cli, startDaemon, stdioClient, tempHome, writeJson, type DaemonProcess } from '../helpers.ts';
import { errorCode, lastSeq, receiptOf, toolCallsSince } from './lib/receipts.ts';
import { recordingUpstream, type Upstream } from './lib/upstream.ts';

// Random (strong): a guessable secret is never given to a tool (docs/security.md).
const TOKEN = 'tok-Qx7vN2pLw9rT4kZ8mB3sYc6H';

const connector = (name: string, url: string, egress: string[], extra: Record<string, unknown> = {}) => ({
  kind: 'http',
  name,
  description: `attack fixture ${name}`,
  category: 'read',
  input_schema: {
    type: 'object',
    properties: { repo: { type: 'string' }, sub: { type: 'string' } },
    additionalProperties: false,
  },
  request: { method: 'GET', url, headers: { authorization: `Bearer {{secret:up_token}}` } },
  egress,
  ...extra,
});

/**
 * Issue 8, classes 8 and 9, and the review's gaps: a hostile agent shapes a connector's URL
 * through its arguments; a hostile upstream redirects or floods. The secret header only ever
 * goes to the path and host the tool is defined for.
 */
describe('HTTP connectors under hostile arguments and upstreams (issue 8)', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;
  let agent: Client;
  let up: Upstream;
  let other: Upstream;

  before(async () => {
    other = await recordingUpstream();
    up = await recordingUpstream((req, res) => {
      if (req.url === '/redirect') {
        res.writeHead(302, { location: `http://127.0.0.1:${other.port}/steal` });
        res.end();
      } else if (req.url === '/huge') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('x'.repeat(100_000));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ path: req.url }));
      }
    });
    assert.equal(cli(home, ['init']).code, 0);
    const at = `127.0.0.1:${up.port}`;
    const dir = join(home, 'connectors');
    writeJson(join(dir, 'issues.json'), connector('up.issues', `http://${at}/api/v1/repos/{repo}/issues`, [at]));
    writeJson(join(dir, 'query.json'), connector('up.search', `http://${at}/api/v1/search?q={repo}`, [at]));
    writeJson(
      join(dir, 'region.json'),
      connector('up.region', `http://{sub}.localhost:${up.port}/x`, [`*.localhost:${up.port}`]),
    );
    writeJson(join(dir, 'redirect.json'), connector('up.redirect', `http://${at}/redirect`, [at]));
    writeJson(join(dir, 'huge.json'), connector('up.huge', `http://${at}/huge`, [at], { max_response_bytes: 1000 }));
    daemon = await startDaemon(home);
    assert.equal(cli(home, ['secrets', 'set', 'up_token'], TOKEN).code, 0);
    agent = await stdioClient(home);
  });
  after(async () => {
    await agent?.close();
    await daemon?.stop();
    await up?.close();
    await other?.close();
    cleanup();
  });

  it('a ".." or "." path placeholder is refused (invalid_args, one receipt); the secret never leaves the tool\'s path', async () => {
    const since = lastSeq(home);
    up.seen.length = 0;
    const call = (repo: string) => agent.callTool({ name: 'up.issues', arguments: { repo } });
    const dots = await Promise.all(['..', '.'].map(call));
    for (const r of dots) assert.equal(errorCode(r), 'invalid_args', JSON.stringify(r));
    assert.match((dots[0]!.content as { text: string }[])[0]!.text, /argument repo may not be "\.\."/);
    // Encoded and look-alike dots, slashes, backslashes and userinfo stay one encoded segment.
    const tricks = ['%2e%2e', '.%2E', '../..', '..\\..', 'x@127.0.0.1:1', '...'];
    const sent = await Promise.all(tricks.map(call));
    for (const r of sent) assert.equal(errorCode(r), undefined, JSON.stringify(r));
    assert.equal(up.seen.length, tricks.length, 'the refused calls never reached the upstream');
    for (const s of up.seen) {
      assert.match(s.path, /^\/api\/v1\/repos\/[^/]+\/issues$/, s.path);
      assert.equal(s.authorization, `Bearer ${TOKEN}`);
    }
    const receipts = toolCallsSince(home, since);
    assert.equal(receipts.length, dots.length + tricks.length, 'one receipt per call');
    for (const r of dots) assert.equal(receipts.filter((x) => receiptOf(r)?.startsWith(`r${x.seq}-`)).length, 1);
  });

  it('a placeholder in the query may be "..": it is not a path segment', async () => {
    up.seen.length = 0;
    const r = await agent.callTool({ name: 'up.search', arguments: { repo: '..' } });
    assert.equal(errorCode(r), undefined, JSON.stringify(r));
    assert.deepEqual(
      up.seen.map((s) => s.path),
      ['/api/v1/search?q=..'],
    );
  });

  it('runtime egress: a host placeholder that leaves the allowlist is blocked (sandbox_violation, one receipt), one that breaks the URL is invalid_args', async () => {
    const since = lastSeq(home);
    up.seen.length = 0;
    const empty = await agent.callTool({ name: 'up.region', arguments: { sub: '' } });
    assert.equal(errorCode(empty), 'sandbox_violation', JSON.stringify(empty));
    for (const sub of ['evil.com#', 'a@evil.com', 'evil.com/x?', 'evil.com\\']) {
      const r = await agent.callTool({ name: 'up.region', arguments: { sub } });
      assert.equal(errorCode(r), 'invalid_args', `${sub}: ${JSON.stringify(r)}`);
    }
    assert.equal(up.seen.length, 0);
    assert.equal(other.seen.length, 0);
    assert.equal(toolCallsSince(home, since).length, 5);
  });

  it('an upstream redirect to another host is not followed: sandbox_violation naming it (issue 10), the other host never sees the request', async () => {
    const since = lastSeq(home);
    const r = await agent.callTool({ name: 'up.redirect', arguments: {} });
    assert.equal(errorCode(r), 'sandbox_violation', JSON.stringify(r));
    assert.equal(other.seen.length, 0, 'the redirect target got nothing, and so never the secret');
    const receipts = toolCallsSince(home, since);
    assert.equal(receipts.length, 1);
    assert.equal(receipts[0]!.body.outcome, 'sandbox_violation');
    assert.match(String(receipts[0]!.body.detail), new RegExp(`host 127\\.0\\.0\\.1 port ${other.port}`));
  });

  it('an oversized upstream response is cut off: upstream_error naming the limit, one receipt, the daemon keeps serving', async () => {
    const since = lastSeq(home);
    const r = await agent.callTool({ name: 'up.huge', arguments: {} });
    assert.equal(errorCode(r), 'upstream_error', JSON.stringify(r));
    assert.match(JSON.stringify(r.content), /larger than 1000 bytes/);
    assert.equal(toolCallsSince(home, since).length, 1);
    const echo = await agent.callTool({ name: 'echo', arguments: { text: 'ok' } });
    assert.deepEqual(echo.content, [{ type: 'text', text: 'ok' }]);
  });
});
