import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Server as McpServer } from '@modelcontextprotocol/sdk/server/index.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { jsonDepthExceeds } from '@briefcase/protocol/json-depth';
import type { Logger } from '@briefcase/telemetry';
import type { DaemonClient } from './daemon-client.ts';
import { createGatewayServer, type GatewayOptions } from './server.ts';
import { inspectText, inspectValue, MAX_MESSAGE_DEPTH } from './jsonrpc-check.ts';

export interface HttpGatewayOptions extends GatewayOptions {
  host: string;
  port: number;
  token: string;
  maxMessageBytes?: number;
  maxSessions?: number;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  lastSeen: number;
  /** HTTP requests of this session still open (POSTs being answered, a GET event stream). */
  inFlight: number;
}

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const SESSION_IDLE_MS = 30 * 60 * 1000;

/**
 * `briefcase mcp --http 127.0.0.1:PORT`: Streamable HTTP at /mcp. Loopback only; every request
 * needs the gateway's own bearer token; Host and Origin must name a loopback host (DNS
 * rebinding protection, MCP 2025-11-25 transports §security warning).
 */
export async function serveHttp(client: DaemonClient, logger: Logger, o: HttpGatewayOptions): Promise<Server> {
  if (!LOOPBACK_HOSTNAMES.has(o.host)) {
    throw new BriefcaseError(
      'public_bind_forbidden',
      `refusing to bind ${o.host}: the gateway only listens on loopback`,
    );
  }
  const sessions = new Map<string, Session>();
  const maxSessions = o.maxSessions ?? 64;
  /** Initialize requests being answered: their sessions count against the limit already. */
  let initializing = 0;
  const maxBytes = o.maxMessageBytes ?? 4 * 1024 * 1024;
  const expected = createHash('sha256').update(o.token).digest();

  const server = createServer(async (req, res) => {
    try {
      await handle(req, res);
    } catch (e) {
      logger.error('gateway HTTP request failed', { error: e });
      if (!res.headersSent) jsonRpcError(res, 500, -32603, 'internal error');
    }
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (!hostAllowed(req.headers.host) || !originAllowed(req.headers.origin)) {
      req.resume();
      jsonRpcError(res, 403, -32000, 'forbidden: Host or Origin is not a loopback address');
      return;
    }
    if (url.pathname !== '/mcp') {
      req.resume();
      jsonRpcError(res, 404, -32000, 'not found: the MCP endpoint is /mcp');
      return;
    }
    const presented = req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice(7).trim() : '';
    if (!timingSafeEqual(createHash('sha256').update(presented).digest(), expected)) {
      req.resume();
      res.setHeader('www-authenticate', 'Bearer realm="briefcase"');
      jsonRpcError(res, 401, -32001, 'unauthorized: send the token from gateway-http.token as a bearer token');
      return;
    }
    let body: unknown;
    if (req.method === 'POST') {
      const read = await readBody(req, maxBytes);
      if (read === 'too_large') {
        jsonRpcError(res, 413, -32600, `message larger than ${maxBytes} bytes`);
        return;
      }
      const checked = inspectBody(read);
      if (!checked.ok) {
        jsonRpcError(res, 400, checked.code, checked.reason, checked.id);
        return;
      }
      body = checked.body;
    }
    const sessionId = req.headers['mcp-session-id'];
    const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (existing) {
      track(existing, res);
      await existing.transport.handleRequest(req, res, body);
      return;
    }
    if (typeof sessionId === 'string') {
      jsonRpcError(res, 404, -32001, 'unknown or expired session: initialize again');
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      jsonRpcError(res, 400, -32000, 'bad request: no session; the first request must be initialize');
      return;
    }
    reap(sessions);
    // At the limit, the least recently used idle session makes room: its client gets 404 on
    // its next request and initializes again, as MCP (2025-11-25, transports, session
    // management) tells clients to. A session with a request in flight is never evicted, so
    // only when every session is busy is there a 503.
    if (sessions.size + initializing >= maxSessions && !evictIdle(sessions, logger)) {
      jsonRpcError(res, 503, -32000, 'too many busy sessions: every session has a request in flight; retry later');
      return;
    }
    const mcp = createGatewayServer(client, logger, o);
    let pending = true;
    const settle = () => {
      if (pending) initializing--;
      pending = false;
    };
    initializing++;
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        settle();
        sessions.set(id, session);
      },
    });
    const session: Session = { transport, server: mcp, lastSeen: Date.now(), inFlight: 0 };
    transport.onclose = () => {
      if (transport.sessionId && sessions.get(transport.sessionId) === session) sessions.delete(transport.sessionId);
    };
    track(session, res);
    try {
      await mcp.connect(transport);
      await transport.handleRequest(req, res, body);
    } finally {
      settle();
    }
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(
        (e as NodeJS.ErrnoException).code === 'EADDRINUSE'
          ? new BriefcaseError('port_in_use', `port ${o.port} on ${o.host} is already in use`)
          : e,
      ),
    );
    server.listen(o.port, o.host, () => resolve());
  });
  server.on('close', () => {
    for (const s of sessions.values()) void s.server.close();
    sessions.clear();
  });
  logger.info('gateway serving Streamable HTTP', { address: server.address() });
  return server;
}

function hostAllowed(host: string | undefined): boolean {
  if (!host) return false;
  try {
    return LOOPBACK_HOSTNAMES.has(new URL(`http://${host}`).hostname);
  } catch {
    return false;
  }
}

/** Browsers send Origin; non-browser clients usually do not. A present Origin must be loopback. */
function originAllowed(origin: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    return LOOPBACK_HOSTNAMES.has(new URL(origin).hostname);
  } catch {
    return false;
  }
}

/** Count a request against its session until its response is finished or the client hangs up. */
function track(session: Session, res: ServerResponse): void {
  session.inFlight++;
  session.lastSeen = Date.now();
  res.once('close', () => {
    session.inFlight--;
    session.lastSeen = Date.now();
  });
}

/** Close the least recently used session with nothing in flight; false when every one is busy. */
function evictIdle(sessions: Map<string, Session>, logger: Logger): boolean {
  let victim: [string, Session] | undefined;
  for (const entry of sessions) {
    if (entry[1].inFlight === 0 && (!victim || entry[1].lastSeen < victim[1].lastSeen)) victim = entry;
  }
  if (!victim) return false;
  sessions.delete(victim[0]);
  void victim[1].server.close();
  logger.info('gateway session evicted to make room (least recently used, idle)', { sessions: sessions.size });
  return true;
}

function reap(sessions: Map<string, Session>): void {
  const cutoff = Date.now() - SESSION_IDLE_MS;
  for (const [id, s] of sessions) {
    if (s.lastSeen < cutoff) {
      sessions.delete(id);
      void s.server.close();
    }
  }
}

function readBody(req: IncomingMessage, max: number): Promise<string | 'too_large'> {
  if (Number(req.headers['content-length'] ?? 0) > max) {
    req.resume();
    return Promise.resolve('too_large');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? 'too_large' : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * A POST body: one JSON-RPC message, or a batch (older protocol revisions) whose every element
 * must be one. Too deep, not JSON or not JSON-RPC: the error to answer with, before the SDK.
 */
function inspectBody(
  text: string,
): { ok: true; body: unknown } | { ok: false; id: string | number | null; code: number; reason: string } {
  const first = inspectText(text);
  if (first.ok) return { ok: true, body: first.message };
  if (first.code === -32700 || !text.trimStart().startsWith('[')) return first;
  const batch = JSON.parse(text) as unknown[];
  if (jsonDepthExceeds(text, MAX_MESSAGE_DEPTH) || batch.length === 0) return { ...first, id: null };
  for (const element of batch) {
    const checked = inspectValue(element);
    if (!checked.ok) return checked;
  }
  return { ok: true, body: batch };
}

function jsonRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  id: string | number | null = null,
): void {
  const body = JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
