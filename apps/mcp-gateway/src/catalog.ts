import type { GetPromptResult, ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import type { ToolCallResponse } from '@briefcase/protocol';
import type { Logger } from '@briefcase/telemetry';
import type { DaemonClient } from './daemon-client.ts';

/** JSON-RPC 2.0 §5.1, as MCP uses them (the SDK's ErrorCode; not imported: it loads zod). */
const INVALID_PARAMS = -32602;
const INTERNAL_ERROR = -32603;

/**
 * A JSON-RPC error sent as is ({code, message, data}); the SDK's McpError would prefix its
 * message with "MCP error N:", which the client then prefixes again.
 */
export class CatalogError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

export interface CatalogHandlers {
  listResources(): Promise<{ resources: Record<string, unknown>[] }>;
  listPrompts(): Promise<{ prompts: Record<string, unknown>[] }>;
  readResource(uri: string, signal: AbortSignal): Promise<ReadResourceResult>;
  getPrompt(name: string, args: Record<string, string> | undefined, signal: AbortSignal): Promise<GetPromptResult>;
}

/**
 * resources/* and prompts/* for the agent, whatever transport carries them: the daemon's reviewed
 * listings, and reads and gets that the daemon runs through its call pipeline (receipted,
 * firewalled). The gateway only reshapes: a refused read is a JSON-RPC error carrying the
 * Briefcase code.
 */
export function catalogHandlers(client: DaemonClient, logger: Logger): CatalogHandlers {
  return {
    listResources: async () => ({ resources: await client.listResources() }),
    listPrompts: async () => ({ prompts: await client.listPrompts() }),
    async readResource(uri, signal) {
      const response = await client.readResource(uri, signal);
      const out = unwrap(response, 'resources/read', logger) as { contents?: ReadResourceResult['contents'] };
      return { contents: out.contents ?? [], _meta: { 'dev.briefcase/receipt': response.receipt_id } };
    },
    async getPrompt(name, args, signal) {
      const response = await client.getPrompt(name, args, signal);
      const out = unwrap(response, 'prompts/get', logger) as Partial<GetPromptResult>;
      return {
        ...(out.description !== undefined ? { description: out.description } : {}),
        messages: out.messages ?? [],
        _meta: { 'dev.briefcase/receipt': response.receipt_id },
      };
    },
  };
}

function unwrap(response: ToolCallResponse, what: string, logger: Logger): Record<string, unknown> {
  if (!response.ok) {
    logger.info(`${what} refused`, { code: response.error.code, receipt: response.receipt_id });
    throw new CatalogError(
      response.error.code === 'invalid_args' || response.error.code === 'unknown_tool'
        ? INVALID_PARAMS
        : INTERNAL_ERROR,
      `${response.error.message} [${response.error.code}]`,
      { 'dev.briefcase/error': { code: response.error.code }, 'dev.briefcase/receipt': response.receipt_id },
    );
  }
  return response.result.structuredContent ?? {};
}
