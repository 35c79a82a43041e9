import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The console's one origin is http://localhost:PORT (WebAuthn needs the RP ID `localhost`), so
 * every check below compares against exact strings derived from the port, never a pattern.
 */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Set on every response, whatever its type (pages, JSON, errors, SSE, static files). */
export function setSecurityHeaders(res: ServerResponse, path: string): void {
  res.setHeader('content-security-policy', CSP);
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  // CORP stops another origin embedding our responses as no-cors images or scripts. The viewer
  // endpoints are fetched by the extension, which has host permissions; leave them out.
  if (!path.startsWith('/api/viewer/')) res.setHeader('cross-origin-resource-policy', 'same-origin');
  if (path.startsWith('/api/')) res.setHeader('cache-control', 'no-store');
}

export type HostVerdict = { ok: true } | { ok: false; loopbackIp: boolean };

/**
 * DNS rebinding: a hostile name that resolves to 127.0.0.1 still sends its own name in Host.
 * Only `localhost:PORT` is accepted. 127.0.0.1:PORT is refused too (with a page that says where
 * to go), because passkeys are bound to `localhost` and cookies must live on one origin.
 */
export function checkHost(host: string | undefined, port: number): HostVerdict {
  if (host === `localhost:${port}`) return { ok: true };
  const loopbackIp = host === `127.0.0.1:${port}` || host === `[::1]:${port}`;
  return { ok: false, loopbackIp };
}

/**
 * Fetch metadata (Sec-Fetch-Site) is sent by every current browser. A request another site
 * started (a link, a form, a fetch from a page on another loopback port) is refused on the API;
 * `none` is a typed address or a bookmark. Non-browser clients send no such header.
 */
export function crossSiteFetch(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

/** An Origin header that names another origin than the console's (absent is not "other"). */
export function foreignOrigin(req: IncomingMessage, origin: string): boolean {
  const o = req.headers.origin;
  return o !== undefined && o !== origin;
}

export function useLocalhostPage(origin: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Use ${origin}</title></head>
<body><main><h1>Open the console at ${origin}</h1>
<p>The Briefcase console answers only at <a href="${origin}/">${origin}</a>.
Passkeys are bound to the name <code>localhost</code>, and the console refuses other names and
addresses so that a web page cannot reach it through a rebound DNS name.</p></main></body></html>
`;
}

export const FORBIDDEN_HOST_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Forbidden</title></head>
<body><main><h1>Forbidden</h1><p>This host name is not the Briefcase console.</p></main></body></html>
`;
