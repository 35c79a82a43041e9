import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  type ServerNotification,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '@briefcase/telemetry';
import { catalogHandlers } from './catalog.ts';
import type { DaemonClient } from './daemon-client.ts';
import {
  GATEWAY_CAPABILITIES,
  GATEWAY_INSTRUCTIONS,
  GATEWAY_NAME,
  GATEWAY_VERSION,
  gatewayHandlers,
  type GatewayOptions,
} from './handlers.ts';
import { listWatchFor } from './list-watch.ts';

export { GATEWAY_NAME, GATEWAY_VERSION, type GatewayOptions } from './handlers.ts';

/**
 * The gateway on the official SDK's MCP server: the Streamable HTTP gateway (http.ts), one per
 * session. The stdio gateway, which every agent host spawns, runs the same handlers on a small
 * server of its own (stdio-server.ts).
 */
export function createGatewayServer(client: DaemonClient, logger: Logger, options: GatewayOptions = {}): Server {
  const server = new Server(
    { name: GATEWAY_NAME, version: GATEWAY_VERSION },
    { capabilities: GATEWAY_CAPABILITIES, instructions: GATEWAY_INSTRUCTIONS },
  );
  const handlers = gatewayHandlers(client, logger, options);
  const catalog = catalogHandlers(client, logger);

  const watch = listWatchFor(client, logger);
  server.oninitialized = () => watch.add(server);
  server.onclose = () => watch.remove(server);

  server.setRequestHandler(ListToolsRequestSchema, () => handlers.listTools());
  server.setRequestHandler(ListResourcesRequestSchema, () => catalog.listResources() as never);
  server.setRequestHandler(ListPromptsRequestSchema, () => catalog.listPrompts() as never);
  server.setRequestHandler(ReadResourceRequestSchema, (request, extra) =>
    catalog.readResource(request.params.uri, extra.signal),
  );
  server.setRequestHandler(GetPromptRequestSchema, (request, extra) =>
    catalog.getPrompt(request.params.name, request.params.arguments, extra.signal),
  );

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
