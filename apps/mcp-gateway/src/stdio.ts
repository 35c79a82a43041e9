import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '@briefcase/telemetry';
import { catalogHandlers } from './catalog.ts';
import type { DaemonClient } from './daemon-client.ts';
import { gatewayHandlers, type GatewayOptions } from './handlers.ts';
import { LineFramer } from './line-guard.ts';
import { listWatchFor } from './list-watch.ts';
import { StdioMcpSession } from './stdio-server.ts';

export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * `briefcase mcp`: the gateway on stdin/stdout, as an agent host spawns it. Each line is parsed
 * and checked once (LineFramer) and handed to the session as it is; the SDK's stdio transport
 * would parse and schema-check every line again behind a Transform stream.
 */
export async function serveStdio(
  client: DaemonClient,
  logger: Logger,
  options: GatewayOptions & { maxMessageBytes?: number } = {},
): Promise<{ closed: Promise<void> }> {
  const send = (message: JSONRPCMessage | string): Promise<void> =>
    new Promise((resolve) => {
      const line = typeof message === 'string' ? message : `${JSON.stringify(message)}\n`;
      if (process.stdout.write(line)) resolve();
      else process.stdout.once('drain', resolve);
    });
  const session = new StdioMcpSession(
    gatewayHandlers(client, logger, options),
    catalogHandlers(client, logger),
    send,
    logger,
  );
  const watch = listWatchFor(client, logger);
  session.oninitialized = () => watch.add(session);
  const framer = new LineFramer(
    options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    (reply) => void send(reply),
    (message) => session.handle(message),
  );
  const closed = new Promise<void>((resolve) => {
    // The list watch's long poll would keep the process alive: the session ends with stdin.
    const end = () => {
      watch.remove(session);
      resolve();
    };
    process.stdin.once('end', end);
    process.stdin.once('error', (e) => {
      logger.warn('stdio transport error', { error: e });
      end();
    });
  });
  process.stdin.on('data', (chunk: Buffer) => framer.write(chunk));
  logger.info('gateway serving on stdio');
  return { closed };
}
