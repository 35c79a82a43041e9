import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cli, receiptRecords, sleep, startDaemon, tempHome, type DaemonProcess } from '../helpers.ts';
import { rawStdioGateway, type RawGateway } from './lib/raw-gateway.ts';

/**
 * The hand-written stdio MCP session (apps/mcp-gateway/src/stdio-server.ts) played by a hostile
 * agent writing raw JSON-RPC: a batch, method names that are Object.prototype keys, a notification
 * method sent with an id, 1000 calls in one write, and a cancelled call held open for an approval.
 * Each message gets exactly one outcome and the gateway keeps serving (held on review).
 */
describe('attack (agent): hostile JSON-RPC on the stdio session', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;
  let raw: RawGateway;
  const seen: Record<string, unknown>[] = [];

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home);
    raw = await rawStdioGateway(home);
    let buffered = '';
    raw.proc.stdout.on('data', (c: Buffer) => {
      buffered += c.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const l of lines) if (l.trim()) seen.push(JSON.parse(l) as Record<string, unknown>);
    });
  });
  after(async () => {
    await raw?.close();
    await daemon?.stop();
    cleanup();
  });

  const code = (m: Record<string, unknown>) => (m.error as { code: number } | undefined)?.code;

  it('a batch, prototype-key methods and a notification method with an id each get one JSON-RPC error', async () => {
    raw.send('[{"jsonrpc":"2.0","id":"b1","method":"ping"},{"jsonrpc":"2.0","id":"b2","method":"ping"}]');
    assert.equal(code(await raw.reply(null)), -32600);
    for (const method of ['__proto__', 'constructor', 'hasOwnProperty', 'notifications/cancelled']) {
      raw.send({ jsonrpc: '2.0', id: `m-${method}`, method, params: { requestId: `m-${method}` } });
      assert.equal(code(await raw.reply(`m-${method}`)), -32601, method);
    }
    // Neither batch element was run on its own.
    await sleep(300);
    assert.ok(!seen.some((m) => m.id === 'b1' || m.id === 'b2'));
  });

  it('1000 calls in one write: each answered once with its own result, 1000 receipts', async () => {
    const before = receiptRecords(home).filter((r) => r.kind === 'tool_call').length;
    const lines = Array.from({ length: 1000 }, (_, i) =>
      JSON.stringify({
        jsonrpc: '2.0',
        id: i,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: `m${i}` } },
      }),
    );
    raw.proc.stdin.write(`${lines.join('\n')}\n`);
    const answers = await Promise.all(lines.map((_, i) => raw.reply(i, 300_000)));
    answers.forEach((a, i) =>
      assert.deepEqual((a.result as { content: unknown }).content, [{ type: 'text', text: `m${i}` }]),
    );
    await sleep(300);
    const answered = seen.filter((m) => typeof m.id === 'number' && m.id < 1000 && ('result' in m || 'error' in m));
    assert.equal(answered.length, 1000, 'each call answered exactly once');
    const calls = receiptRecords(home).filter((r) => r.kind === 'tool_call').length;
    assert.equal(calls - before, 1000);
  });

  it('a call cancelled while held for an approval is never answered; the session keeps serving', async () => {
    raw.send({
      jsonrpc: '2.0',
      id: 'held',
      method: 'tools/call',
      params: { name: 'notes.add', arguments: { text: 'x' }, _meta: { progressToken: 'held' } },
    });
    for (let i = 0; i < 300 && !seen.some((m) => m.method === 'notifications/progress'); i++) await sleep(100);
    raw.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'held', reason: 'agent' } });
    raw.send({ jsonrpc: '2.0', id: 'after', method: 'ping' });
    assert.deepEqual((await raw.reply('after')).result, {});
    await assert.rejects(raw.reply('held', 2_000), /no answer/);
  });
});
