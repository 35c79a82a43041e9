/**
 * The baseline for the benchmarks: a plain MCP server from the official SDK with one `echo` tool —
 * no policy, no receipts, nothing in between. Stdio by default; `--http PORT` serves Streamable
 * HTTP at http://127.0.0.1:PORT/mcp (stateful sessions, loopback only).
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

function echoServer(): McpServer {
  const server = new McpServer({ name: 'plain-echo', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'echo', inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}

const httpAt = process.argv.indexOf('--http');
if (httpAt === -1) {
  await echoServer().connect(new StdioServerTransport());
} else {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const http = createServer(async (req, res) => {
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? sessions.get(id) : undefined;
    if (!transport) {
      const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => void sessions.set(sid, created),
      });
      await echoServer().connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res);
  });
  http.listen(Number(process.argv[httpAt + 1]), '127.0.0.1', () => process.stdout.write('listening\n'));
}
