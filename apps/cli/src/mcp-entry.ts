import { shellQuote, thisInvocation } from '@briefcase/protocol/invocation';

/**
 * How an agent host runs the Briefcase's MCP gateway: the one place that builds that command.
 * `init` and `start` print it as a ready-to-paste configuration and `client connect` writes it
 * into a host's file.
 *
 * Always this Node's absolute path and the CLI's entry script, links resolved
 * (`Invocation.entry`): a global install's `lib/node_modules/briefcase-agent/bin/briefcase.js`,
 * npx's cached copy under `_npx/`, or a checkout's `apps/cli/bin/briefcase.js`. Never a bare
 * `briefcase`, `node` or `npx`: a desktop host does not start from the person's shell (no nvm, no
 * PATH from .bashrc, no `node_modules/.bin`), and npm's bins start with `#!/usr/bin/env node`,
 * which fails where `node` is not on that PATH.
 */
export interface McpServerEntry {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

/** The gateway for the data directory `home`, or for a service user's daemon through its agent socket. */
export function mcpServerEntry(target: { home: string } | { socket: string }): McpServerEntry {
  const base = [thisInvocation().entry, 'mcp'];
  return 'socket' in target
    ? { command: process.execPath, args: [...base, '--socket', target.socket] }
    : { command: process.execPath, args: base, env: { BRIEFCASE_HOME: target.home } };
}

/** The agent-host configuration for this Briefcase (Claude Desktop / Cursor style). */
export function mcpClientConfig(home: string): { mcpServers: Record<string, McpServerEntry> } {
  return { mcpServers: { briefcase: mcpServerEntry({ home }) } };
}

/** The same for a person's account reaching a service user's daemon through its agent socket. */
export function agentSocketClientConfig(socket: string): { mcpServers: Record<string, McpServerEntry> } {
  return { mcpServers: { briefcase: mcpServerEntry({ socket }) } };
}

/** The MCP Inspector on the same gateway, as a command for a POSIX shell. */
export function inspectorCommand(home: string): string {
  const { command, args } = mcpServerEntry({ home });
  return `BRIEFCASE_HOME=${shellQuote(home)} npx @modelcontextprotocol/inspector ${[command, ...args].map(shellQuote).join(' ')}`;
}
