import { chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { BriefcaseError } from '@briefcase/protocol';
import type { Services } from '../daemon.ts';
import { TokenCheck } from '../tokens.ts';
import { firewallResponses } from './agent-view.ts';
import { acceptCallStreams } from './call-stream.ts';
import { sendError, sendJson } from './http.ts';
import { matchRoute, type Role, type Route } from './routes.ts';

/**
 * The daemon API: bearer-token auth (agent or admin), routing, and errors with stable codes.
 * An unexpected failure is logged and answered as `internal` without details; the server keeps
 * serving.
 */
export function createApiServer(routes: Route[], services: Services, options: { fixedRole?: Role } = {}): Server {
  const { logger } = services;
  const tokens = new TokenCheck();
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    // `URL.parse`, not `new URL`: a request target such as `http://[` throws, and a throw here
    // ended the daemon, for a peer with no token at all.
    const url = URL.parse(req.url ?? '/', 'http://daemon');
    if (!url) {
      req.resume();
      sendError(res, new BriefcaseError('bad_request', 'the request target is not a valid URL path'));
      return;
    }
    // The agent socket (agent-socket.ts): the socket's group is the credential, and a token sent
    // on it changes nothing, so an admin token that leaked to an agent is no use there either.
    const role = options.fixedRole ?? authenticate(req.headers.authorization, services, tokens);
    if (!role) {
      req.resume();
      sendError(res, new BriefcaseError('unauthorized', 'missing or invalid bearer token'));
      return;
    }
    if (role === 'agent') {
      firewallResponses(res, services.scrubber, () =>
        logger.warn('agent response withheld: a secret could not be removed safely', { path: url.pathname }),
      );
    }
    const match = matchRoute(routes, req.method ?? 'GET', url.pathname);
    if (match === null) {
      req.resume();
      sendError(res, new BriefcaseError('not_found', `no such endpoint: ${req.method} ${url.pathname}`));
      return;
    }
    if (match === 'method') {
      req.resume();
      sendJson(res, 405, {
        error: { code: 'bad_request', message: `${req.method} is not allowed on ${url.pathname}` },
      });
      return;
    }
    const { route, params } = match;
    if (route.role !== 'any' && route.role !== role) {
      req.resume();
      sendError(res, new BriefcaseError('forbidden', `this endpoint needs the ${route.role} credential`));
      return;
    }
    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    Promise.resolve()
      .then(() => route.handle({ req, res, params, query: url.searchParams, role, signal: abort.signal }))
      .catch((e: unknown) => {
        if (e instanceof BriefcaseError) {
          if (!res.headersSent) sendError(res, e);
          return;
        }
        logger.error('API handler failed', { path: url.pathname, error: e });
        if (!res.headersSent) sendError(res, new BriefcaseError('internal', 'internal error'));
        else res.destroy();
      });
  });
  acceptCallStreams(server, services, (header) => authenticate(header, services, tokens), options.fixedRole);
  server.on('connection', () => {
    services.apiConnections.accepted++;
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  return server;
}

function authenticate(header: string | undefined, services: Services, check: TokenCheck): Role | null {
  if (!header?.startsWith('Bearer ')) return null;
  return check.role(header.slice(7).trim(), services.tokens);
}

/** Listen on the Unix socket, created with mode 0600 (no window where it is wider). */
export function listenSocket(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const previous = process.umask(0o177);
    server.once('error', (e) => {
      process.umask(previous);
      reject(
        (e as NodeJS.ErrnoException).code === 'EADDRINUSE'
          ? new BriefcaseError('conflict', `socket ${path} is in use`)
          : e,
      );
    });
    server.listen(path, () => {
      process.umask(previous);
      chmodSync(path, 0o600);
      resolve();
    });
  });
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

/** The optional TCP listener: loopback only, and a port in use is a clear error. */
export function listenHttp(server: Server, host: string, port: number): Promise<{ host: string; port: number }> {
  if (!isLoopback(host)) {
    return Promise.reject(
      new BriefcaseError(
        'public_bind_forbidden',
        `refusing to bind ${host}: the daemon API only listens on loopback (127.0.0.1 or ::1)`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    server.once('error', (e) => {
      reject(
        (e as NodeJS.ErrnoException).code === 'EADDRINUSE'
          ? new BriefcaseError('port_in_use', `port ${port} on ${host} is already in use: choose another with --port`)
          : e,
      );
    });
    server.listen(port, host, () => {
      const address = server.address();
      resolve({ host, port: typeof address === 'object' && address ? address.port : port });
    });
  });
}
