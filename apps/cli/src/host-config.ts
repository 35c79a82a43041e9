import { PACKAGE_NAME, shellQuote, thisInvocation } from '@briefcase/protocol/invocation';

/**
 * How an agent host runs `briefcase mcp`: absolute paths (a desktop app's PATH is not the
 * shell's), or `npx -y briefcase-agent` when this command runs from npx's cache, which moves.
 */
function mcpCommand(...args: string[]): { command: string; args: string[] } {
  const me = thisInvocation();
  if (me.how === 'npx') return { command: 'npx', args: ['-y', PACKAGE_NAME, 'mcp', ...args] };
  return { command: process.execPath, args: [me.entry, 'mcp', ...args] };
}

/** The agent-host configuration for this Briefcase (Claude Desktop / Cursor style). */
export function mcpClientConfig(home: string): { mcpServers: Record<string, unknown> } {
  return { mcpServers: { briefcase: { ...mcpCommand(), env: { BRIEFCASE_HOME: home } } } };
}

/** The same for a person's account reaching a service user's daemon through its agent socket. */
export function agentSocketClientConfig(socket: string): { mcpServers: Record<string, unknown> } {
  return { mcpServers: { briefcase: mcpCommand('--socket', socket) } };
}

export function inspectorCommand(home: string): string {
  const { command, args } = mcpCommand();
  return `BRIEFCASE_HOME=${shellQuote(home)} npx @modelcontextprotocol/inspector ${[command, ...args].map(shellQuote).join(' ')}`;
}
