import { canonicalize, sha256Hex } from '@briefcase/crypto';
import type { Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';

const INVALID = /[^A-Za-z0-9_.-]/g;
const MAX_NAME = 128;

/**
 * Remote tools appear to the agent as `server.tool`. Characters outside MCP's tool-name set
 * (A-Z a-z 0-9 _ - .) become `_`; names are cut to 128 characters; if two tools of one server
 * end up with the same name, the later ones (in the server's own order) get `_2`, `_3`, …
 */
export function qualifiedNames(server: string, tools: string[]): Map<string, string> {
  const taken = new Set<string>();
  const out = new Map<string, string>();
  for (const original of tools) {
    const base = `${server}.${original.replace(INVALID, '_')}`.slice(0, MAX_NAME);
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base.slice(0, MAX_NAME - String(n).length - 1)}_${n}`;
    taken.add(name);
    out.set(original, name);
  }
  return out;
}

/** What is pinned: everything about a tool that tells an agent or a person what it does. */
export function definitionHash(tool: McpTool): string {
  return sha256Hex(
    `briefcase.mcp-tool.v1\u0000${canonicalize({
      name: tool.name,
      title: tool.title ?? null,
      description: tool.description ?? null,
      inputSchema: tool.inputSchema,
      outputSchema: tool.outputSchema ?? null,
      annotations: tool.annotations ?? null,
    })}`,
  );
}
