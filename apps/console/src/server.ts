import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConsoleBackend } from './backend.ts';
import { ConsoleHttpError, readJsonBody, sendError, sendHtml, sendJson, toWireError } from './http.ts';
import { AttemptLimiter, matchRoute, type RouteContext } from './routes.ts';
import {
  checkHost,
  crossSiteFetch,
  FORBIDDEN_HOST_PAGE,
  foreignOrigin,
  setSecurityHeaders,
  useLocalhostPage,
} from './security.ts';
import { cookieHeader, cookieValue, sameSecret, SessionStore, ViewerTokens, type Session } from './sessions.ts';
import { DEFAULT_DIST, serveStatic } from './static.ts';
import { VIEWER_PATHS, viewerAnswer, viewerOriginAllowed } from './viewer.ts';

/** Structurally the @briefcase/telemetry Logger; the console needs nothing more. */
export interface ConsoleLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface ConsoleOptions {
  backend: ConsoleBackend;
  /** 0 picks a free port. */
  port: number;
  /** A loopback address; anything else is refused. */
  host?: string;
  logger?: ConsoleLogger;
  /** The built page (default apps/console/web/dist). */
  staticDir?: string;
}

export interface ConsoleHandle {
  /** http://localhost:PORT, the console's only origin. */
  url: string;
  port: number;
  server: Server;
  /** A read-only bearer token for the extension's /api/viewer/* endpoints (default 10 minutes). */
  mintViewerSession(ttlSeconds?: number): { token: string; expires_at: string };
  close(): Promise<void>;
}

export class ConsoleBindError extends Error {
  readonly code = 'public_bind_forbidden';
  constructor(host: string) {
    super(`refusing to serve the console on ${host}: it listens on loopback only (127.0.0.1, ::1 or localhost)`);
    this.name = 'ConsoleBindError';
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const SIGNED_IN_ONLY = 'sign in with your passkey first';

/**
 * The web console: the page and its JSON API on http://localhost:PORT. Served by the daemon on
 * loopback. The browser holds one credential, an HttpOnly SameSite=Strict session cookie; every
 * WebAuthn decision is the backend's (docs/console.md).
 */
export async function startConsole(o: ConsoleOptions): Promise<ConsoleHandle> {
  const host = o.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) throw new ConsoleBindError(host);
  const root = o.staticDir ?? DEFAULT_DIST;
  const store = new SessionStore();
  const viewers = new ViewerTokens();
  const streams = new Set<ServerResponse>();
  const attempts = new AttemptLimiter();
  let port = o.port;
  let origin = '';

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      o.logger?.error('console request failed', { error: e, path: req.url?.split('?')[0] });
      if (!res.headersSent) sendError(res, 500, 'internal', 'internal error; see the daemon log');
      else res.end();
    });
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    setSecurityHeaders(res, path);

    const host = checkHost(req.headers.host, port);
    if (!host.ok) {
      req.resume();
      sendHtml(res, 403, host.loopbackIp ? useLocalhostPage(origin) : FORBIDDEN_HOST_PAGE);
      return;
    }
    // No CORS at all: a preflight is never granted, so no other origin can send JSON or headers.
    if (req.method === 'OPTIONS') {
      req.resume();
      sendError(res, 403, 'forbidden', 'cross-origin requests are not allowed');
      return;
    }

    if (VIEWER_PATHS.has(path)) {
      req.resume();
      if (req.method !== 'GET') return sendError(res, 405, 'bad_request', 'the viewer endpoints are read-only (GET)');
      if (!viewerOriginAllowed(req, origin))
        return sendError(res, 403, 'forbidden', 'this origin may not use the viewer');
      if (!viewers.valid(req.headers.authorization)) {
        res.setHeader('www-authenticate', 'Bearer realm="briefcase-viewer"');
        return sendError(res, 401, 'unauthorized', 'a valid viewer token is required (they last 10 minutes)');
      }
      return sendJson(res, 200, await viewerAnswer(path, o.backend, origin));
    }

    if (!path.startsWith('/api/')) {
      req.resume();
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return sendError(res, 405, 'bad_request', 'method not allowed');
      return serveStatic(res, root, path, req.method === 'HEAD');
    }

    await api(req, res, path, query);
  };

  const api = async (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) => {
    if (crossSiteFetch(req) || foreignOrigin(req, origin)) {
      req.resume();
      return sendError(res, 403, 'forbidden', 'requests from other sites are refused');
    }
    const m = matchRoute(req.method ?? 'GET', path);
    if (!m) {
      req.resume();
      return sendError(res, 404, 'not_found', 'no such endpoint');
    }
    if ('allowed' in m) {
      req.resume();
      res.setHeader('allow', m.allowed.join(', '));
      return sendError(res, 405, 'bad_request', 'method not allowed');
    }
    let session = store.get(cookieValue(req.headers.cookie));
    if (!session) {
      // Only GET /api/session hands out a (anonymous) session; everything else needs one already.
      if (m.route.pattern !== '/api/session') {
        req.resume();
        return sendError(res, 401, 'unauthorized', 'no console session; reload the page');
      }
      session = store.create();
    }
    if (req.method !== 'GET') {
      // Origin must be present and ours (checked above when present); the CSRF token comes from
      // GET /api/session, which only a same-origin script can read.
      const csrf = req.headers['x-briefcase-csrf'];
      if (req.headers.origin !== origin || typeof csrf !== 'string' || !sameSecret(csrf, session.csrf)) {
        req.resume();
        return sendError(res, 403, 'forbidden', 'missing or wrong Origin or CSRF token; reload the page');
      }
    }
    if (!allowed(m.route.access, session)) {
      req.resume();
      return sendError(res, 401, 'unauthorized', SIGNED_IN_ONLY);
    }
    store.touch(session);
    res.setHeader('set-cookie', cookieHeader(session, store.secondsLeft(session)));
    try {
      const body = req.method === 'GET' ? (req.resume(), {}) : await readJsonBody(req);
      const ctx: RouteContext = {
        req,
        res,
        session,
        params: m.params,
        query,
        body,
        origin,
        backend: o.backend,
        store,
        streams,
        attempts,
      };
      const out = await m.route.handle(ctx);
      if (out !== undefined) sendJson(res, 200, out);
    } catch (e) {
      const { wire, internal } = toWireError(e);
      if (internal) o.logger?.error('console backend call failed', { error: e, path });
      else if (wire.status >= 400) o.logger?.info('console request refused', { path, code: wire.code });
      if (!res.headersSent) sendError(res, wire.status, wire.code, wire.message);
      else res.end();
    }
  };

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(o.port, host, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  port = (server.address() as AddressInfo).port;
  origin = `http://localhost:${port}`;
  o.logger?.info('console listening', { url: origin });

  return {
    url: origin,
    port,
    server,
    mintViewerSession: (ttl?: number) => viewers.mint(ttl),
    close: async () => {
      store.endAll();
      viewers.clear();
      for (const s of streams) s.end();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function allowed(access: 'any' | 'enrolling' | 'signed_in', s: Session): boolean {
  if (access === 'any') return true;
  if (access === 'enrolling') return s.state === 'enrolling' || s.state === 'signed_in';
  return s.state === 'signed_in';
}

export { ConsoleHttpError };
