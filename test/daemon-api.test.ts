import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BIN,
  cli,
  cliJson,
  daemonRequest,
  receiptRecords,
  startDaemon,
  stdioClient,
  tempHome,
  token,
  type DaemonProcess,
} from './helpers.ts';

describe('the daemon API', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;
  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home);
  });
  after(async () => {
    await daemon?.stop();
    cleanup();
  });

  it('refuses the agent token on every admin endpoint (403)', async () => {
    const agent = token(home, 'agent');
    const admin = token(home, 'admin');
    const endpoints: [string, string, string?][] = [
      ['GET', '/v1/admin/status'],
      ['GET', '/v1/admin/tools'],
      ['POST', '/v1/admin/tools/call', '{"tool":"echo","args":{"text":"x"}}'],
      ['GET', '/v1/admin/approvals'],
      ['GET', '/v1/admin/approvals/apr_x'],
      ['POST', '/v1/admin/approvals/apr_x/approve', '{}'],
      ['POST', '/v1/admin/approvals/apr_x/reject', '{}'],
      ['GET', '/v1/admin/policy'],
      ['PUT', '/v1/admin/policy', '{"text":"permit(principal, action, resource);"}'],
      ['POST', '/v1/admin/policy/check', '{"text":""}'],
      ['GET', '/v1/admin/secrets'],
      ['PUT', '/v1/admin/secrets/stolen', '{"value":"x"}'],
      ['DELETE', '/v1/admin/secrets/stolen'],
      ['GET', '/v1/admin/receipts/export'],
      ['POST', '/v1/admin/receipts/checkpoint', '{}'],
      ['GET', '/v1/admin/receipts/public-key'],
    ];
    for (const [method, path, body] of endpoints) {
      const r = await daemonRequest(home, method, path, agent, body);
      assert.equal(r.status, 403, `${method} ${path} gave ${r.status}`);
      assert.equal(JSON.parse(r.body).error.code, 'forbidden');
    }
    // The same endpoints do exist for the admin, and nothing else gets in.
    const status = await daemonRequest(home, 'GET', '/v1/admin/status', admin);
    assert.equal(status.status, 200);
    // Issue 13: the benchmark reads the daemon's own memory and CPU time here.
    const { rss, cpu_us } = JSON.parse(status.body) as { rss: unknown; cpu_us: { user: unknown; system: unknown } };
    assert.ok(typeof rss === 'number' && rss > 10 * 1024 * 1024, `rss ${String(rss)}`);
    assert.ok(typeof cpu_us.user === 'number' && cpu_us.user > 0 && typeof cpu_us.system === 'number');
    assert.equal((await daemonRequest(home, 'GET', '/v1/admin/status', 'bc_admin_wrong')).status, 401);
    assert.equal((await daemonRequest(home, 'GET', '/v1/agent/tools', '')).status, 401);
    // The policy was not replaced by the agent's attempt.
    assert.match(cli(home, ['policy', 'show']).stdout, /write-tools-need-approval/);
  });

  it('answers bad input with a clear error and keeps running', async () => {
    const agent = token(home, 'agent');
    const call = (body: string) => daemonRequest(home, 'POST', '/v1/agent/tools/call', agent, body);
    const notJson = await call('{"tool": "echo", ');
    assert.equal(notJson.status, 400);
    assert.match(JSON.parse(notJson.body).error.message, /not valid JSON/);
    const wrongShape = await call('{"tool": 42, "args": {}}');
    assert.equal(wrongShape.status, 400);
    assert.match(JSON.parse(wrongShape.body).error.message, /^tool:/);
    const extra = await call('{"tool": "echo", "args": {}, "approve": true}');
    assert.equal(extra.status, 400);
    const huge = await call(JSON.stringify({ tool: 'echo', args: { text: 'x'.repeat(2 * 1024 * 1024) } }));
    assert.equal(huge.status, 413);
    assert.equal(JSON.parse(huge.body).error.code, 'payload_too_large');
    const wrongType = JSON.parse((await call('{"tool":"echo","args":{"text":5}}')).body);
    assert.equal(wrongType.error.code, 'invalid_args');
    assert.match(wrongType.error.message, /argument text must be string/);
    const noCoercion = JSON.parse((await call('{"tool":"notes.search","args":{"query":"a","limit":"5"}}')).body);
    assert.equal(noCoercion.error.code, 'invalid_args');
    const unknown = JSON.parse((await call('{"tool":"rm -rf /","args":{}}')).body);
    assert.equal(unknown.error.code, 'unknown_tool');
    assert.ok(unknown.receipt_id);
    assert.equal((await daemonRequest(home, 'GET', '/v1/nope', agent)).status, 404);
    // Still serving, and the log still verifies.
    const ok = JSON.parse((await call('{"tool":"echo","args":{"text":"still here"}}')).body);
    assert.equal(ok.ok, true);
    assert.equal(cliJson(home, ['receipts', 'verify']).json.ok, true);
  });

  it('every outcome appends exactly one tool_call receipt (AC-1.3)', async () => {
    // A policy that denies one particular echo, applied through the CLI (validated, receipted).
    const policyFile = join(home, '..', 'deny-echo.cedar');
    writeFileSync(
      policyFile,
      `${cli(home, ['policy', 'show']).stdout}\n@id("no-deny-me")\nforbid (principal, action, resource == Briefcase::Tool::"echo")\nwhen { context.args has text && context.args.text == "deny-me" };\n`,
    );
    assert.equal(cli(home, ['policy', 'apply', policyFile]).code, 0);
    const before = cliJson<{ count: number }>(home, ['receipts', 'verify']).json.count;
    const agent = token(home, 'agent');
    const calls = [
      { tool: 'echo', args: { text: 'deny-me' } }, // denied
      { tool: 'echo', args: { text: 'a' } }, // ok
      { tool: 'missing', args: {} }, // unknown_tool
      { tool: 'echo', args: {} }, // invalid_args
      { tool: 'notes.add', args: { text: 'needs approval' } }, // approval_required (+1 approval receipt)
    ];
    for (const c of calls) await daemonRequest(home, 'POST', '/v1/agent/tools/call', agent, JSON.stringify(c));
    const after = cliJson<{ count: number }>(home, ['receipts', 'verify']).json.count;
    assert.equal(after - before, calls.length + 1);
    const records = receiptRecords(home);
    const denied = records.find((r) => r.kind === 'tool_call' && r.body.outcome === 'denied');
    assert.deepEqual((denied?.body.policy as { policies: string[] }).policies, ['no-deny-me']);
    const applied = records.find((r) => r.kind === 'policy');
    assert.match(String(applied?.body.old_sha256), /^[0-9a-f]{64}$/);
    assert.notEqual(applied?.body.old_sha256, applied?.body.new_sha256);
  });

  it('the stdio gateway answers malformed and oversized JSON-RPC with errors and keeps serving', async () => {
    const gw = spawn(process.execPath, [BIN, 'mcp'], {
      env: { ...process.env, BRIEFCASE_HOME: home },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const lines: Record<string, unknown>[] = [];
    let buf = '';
    gw.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        lines.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
    });
    const send = (s: string) => gw.stdin.write(`${s}\n`);
    const waitFor = async (n: number) => {
      for (let i = 0; i < 200 && lines.length < n; i++) await new Promise((r) => setTimeout(r, 25));
      assert.ok(lines.length >= n, `expected ${n} replies, got ${JSON.stringify(lines)}`);
    };
    send('{this is not json');
    send('[1,2,3]');
    send(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'x', params: { pad: 'x'.repeat(5 * 1024 * 1024) } }));
    send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    );
    await waitFor(4);
    assert.equal((lines[0]!.error as { code: number }).code, -32700);
    assert.equal((lines[1]!.error as { code: number }).code, -32600);
    assert.match((lines[2]!.error as { message: string }).message, /larger than/);
    assert.equal(lines[3]!.id, 1);
    send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'ok' } },
      }),
    );
    await waitFor(5);
    assert.deepEqual((lines[4]!.result as { content: unknown }).content, [{ type: 'text', text: 'ok' }]);
    gw.kill();
  });

  it('an SDK client gets invalid_args for wrong types, as a tool error', async () => {
    const client = await stdioClient(home);
    try {
      const r = await client.callTool({ name: 'echo', arguments: { text: ['not', 'a', 'string'] } });
      assert.equal(r.isError, true);
      assert.equal((r._meta as Record<string, { code: string }>)['dev.briefcase/error']!.code, 'invalid_args');
    } finally {
      await client.close();
    }
  });
});
