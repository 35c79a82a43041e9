/** The real HTTP gateway (`briefcase mcp --http`) as a child process, and raw requests to it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { BIN, freePort, token } from '../../helpers.ts';

export interface HttpGateway {
  url: URL;
  bearer: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export async function startHttpGateway(home: string, extraArgs: string[] = []): Promise<HttpGateway> {
  const port = await freePort();
  const proc = spawn(process.execPath, [BIN, 'mcp', '--http', `127.0.0.1:${port}`, ...extraArgs], {
    env: { ...process.env, BRIEFCASE_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stderr?.resume();
  await new Promise<void>((res, rej) => {
    proc.stdout?.on('data', (c: Buffer) => c.toString().includes('/mcp') && res());
    proc.once('exit', (code) => rej(new Error(`gateway exited ${code}`)));
  });
  return {
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    bearer: token(home, 'gateway-http'),
    proc,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

/** An official-SDK client over Streamable HTTP (optionally resuming a session id). */
export async function httpClient(gw: HttpGateway, sessionId?: string): Promise<Client> {
  const client = new Client({ name: 'http-agent', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(gw.url, {
      requestInit: { headers: { authorization: `Bearer ${gw.bearer}` } },
      ...(sessionId ? { sessionId } : {}),
    }),
  );
  return client;
}

export function sessionOf(client: Client): string {
  return (client.transport as StreamableHTTPClientTransport).sessionId!;
}

/** One raw POST; the JSON-RPC messages of the answer, whether JSON or an SSE stream. */
export async function rawPost(
  gw: HttpGateway,
  body: string | object,
  sessionId?: string,
): Promise<{ status: number; sessionId: string | null; messages: Record<string, unknown>[] }> {
  const response = await fetch(gw.url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${gw.bearer}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  const messages = (response.headers.get('content-type') ?? '').includes('text/event-stream')
    ? text
        .split('\n')
        .filter((l) => l.startsWith('data: ') && l.length > 6)
        .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>)
    : text
      ? [JSON.parse(text) as Record<string, unknown>]
      : [];
  return { status: response.status, sessionId: response.headers.get('mcp-session-id'), messages };
}

/** A session opened with raw requests: no event stream, so nothing in flight unless we say so. */
export async function rawSession(gw: HttpGateway): Promise<string> {
  const init = await rawPost(gw, {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });
  if (init.status !== 200 || !init.sessionId)
    throw new Error(`initialize failed: ${init.status} ${JSON.stringify(init.messages)}`);
  await rawPost(gw, { jsonrpc: '2.0', method: 'notifications/initialized' }, init.sessionId);
  return init.sessionId;
}

/**
 * Open the session's standalone event stream (GET) and resolve once the gateway has answered
 * with its headers, so the stream is known to be in flight. The stream is read (and so kept
 * referenced: undici closes a response body that is garbage collected) until `close()`.
 */
export async function openEventStream(gw: HttpGateway, sessionId: string): Promise<{ close(): void }> {
  const controller = new AbortController();
  const response = await fetch(gw.url, {
    method: 'GET',
    headers: {
      authorization: `Bearer ${gw.bearer}`,
      accept: 'text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      'mcp-session-id': sessionId,
    },
    signal: controller.signal,
  });
  if (response.status !== 200 || !response.body) throw new Error(`event stream refused: ${response.status}`);
  const reader = response.body.getReader();
  const drained = (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {
      // aborted by close()
    }
  })();
  return {
    close() {
      controller.abort();
      void drained;
    },
  };
}
