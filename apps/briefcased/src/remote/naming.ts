import { canonicalize, sha256Hex } from '@briefcase/crypto';
import type { Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';

const INVALID = /[^A-Za-z0-9_.-]/g;
const MAX_NAME = 128;

/**
 * Remote tools appear to the agent as `server.tool`. Characters outside MCP's tool-name set
 * (A-Z a-z 0-9 _ - .) become `_`; names are cut to 128 characters; if two tools of one server
 * end up with the same name, the later ones get `_2`, `_3`, …
 *
 * `reviewed` maps original names to the qualified name each was pinned under: those keep their
 * name first, so a server that reorders its list (or adds a tool that sanitizes the same way)
 * cannot move a reviewed name onto another tool, even while that tool is absent from the list.
 * The rest are numbered in the server's order.
 */
export function qualifiedNames(
  server: string,
  tools: string[],
  reviewed: ReadonlyMap<string, string> = new Map(),
): Map<string, string> {
  const present = new Set(tools);
  // A reviewed tool that is absent right now keeps its name: another tool never inherits it.
  const taken = new Set([...reviewed].filter(([original]) => !present.has(original)).map(([, name]) => name));
  const out = new Map<string, string>();
  for (const original of tools) {
    const name = reviewed.get(original);
    // Only a name this original could have been given (its base, or its base with a suffix).
    if (name === undefined || taken.has(name) || !couldBe(server, original, name)) continue;
    taken.add(name);
    out.set(original, name);
  }
  for (const original of tools) {
    if (out.has(original)) continue;
    const base = baseName(server, original);
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base.slice(0, MAX_NAME - String(n).length - 1)}_${n}`;
    taken.add(name);
    out.set(original, name);
  }
  return out;
}

function baseName(server: string, original: string): string {
  return `${server}.${original.replace(INVALID, '_')}`.slice(0, MAX_NAME);
}

function couldBe(server: string, original: string, name: string): boolean {
  const base = baseName(server, original);
  if (name === base) return true;
  const m = /^(.*)_([2-9]|[1-9][0-9]+)$/.exec(name);
  // A numbered name is the base, cut short when the base was already at the length limit.
  return m !== null && (m[1] === base || (base.length === MAX_NAME && base.startsWith(m[1]!)));
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
