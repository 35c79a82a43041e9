import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Logger } from '@briefcase/telemetry';
import type { DaemonClient } from './daemon-client.ts';
import { LineGuard } from './line-guard.ts';
import { createGatewayServer, type GatewayOptions } from './server.ts';

export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** `briefcase mcp`: the gateway on stdin/stdout, as an agent host spawns it. */
export async function serveStdio(
  client: DaemonClient,
  logger: Logger,
  options: GatewayOptions & { maxMessageBytes?: number } = {},
): Promise<{ closed: Promise<void> }> {
  const guard = new LineGuard(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, (reply) =>
    process.stdout.write(reply),
  );
  process.stdin.pipe(guard);
  const transport = new StdioServerTransport(guard, process.stdout);
  const server = createGatewayServer(client, logger, options);
  transport.onerror = (e) => logger.warn('stdio transport error', { error: e });
  const closed = new Promise<void>((resolve) => {
    const stopWatching = server.onclose;
    server.onclose = () => {
      stopWatching?.();
      resolve();
    };
    process.stdin.once('end', () => {
      void server.close().then(resolve);
    });
  });
  await server.connect(transport);
  logger.info('gateway serving on stdio');
  return { closed };
}
