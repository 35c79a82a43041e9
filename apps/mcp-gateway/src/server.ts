import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type ServerNotification,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '@briefcase/telemetry';
import type { DaemonClient } from './daemon-client.ts';
import {
  GATEWAY_INSTRUCTIONS,
  GATEWAY_NAME,
  GATEWAY_VERSION,
  gatewayHandlers,
  type GatewayOptions,
} from './handlers.ts';

export { GATEWAY_NAME, GATEWAY_VERSION, type GatewayOptions } from './handlers.ts';

/**
 * The gateway on the official SDK's MCP server: the Streamable HTTP gateway (http.ts), one per
 * session. The stdio gateway, which every agent host spawns, runs the same handlers on a small
 * server of its own (stdio-server.ts).
 */
export function createGatewayServer(client: DaemonClient, logger: Logger, options: GatewayOptions = {}): Server {
  const server = new Server(
    { name: GATEWAY_NAME, version: GATEWAY_VERSION },
    { capabilities: { tools: { listChanged: false }, logging: {} }, instructions: GATEWAY_INSTRUCTIONS },
  );
  const handlers = gatewayHandlers(client, logger, options);

  server.setRequestHandler(ListToolsRequestSchema, () => handlers.listTools());

  // logging/setLevel is the SDK's own handler (declared `logging` capability): it records the
  // agent's level, and sendLoggingMessage below honours it.

  server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const progressToken = request.params._meta?.progressToken;
    return handlers.callTool(request.params.name, (request.params.arguments ?? {}) as Record<string, unknown>, {
      signal: extra.signal,
      progress:
        progressToken === undefined
          ? undefined
          : (p) =>
              extra.sendNotification({
                method: 'notifications/progress',
                params: { progressToken, ...p },
              } as ServerNotification),
      log: (log) => server.sendLoggingMessage(log, extra.sessionId),
    });
  });

  return server;
}
