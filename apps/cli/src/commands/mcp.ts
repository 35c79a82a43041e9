import { readFileSync } from 'node:fs';
import { dataPaths } from '@briefcase/briefcased/paths';
// Every agent host spawns its own gateway, so it loads only its own transport: the stdio path
// never loads the HTTP transport (issue 13: each module here is resident in every gateway).
import { DaemonClient } from '@briefcase/mcp-gateway/daemon-client';
import { serveStdio } from '@briefcase/mcp-gateway/stdio';
import { Logger, startTelemetry } from '@briefcase/telemetry';
import { agentSocketFrom, checkAgentSocket, personGatewayToken } from '../agent-socket.ts';
import { print } from '../output.ts';

export interface McpFlags {
  http?: string;
  approvalWait?: string;
  /** The agent socket (docs/service.md); BRIEFCASE_AGENT_SOCKET says the same. */
  socket?: string;
  /** The HTTP gateway's bearer token file (default: in the data dir, or ~/.config with --socket). */
  tokenFile?: string;
}

interface Line {
  client: DaemonClient;
  logger: Logger;
  httpToken: () => { file: string; token: string };
}

/**
 * The daemon's own user: the agent token and the logs in the data directory. From another
 * account (a dedicated service user): the agent socket, no token, no file of the data directory
 * read; logs go to stderr, which MCP hosts keep.
 */
async function openLine(home: string, flags: McpFlags): Promise<Line> {
  const socket = agentSocketFrom(flags.socket);
  if (socket !== undefined) {
    await checkAgentSocket(socket);
    return {
      client: new DaemonClient(socket, null),
      logger: new Logger({ component: 'mcp-gateway', level: 'warn', stderr: true }),
      httpToken: () => personGatewayToken(flags.tokenFile),
    };
  }
  const paths = dataPaths(home);
  const token = readFileSync(paths.agentToken, 'utf8').trim();
  return {
    client: new DaemonClient(paths.socket, token),
    logger: new Logger({ component: 'mcp-gateway', file: `${paths.logs}/gateway.log` }),
    httpToken: () => {
      const file = flags.tokenFile ?? paths.gatewayHttpToken;
      return { file, token: readFileSync(file, 'utf8').trim() };
    },
  };
}

/** `briefcase mcp`: the agent-facing gateway. It reads the agent token and nothing else. */
export async function mcp(home: string, flags: McpFlags): Promise<void> {
  // V8 grows its young generation (up to 2 × 16 MiB) under a steady stream of short-lived call
  // objects, all of it resident. Held at its initial size, the gateway ended the issue-13
  // benchmark 3–6 MiB smaller in A/B runs, with no CPU difference measurable: each call's garbage
  // dies young. Every agent host spawns its own gateway, so its size is multiplied.
  process.getBuiltinModule('node:v8').setFlagsFromString('--semi-space-growth-factor=1');
  const { client, logger, httpToken } = await openLine(home, flags);
  // Off (and the OpenTelemetry SDK not even loaded) unless OTEL_* variables ask for export.
  const telemetry = await startTelemetry('briefcase-mcp-gateway', process.env, { stdoutIsProtocol: !flags.http });
  const options = {
    telemetry,
    ...(flags.approvalWait ? { maxApprovalWaitMs: Number(flags.approvalWait) * 1000 } : {}),
  };
  if (!flags.http) {
    const { closed } = await serveStdio(client, logger, options);
    await closed;
    await telemetry.shutdown();
    client.close();
    return;
  }
  const i = flags.http.lastIndexOf(':');
  const host = flags.http.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(flags.http.slice(i + 1));
  const { file, token } = httpToken();
  const { serveHttp } = await import('@briefcase/mcp-gateway/http');
  const server = await serveHttp(client, logger, { ...options, host, port, token });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  print(`briefcase MCP gateway on http://${host.includes(':') ? `[${host}]` : host}:${actual}/mcp`);
  print(`  bearer token: the contents of ${file}`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      server.close(() => resolve());
      // Open SSE streams would hold close() forever: end them.
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await telemetry.shutdown();
  client.close();
}
