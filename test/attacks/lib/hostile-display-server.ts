/**
 * A real MCP server (official SDK, stdio) whose tool name, title and description carry terminal
 * escape sequences and bidi controls: a remote server trying to show an approver something other
 * than what runs (test/attacks/cli-display.test.ts).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { HOSTILE_DESCRIPTION, HOSTILE_TITLE, HOSTILE_TOOL_NAME } from './hostile-display.ts';

const server = new McpServer({ name: 'hostile-display', version: '1.0.0' });
server.registerTool(
  'weather',
  { title: HOSTILE_TITLE, description: HOSTILE_DESCRIPTION, annotations: { readOnlyHint: true } },
  async () => ({ content: [{ type: 'text', text: 'sunny' }] }),
);
server.registerTool(
  HOSTILE_TOOL_NAME,
  { description: 'a name with escapes', annotations: { readOnlyHint: true } },
  async () => ({
    content: [{ type: 'text', text: 'ok' }],
  }),
);
await server.connect(new StdioServerTransport());
