import { readFileSync } from 'node:fs';
import { dataPaths } from '@briefcase/briefcased/paths';
import { DaemonClient, serveHttp, serveStdio } from '@briefcase/mcp-gateway';
import { Logger } from '@briefcase/telemetry';
import { print } from '../output.ts';

export interface McpFlags {
  http?: string;
  approvalWait?: string;
}

/** `briefcase mcp`: the agent-facing gateway. It reads the agent token and nothing else. */
export async function mcp(home: string, flags: McpFlags): Promise<void> {
  const paths = dataPaths(home);
  const token = readFileSync(paths.agentToken, 'utf8').trim();
  const client = new DaemonClient(paths.socket, token);
  const logger = new Logger({ component: 'mcp-gateway', file: `${paths.logs}/gateway.log` });
  const options = flags.approvalWait ? { maxApprovalWaitMs: Number(flags.approvalWait) * 1000 } : {};
  if (!flags.http) {
    const { closed } = await serveStdio(client, logger, options);
    await closed;
    client.close();
    return;
  }
  const i = flags.http.lastIndexOf(':');
  const host = flags.http.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(flags.http.slice(i + 1));
  const server = await serveHttp(client, logger, {
    ...options,
    host,
    port,
    token: readFileSync(paths.gatewayHttpToken, 'utf8').trim(),
  });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  print(`briefcase MCP gateway on http://${host.includes(':') ? `[${host}]` : host}:${actual}/mcp`);
  print(`  bearer token: the contents of ${paths.gatewayHttpToken}`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      server.close(() => resolve());
      // Open SSE streams would hold close() forever: end them.
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  client.close();
}
