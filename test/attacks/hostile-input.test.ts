import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ROOT,
  cli,
  cliAsync,
  daemonRequest,
  remoteState,
  sleep,
  startDaemon,
  stdioClient,
  tempHome,
  token,
  type DaemonProcess,
} from '../helpers.ts';
import { nested, nestedValue, rawStdioGateway, type RawGateway } from './lib/raw-gateway.ts';
import { errorCode, lastSeq, receiptOf, toolCallsSince } from './lib/receipts.ts';

const HOSTILE_SCHEMAS = join(ROOT, 'test/attacks/lib/hostile-schema-server.ts');
/** Far beyond any wall clock on V8's backtracking engine (2^64 steps); linear on RE2. */
const EVIL_INPUT = `${'a'.repeat(64)}!`;
const NO_HANG = { timeout: 120_000 };

/**
 * Issue 8, class 8: resource exhaustion and hostile input from the agent (through the real
 * gateway) and from a remote MCP server. Each becomes a clear error with exactly one receipt
 * where it is a tool call, and the daemon and the gateway keep serving.
 */
describe('hostile input (issue 8 class 8)', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;
  let agent: Client;

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home);
    const added = await cliAsync(home, [
      'remote',
      'add',
      'hostile',
      '--stdio',
      '--',
      process.execPath,
      HOSTILE_SCHEMAS,
    ]);
    assert.equal(added.code, 0, added.stderr);
    for (let i = 0; (await remoteState(home, 'hostile'))?.status !== 'connected'; i++) {
      assert.ok(i < 200, 'the hostile server never connected');
      await sleep(100);
    }
    await cliAsync(home, ['remote', 'pin', 'hostile']);
    agent = await stdioClient(home, ['--approval-wait', '0']);
  });
  after(async () => {
    await agent?.close();
    await daemon?.stop();
    cleanup();
  });

  const echoStillWorks = async () => {
    const r = await agent.callTool({ name: 'echo', arguments: { text: 'still serving' } }, undefined, NO_HANG);
    assert.deepEqual(r.content, [{ type: 'text', text: 'still serving' }]);
  };

  it('ReDoS: a catastrophic `pattern` from a remote server is matched in linear time; invalid_args, one receipt', async () => {
    const since = lastSeq(home);
    const started = Date.now();
    const [evil, keys, echo] = await Promise.all([
      agent.callTool({ name: 'hostile.lookup', arguments: { q: EVIL_INPUT } }, undefined, NO_HANG),
      agent.callTool({ name: 'hostile.keys', arguments: { [EVIL_INPUT]: 'x' } }, undefined, NO_HANG),
      agent.callTool({ name: 'echo', arguments: { text: 'meanwhile' } }, undefined, NO_HANG),
    ]);
    assert.equal(errorCode(evil), 'invalid_args', JSON.stringify(evil));
    assert.match(JSON.stringify(evil.content), /argument q must match pattern/);
    assert.equal(errorCode(keys), 'invalid_args', JSON.stringify(keys));
    assert.deepEqual(echo.content, [{ type: 'text', text: 'meanwhile' }]);
    // Not a timing promise: the old engine needed ~2^64 steps here; this only reports the figure.
    process.stderr.write(`# ReDoS calls answered in ${Date.now() - started} ms\n`);

    const ok = await agent.callTool({ name: 'hostile.lookup', arguments: { q: 'aaaa' } }, undefined, NO_HANG);
    assert.deepEqual(ok.content, [{ type: 'text', text: 'ran lookup' }]);
    const receipts = toolCallsSince(home, since);
    for (const r of [evil, keys]) {
      const mine = receipts.filter((x) => `r${x.seq}` === receiptOf(r)?.split('-')[0]);
      assert.equal(mine.length, 1);
      assert.equal(mine[0]!.body.outcome, 'invalid_args');
    }
    assert.equal(receipts.length, 4, 'one receipt per call');
  });

  it('a remote pattern RE2 cannot run (lookahead) skips that tool with a warning naming the pattern', async () => {
    const { tools } = await agent.listTools();
    const names = tools.map((t) => t.name);
    assert.ok(names.includes('hostile.lookup'));
    assert.ok(!names.includes('hostile.ahead'), 'the tool whose pattern cannot run in linear time is not offered');
    assert.match(daemon.output(), /remote tool skipped[^\n]*\^\(\?=x\)x\+\$[^\n]*lookahead/);
    const r = await agent.callTool({ name: 'hostile.ahead', arguments: { q: 'x' } });
    assert.equal(errorCode(r), 'unknown_tool');
  });

  it('a remote definition with a lone surrogate (no canonical form, no hash) is not offered; the server and `remote list` keep working', async () => {
    const names = (await agent.listTools()).tools.map((t) => t.name);
    assert.ok(!names.includes('hostile.broken'), 'a definition that cannot be hashed cannot be pinned or offered');
    assert.ok(names.includes('hostile.lookup'), 'the rest of the server is unaffected');
    assert.match(daemon.output(), /remote tool skipped: its definition has no canonical form/);
    const list = await cliAsync(home, ['remote', 'list', '--json']);
    assert.equal(list.code, 0, `remote list answers: ${list.stderr}`);
    const servers = (JSON.parse(list.stdout) as { servers: { name: string; status: string }[] }).servers;
    assert.equal(servers.find((s) => s.name === 'hostile')?.status, 'connected');
  });

  it('a lone surrogate in the arguments or the tool name: a receipted invalid_args/unknown_tool, 20 at once, the daemon keeps serving', async () => {
    const since = lastSeq(home);
    const calls = Array.from({ length: 20 }, (_, i) =>
      i % 4 === 3
        ? agent.callTool({ name: `ec\ud800ho`, arguments: {} })
        : agent.callTool({
            name: 'echo',
            arguments: i % 2 ? { text: `x\udfff${i}` } : { text: 'ok', [`k\ud83d${i}`]: 1 },
          }),
    );
    const results = await Promise.all(calls);
    for (const [i, r] of results.entries()) {
      assert.equal(errorCode(r), i % 4 === 3 ? 'unknown_tool' : 'invalid_args', JSON.stringify(r));
      assert.ok(receiptOf(r), 'every refusal has its receipt');
    }
    assert.match(JSON.stringify(results[1]!.content), /argument text contains a lone surrogate/);
    assert.match(JSON.stringify(results[0]!.content), /argument k\uFFFD0 has a name that is not well-formed/);
    const receipts = toolCallsSince(home, since);
    assert.equal(receipts.length, 20, 'exactly one receipt per call');
    assert.equal(new Set(results.map(receiptOf)).size, 20);
    for (const r of receipts) assert.ok(!('args' in r.body), 'no unrepresentable argument reaches a receipt');
    await echoStillWorks();
  });

  it('a number JSON reads as Infinity (1e400) sent straight to the daemon API: a receipted invalid_args, not a 500', async () => {
    const since = lastSeq(home);
    const r = await daemonRequest(
      home,
      'POST',
      '/v1/agent/tools/call',
      token(home, 'agent'),
      '{"tool":"echo","args":{"text":"x","n":1e400}}',
    );
    assert.equal(r.status, 200, r.body);
    const body = JSON.parse(r.body) as { ok: boolean; receipt_id: string; error: { code: string; message: string } };
    assert.equal(body.error.code, 'invalid_args');
    assert.match(body.error.message, /argument n is not a finite number/);
    assert.equal(toolCallsSince(home, since).length, 1);
  });

  it('arguments nested deeper than 64 levels: a receipted invalid_args naming the argument (SDK client, stdio)', async () => {
    const since = lastSeq(home);
    const r = await agent.callTool(
      { name: 'hostile.anything', arguments: { text: nestedValue(900) } },
      undefined,
      NO_HANG,
    );
    assert.equal(errorCode(r), 'invalid_args', JSON.stringify(r).slice(0, 500));
    assert.match(JSON.stringify(r.content), /argument text(\[0\])+ nests deeper than 64 levels/);
    assert.equal(toolCallsSince(home, since).length, 1);
    const shallow = await agent.callTool({ name: 'hostile.anything', arguments: { text: nestedValue(60) } });
    assert.deepEqual(shallow.content, [{ type: 'text', text: 'ran anything' }]);
    await echoStillWorks();
  });

  describe('raw JSON-RPC over stdio', () => {
    let raw: RawGateway;
    before(async () => {
      raw = await rawStdioGateway(home);
    });
    after(async () => {
      await raw?.close();
    });

    it('a message nested deeper than the framing limit is answered -32600 with its id; nothing crashes', async () => {
      for (const [i, depth] of [5_000, 200_000, 1_000_000].entries()) {
        raw.send(
          `{"jsonrpc":"2.0","id":${i + 10},"method":"tools/call","params":{"name":"echo","arguments":{"text":${nested(depth)}}}}`,
        );
        const reply = await raw.reply(i + 10);
        assert.deepEqual((reply.error as { code: number }).code, -32600, JSON.stringify(reply));
        assert.match((reply.error as { message: string }).message, /nests deeper than 1000 levels/);
      }
      // A deep notification is refused the same way (id null), and the gateway still answers.
      raw.send(`{"jsonrpc":"2.0","method":"notifications/x","params":${nested(50_000)}}`);
      assert.equal(((await raw.reply(null)).error as { code: number }).code, -32600);
      raw.send({ jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'echo', arguments: { text: 'up' } } });
      const up = await raw.reply(99);
      assert.deepEqual((up.result as { content: unknown }).content, [{ type: 'text', text: 'up' }]);
    });

    it('a number JSON reads as Infinity (1e400) through the gateway is refused, not run as null', async () => {
      const since = lastSeq(home);
      // A tool whose schema takes anything: before, it ran with {"n":[null]}.
      raw.send(
        '{"jsonrpc":"2.0","id":77,"method":"tools/call","params":{"name":"hostile.anything","arguments":{"n":[1e400]}}}',
      );
      const reply = await raw.reply(77);
      const result = reply.result as { isError?: boolean; content: { text: string }[]; _meta: Record<string, unknown> };
      assert.equal(result.isError, true, JSON.stringify(reply));
      assert.deepEqual(result._meta['dev.briefcase/error'], { code: 'invalid_args' });
      assert.match(result.content[0]!.text, /argument n\[0\] is a number too large for JSON/);
      assert.equal(toolCallsSince(home, since).length, 0, 'the call never reached the daemon as {"n":[null]}');
    });

    it('id null, and ids that are objects, fractions or booleans, get -32600 with id null (JSON-RPC 2.0 §5, MCP)', async () => {
      for (const id of [null, { a: 1 }, 1.5, true, ['x']]) {
        raw.send({ jsonrpc: '2.0', id, method: 'tools/list' });
        const reply = await raw.reply(null);
        assert.equal((reply.error as { code: number }).code, -32600, JSON.stringify(id));
        assert.match((reply.error as { message: string }).message, /"id" must be a string or an integer/);
      }
      raw.send({ jsonrpc: '2.0', id: 'after', method: 'tools/list' });
      assert.ok((await raw.reply('after')).result);
    });
  });
});
