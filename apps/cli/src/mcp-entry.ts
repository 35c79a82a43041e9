import { realpathSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * How an agent host runs the Briefcase's MCP gateway: the one place that builds that command.
 * `start` prints it as a ready-to-paste configuration and `client connect` writes it into a
 * host's file. Absolute paths to this Node and to the CLI's entry script, because a desktop host
 * does not start from the person's shell (no nvm, no PATH from .bashrc) and may run it from any
 * directory.
 */
export interface McpServerEntry {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

/** The entry script of the CLI that is running (an installed package's, or this checkout's). */
function cliEntry(): string {
  const running = process.argv[1];
  const own = fileURLToPath(new URL('../bin/briefcase.js', import.meta.url));
  const script = running && /^briefcase(\.js)?$/.test(basename(running)) ? running : own;
  try {
    return realpathSync(script);
  } catch {
    return resolve(script);
  }
}

/** The gateway for the data directory `home`, or for a service user's daemon through its agent socket. */
export function mcpServerEntry(target: { home: string } | { socket: string }): McpServerEntry {
  const base = [cliEntry(), 'mcp'];
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

export function inspectorCommand(home: string): string {
  const { command, args } = mcpServerEntry({ home });
  return `BRIEFCASE_HOME=${home} npx @modelcontextprotocol/inspector ${[command, ...args].join(' ')}`;
}
