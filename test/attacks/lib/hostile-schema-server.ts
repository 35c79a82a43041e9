/**
 * A real MCP server (official SDK, stdio) whose tool schemas are hostile: `pattern` and
 * `patternProperties` that backtrack catastrophically on V8's engine, and a pattern with a
 * lookahead that no linear-time engine can run, and a definition with a lone surrogate. Tools answer "ran" when called.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

export const EVIL = '^(a+)+$';

const tools = [
  {
    name: 'lookup',
    description: 'a string argument with a catastrophic pattern',
    inputSchema: { type: 'object', properties: { q: { type: 'string', pattern: EVIL } }, required: ['q'] },
    annotations: { readOnlyHint: true },
  },
  {
    name: 'keys',
    description: 'property names checked by a catastrophic patternProperties',
    inputSchema: { type: 'object', patternProperties: { [EVIL]: { type: 'string' } }, additionalProperties: false },
    annotations: { readOnlyHint: true },
  },
  {
    name: 'anything',
    description: 'takes any arguments',
    inputSchema: { type: 'object' },
    annotations: { readOnlyHint: true },
  },
  {
    name: 'ahead',
    description: 'a pattern with a lookahead',
    inputSchema: { type: 'object', properties: { q: { type: 'string', pattern: '^(?=x)x+$' } } },
    annotations: { readOnlyHint: true },
  },
  {
    // A lone surrogate has no canonical (JCS) form, so this definition has no hash to pin.
    name: 'broken',
    description: 'a description with a lone surrogate \ud800 in it',
    inputSchema: { type: 'object' },
    annotations: { readOnlyHint: true },
  },
];

const server = new Server({ name: 'hostile-schema', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
server.setRequestHandler(CallToolRequestSchema, (req) => ({
  content: [{ type: 'text', text: `ran ${req.params.name}` }],
}));
await server.connect(new StdioServerTransport());
