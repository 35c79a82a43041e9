import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '@briefcase/telemetry';
import type { DaemonClient } from './daemon-client.ts';
import { LineFramer } from './line-guard.ts';
import { createGatewayServer, type GatewayOptions } from './server.ts';

export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * MCP over stdin/stdout, each message parsed and checked once (LineFramer) and handed to the
 * server as it is. The SDK's StdioServerTransport would parse and schema-check every line a
 * second time, behind a Transform stream: issue 13's profile put the two at ~10% of the
 * gateway's CPU per call.
 */
class GuardedStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  readonly #framer: LineFramer;
  readonly #onData = (chunk: Buffer) => this.#framer.write(chunk);

  constructor(maxBytes: number) {
    this.#framer = new LineFramer(
      maxBytes,
      (reply) => process.stdout.write(reply),
      (message) => this.onmessage?.(message),
    );
  }

  async start(): Promise<void> {
    process.stdin.on('data', this.#onData);
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (process.stdout.write(`${JSON.stringify(message)}\n`)) resolve();
      else process.stdout.once('drain', resolve);
    });
  }

  async close(): Promise<void> {
    process.stdin.off('data', this.#onData);
    process.stdin.pause();
    this.onclose?.();
  }
}

/** `briefcase mcp`: the gateway on stdin/stdout, as an agent host spawns it. */
export async function serveStdio(
  client: DaemonClient,
  logger: Logger,
  options: GatewayOptions & { maxMessageBytes?: number } = {},
): Promise<{ closed: Promise<void> }> {
  const transport = new GuardedStdioTransport(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
  const server = createGatewayServer(client, logger, options);
  transport.onerror = (e) => logger.warn('stdio transport error', { error: e });
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
    process.stdin.once('end', () => {
      void server.close().then(resolve);
    });
  });
  await server.connect(transport);
  logger.info('gateway serving on stdio');
  return { closed };
}
