import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ReadResourceRequestSchema,
  type GetPromptResult,
  type ReadResourceResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { ToolCallResponse } from '@briefcase/protocol';
import type { Logger } from '@briefcase/telemetry';
import type { DaemonClient } from './daemon-client.ts';

/**
 * resources/* and prompts/* for the agent: the daemon's reviewed listings, and reads and gets
 * that the daemon runs through its call pipeline (receipted, firewalled). The gateway only
 * reshapes: a refused read is a JSON-RPC error carrying the Briefcase code.
 */
export function registerCatalog(server: Server, client: DaemonClient, logger: Logger): void {
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: (await client.listResources()) as never,
  }));
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: (await client.listPrompts()) as never,
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    const response = await client.readResource(request.params.uri, extra.signal);
    const out = unwrap(response, 'resources/read', logger) as { contents?: ReadResourceResult['contents'] };
    return { contents: out.contents ?? [], _meta: { 'dev.briefcase/receipt': response.receipt_id } };
  });
  server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
    const response = await client.getPrompt(request.params.name, request.params.arguments, extra.signal);
    const out = unwrap(response, 'prompts/get', logger) as Partial<GetPromptResult>;
    return {
      ...(out.description !== undefined ? { description: out.description } : {}),
      messages: out.messages ?? [],
      _meta: { 'dev.briefcase/receipt': response.receipt_id },
    };
  });
}

/**
 * A JSON-RPC error the SDK sends as is ({code, message, data}); McpError would prefix its
 * message with "MCP error N:", which the client then prefixes again.
 */
class CatalogError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

function unwrap(response: ToolCallResponse, what: string, logger: Logger): Record<string, unknown> {
  if (!response.ok) {
    logger.info(`${what} refused`, { code: response.error.code, receipt: response.receipt_id });
    throw new CatalogError(
      response.error.code === 'invalid_args' || response.error.code === 'unknown_tool'
        ? ErrorCode.InvalidParams
        : ErrorCode.InternalError,
      `${response.error.message} [${response.error.code}]`,
      { 'dev.briefcase/error': { code: response.error.code }, 'dev.briefcase/receipt': response.receipt_id },
    );
  }
  return response.result.structuredContent ?? {};
}
