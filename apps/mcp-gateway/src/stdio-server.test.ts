import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { Logger } from '@briefcase/telemetry';
import type { CatalogHandlers } from './catalog.ts';
import type { CallContext, GatewayHandlers } from './handlers.ts';
import { PROTOCOL_VERSIONS, StdioMcpSession } from './stdio-server.ts';

/**
 * The MCP rules of the stdio session itself. The handlers here stand in for gatewayHandlers over
 * a running daemon, which test/e2e-mcp.test.ts, test/e2e-approvals.test.ts and
 * test/attacks/remote-logs.test.ts drive through the real `briefcase mcp` with the SDK's client.
 */
function session(callTool: GatewayHandlers['callTool']) {
  const sent: Record<string, any>[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any -- reading answers in assertions
  const handlers: GatewayHandlers = { listTools: async () => ({ tools: [] }), callTool };
  const none = async () => {
    throw new Error('not in this test');
  };
  const catalog: CatalogHandlers = { listResources: none, listPrompts: none, readResource: none, getPrompt: none };
  const s = new StdioMcpSession(
    handlers,
    catalog,
    async (m) => void sent.push(m as Record<string, unknown>),
    new Logger({ component: 'test', level: 'error' }),
  );
  return { s, sent };
}
const settle = () => new Promise((r) => setTimeout(r, 20));
const request = (id: number, method: string, params?: Record<string, unknown>): JSONRPCMessage =>
  ({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) }) as JSONRPCMessage;

describe('the stdio MCP session', () => {
  it('negotiates the revision: the client’s when supported, else the latest', async () => {
    const { s, sent } = session(async () => ({ content: [] }));
    s.handle(
      request(1, 'initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'c', version: '1' },
      }),
    );
    s.handle(
      request(2, 'initialize', {
        protocolVersion: '1999-01-01',
        capabilities: {},
        clientInfo: { name: 'c', version: '1' },
      }),
    );
    await settle();
    const versions = sent.map((m) => m.result.protocolVersion as string);
    assert.deepEqual(versions, ['2025-06-18', PROTOCOL_VERSIONS[0]]);
    assert.deepEqual(sent[0]!.result.capabilities, {
      tools: { listChanged: true },
      resources: { listChanged: true },
      prompts: { listChanged: true },
      logging: {},
    });
  });

  it('answers an unknown method with -32601 and bad tools/call params with -32602', async () => {
    const { s, sent } = session(async () => ({ content: [] }));
    s.handle(request(1, 'completion/complete'));
    s.handle(request(2, 'tools/call', { name: 7 }));
    s.handle(request(3, 'tools/call', { name: 'echo', arguments: [1] }));
    s.handle(request(4, 'logging/setLevel', { level: 'loud' }));
    await settle();
    assert.deepEqual(
      sent.map((m) => [m.id, m.error.code]),
      [
        [1, -32601],
        [2, -32602],
        [3, -32602],
        [4, -32602],
      ],
    );
  });

  it('a cancelled call gets no answer, and its handler sees the abort', async () => {
    let seen: AbortSignal | undefined;
    const { s, sent } = session(
      (_name, _args, ctx: CallContext) =>
        new Promise((resolve) => {
          seen = ctx.signal;
          ctx.signal.addEventListener('abort', () => resolve({ content: [{ type: 'text', text: 'late' }] }));
        }),
    );
    s.handle(request(9, 'tools/call', { name: 'slow', arguments: {} }));
    await settle();
    s.handle({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 9, reason: 'user' } });
    await settle();
    assert.equal(seen?.aborted, true);
    assert.deepEqual(sent, []);
  });

  it('tells an initialized client that a list changed', async () => {
    const { s, sent } = session(async () => ({ content: [] }));
    let initialized = false;
    s.oninitialized = () => (initialized = true);
    s.handle({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await s.sendToolListChanged();
    await s.sendPromptListChanged();
    assert.equal(initialized, true);
    assert.deepEqual(
      sent.map((m) => m.method),
      ['notifications/tools/list_changed', 'notifications/prompts/list_changed'],
    );
  });

  it('sends progress under the client’s token, and log messages at or above the level it set', async () => {
    const { s, sent } = session(async (_name, _args, ctx) => {
      await ctx.progress?.({ progress: 1, total: 2 });
      await ctx.log({ level: 'debug', data: 'hidden' });
      await ctx.log({ level: 'error', data: 'shown' });
      return { content: [] };
    });
    s.handle(request(1, 'logging/setLevel', { level: 'warning' }));
    await settle();
    s.handle(request(2, 'tools/call', { name: 't', arguments: {}, _meta: { progressToken: 'p1' } }));
    await settle();
    assert.deepEqual(sent.slice(1), [
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p1', progress: 1, total: 2 } },
      { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'error', data: 'shown' } },
      { jsonrpc: '2.0', id: 2, result: { content: [] } },
    ]);
  });
});
