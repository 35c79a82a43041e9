import { chmod } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { pinnedLookup } from './connect.ts';
import { EgressViolation, resolveAllChecked, type EgressRules, type Lookup } from './rules.ts';

export interface EgressProxyOptions {
  listen: { path: string } | { host: '127.0.0.1'; port: number };
  rules: EgressRules;
  onViolation(v: EgressViolation): void;
  /** A resolver for tests; the system resolver otherwise. */
  lookup?: Lookup;
  /** Tunnels and plain requests open at once (default 64); more are answered 503. */
  maxConnections?: number;
  /** A tunnel or request with no traffic for this long is closed (default 120 s). */
  idleMs?: number;
}

export interface EgressProxy {
  /** `http://127.0.0.1:PORT`, or `http+unix://<percent-encoded path>` for a Unix socket. */
  url: string;
  socketPath?: string;
  close(): Promise<void>;
}

/** RFC 9110 §7.6.1 hop-by-hop fields, and the proxy's own credentials, which never go upstream. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * A forward proxy that enforces `rules` on every request: HTTP CONNECT (TLS tunnels; the proxy
 * never sees inside) and absolute-form plain HTTP. A target is checked, resolved once, every
 * address checked, and the connection made to a checked address. A refusal is a 403 whose body
 * gives the reason, and `onViolation` hears of it. Redirects are passed to the client untouched:
 * following one is the client's next request, checked like any other. The daemon's own Unix
 * socket cannot even be named: a CONNECT target is `host:port`, and plain HTTP names a host.
 */
export async function startEgressProxy(o: EgressProxyOptions): Promise<EgressProxy> {
  const max = o.maxConnections ?? 64;
  const idleMs = o.idleMs ?? 120_000;
  const resolveOptions = o.lookup ? { lookup: o.lookup } : {};
  const sockets = new Set<Duplex>();
  let active = 0;

  const refuse = (v: unknown, reply: (status: number, text: string) => void): void => {
    if (v instanceof EgressViolation) {
      reply(403, `egress refused: ${v.reason}\n`);
      try {
        o.onViolation(v);
      } catch {
        // A listener's failure is not the client's business.
      }
    } else {
      reply(502, 'the target could not be reached\n');
    }
  };

  const server = http.createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 0, headersTimeout: 15_000 });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setTimeout(idleMs, () => socket.destroy());
  });

  server.on('connect', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    const reply = (status: number, text: string) => {
      if (client.writable) {
        client.end(
          `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
        );
      }
    };
    client.on('error', () => client.destroy());
    const authority = parseAuthority(req.url ?? '');
    if (!authority) return reply(400, 'a CONNECT target is host:port\n');
    if (active >= max) return reply(503, 'too many connections\n');
    active++;
    client.once('close', () => active--);
    resolveAllChecked(authority.host, authority.port, o.rules, resolveOptions).then(
      (addresses) => {
        if (client.destroyed) return;
        const upstream = net.connect({
          host: authority.host,
          port: authority.port,
          lookup: pinnedLookup(addresses),
        });
        sockets.add(upstream);
        upstream.setTimeout(idleMs, () => upstream.destroy());
        const connected = () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          if (head.length > 0) upstream.write(head);
          upstream.pipe(client);
          client.pipe(upstream);
        };
        upstream.once('connect', connected);
        upstream.once('error', () => {
          if (upstream.listenerCount('connect') > 0) reply(502, 'the target could not be reached\n');
          else client.destroy();
        });
        upstream.once('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        client.once('close', () => upstream.destroy());
      },
      (e: unknown) => refuse(e, reply),
    );
  });

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const reply = (status: number, text: string) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' }).end(text);
    };
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      return reply(400, 'a proxy request names an absolute http:// URL\n');
    }
    if (url.protocol !== 'http:') return reply(400, 'only http:// is proxied as a request; use CONNECT for https\n');
    if (url.username || url.password) return reply(400, 'a URL with credentials is not proxied\n');
    if (active >= max) return reply(503, 'too many connections\n');
    active++;
    res.once('close', () => active--);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port ? Number(url.port) : 80;
    resolveAllChecked(host, port, o.rules, resolveOptions).then(
      (addresses) => {
        if (res.destroyed) return;
        const upstream = http.request({
          host,
          port,
          method: req.method,
          path: `${url.pathname}${url.search}`,
          headers: forwardHeaders(req.rawHeaders, url.host),
          lookup: pinnedLookup(addresses),
          agent: false,
          setHost: false,
        });
        upstream.setTimeout(idleMs, () => upstream.destroy());
        upstream.once('response', (answer) => {
          const headers = forwardHeaders(answer.rawHeaders);
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
          answer.pipe(res);
          answer.once('error', () => res.destroy());
        });
        upstream.once('error', () => reply(502, 'the target could not be reached\n'));
        res.once('close', () => upstream.destroy());
        req.pipe(upstream);
      },
      (e: unknown) => refuse(e, reply),
    );
  });

  // WebSocket and other upgrades over plain HTTP are not proxied (wss:// goes through CONNECT).
  server.on('upgrade', (_req: http.IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    socket.end('HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  // Garbage on the wire: a 400 where the socket can still take one, then close.
  server.on('clientError', (_err: Error, socket: Duplex) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const listen = o.listen;
  if ('path' in listen) {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.path, () => resolve());
    });
    await chmod(listen.path, 0o600);
  } else {
    if (listen.host !== '127.0.0.1') throw new Error('the egress proxy listens on 127.0.0.1 or a Unix socket only');
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, '127.0.0.1', () => resolve());
    });
  }
  const address = server.address();
  const url =
    'path' in listen
      ? `http+unix://${encodeURIComponent(listen.path)}`
      : `http://127.0.0.1:${(address as net.AddressInfo).port}`;
  return {
    url,
    ...('path' in listen ? { socketPath: listen.path } : {}),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** `host:port` or `[v6]:port` (RFC 9110 §9.3.6 authority-form); a port is required. */
function parseAuthority(text: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9A-Fa-f:.%a-zA-Z]+)\]|([^:[\]/@\s]+)):([0-9]{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65_535) return null;
  return { host: m[1] ?? m[2]!, port };
}

/** Headers without hop-by-hop fields (and those `Connection` names) or proxy credentials. */
function forwardHeaders(raw: string[], host?: string): Record<string, string | string[]> {
  const named = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') {
      for (const token of raw[i + 1]!.split(',')) named.add(token.trim().toLowerCase());
    }
  }
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || named.has(name) || (host !== undefined && name === 'host')) continue;
    const value = raw[i + 1]!;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  if (host !== undefined) out.host = host;
  return out;
}
