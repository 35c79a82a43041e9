import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { pinnedLookup } from './connect.ts';
import { pooledAgent } from './pool.ts';
import { checkTarget, EgressViolation, resolveAllChecked, type EgressRules, type Lookup } from './rules.ts';

export interface CheckedFetchInit extends RequestInit {
  rules: EgressRules;
  /** Redirects followed (each hop checked); default 5. */
  maxRedirects?: number;
  /** A resolver for tests; the system resolver otherwise. */
  lookup?: Lookup;
  /** Extra trust anchors for https (a private CA, a test's certificate); the system's otherwise. */
  ca?: string;
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * fetch for the daemon's own requests. Every hop is checked against `rules` (a name is resolved
 * once, every address checked, and the connection goes to a checked address: node:http with a
 * pinned `lookup`, since the global fetch (undici) takes no lookup hook without the undici
 * package). Connections are kept alive in pools keyed by the checked addresses (pool.ts). Redirects are followed by hand, at most `maxRedirects`, each target checked again;
 * the credentials of a request (Authorization, Cookie, DPoP) are not carried to another origin.
 * With `redirect: 'manual'` the redirect is returned, but a redirect whose target the rules
 * refuse is a violation all the same: a server that tries to send us elsewhere is reported.
 */
export async function checkedFetch(input: string | URL | Request, init: CheckedFetchInit): Promise<Response> {
  const { rules, maxRedirects = 5, lookup, ca, ...rest } = init;
  const stream = typeof ReadableStream !== 'undefined' && rest.body instanceof ReadableStream;
  // The Request constructor normalises method, headers and body (and sets a body's content type).
  const request = new Request(input, { ...rest, ...(stream ? { duplex: 'half' } : {}) } as RequestInit);
  const headers = new Headers(request.headers);
  let method = request.method;
  let body = request.body ? new Uint8Array(await request.arrayBuffer()) : undefined;
  let url = new URL(request.url);
  const signal = rest.signal ?? undefined;
  for (let hop = 0; ; hop++) {
    const response = await once(url, method, headers, body, signal, rules, lookup, ca);
    const location = REDIRECT.has(response.status) ? response.headers.get('location') : null;
    let next: URL | undefined;
    try {
      next = location === null ? undefined : new URL(location, url);
    } catch {
      next = undefined;
    }
    if (!next) return finish(response, url, hop > 0);
    if (request.redirect === 'manual') {
      if (next.protocol === 'http:' || next.protocol === 'https:') {
        const to = target(next);
        const check = checkTarget(to.host, to.port, rules);
        if (!check.ok) {
          await response.body?.cancel();
          throw new EgressViolation(to.host, to.port, `a redirect to it: ${check.reason}`);
        }
      }
      return finish(response, url, hop > 0);
    }
    await response.body?.cancel();
    if (request.redirect === 'error') throw new TypeError('fetch failed: a redirect with redirect: "error"');
    if (hop >= maxRedirects) throw new TypeError(`fetch failed: more than ${maxRedirects} redirects`);
    if (
      (response.status === 303 && method !== 'GET' && method !== 'HEAD') ||
      (response.status <= 302 && method === 'POST')
    ) {
      method = 'GET';
      body = undefined;
      for (const h of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) {
        headers.delete(h);
      }
    }
    if (next.origin !== url.origin) {
      for (const h of ['authorization', 'cookie', 'proxy-authorization', 'dpop']) headers.delete(h);
    }
    url = next;
  }
}

function target(url: URL): { host: string; port: number } {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { host, port };
}

function finish(response: Response, url: URL, redirected: boolean): Response {
  Object.defineProperty(response, 'url', { value: url.href });
  Object.defineProperty(response, 'redirected', { value: redirected });
  return response;
}

async function once(
  url: URL,
  method: string,
  headers: Headers,
  body: Uint8Array | undefined,
  signal: AbortSignal | undefined,
  rules: EgressRules,
  lookup: Lookup | undefined,
  ca: string | undefined,
): Promise<Response> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TypeError(`fetch failed: ${url.protocol} is not http(s)`);
  if (url.username || url.password) throw new TypeError('fetch failed: a URL with credentials');
  const { host, port } = target(url);
  const addresses = await resolveAllChecked(host, port, rules, lookup ? { lookup } : {});
  signal?.throwIfAborted();
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = value;
  });
  out.host = url.host;
  // What fetch would send by default (some APIs refuse a request without a User-Agent).
  out['user-agent'] ??= 'Briefcase';
  out.accept ??= '*/*';
  if (body) out['content-length'] = String(body.byteLength);
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<Response>((resolve, reject) => {
    const abort = () => req.destroy(signal?.reason as Error);
    const req = transport.request(
      {
        host,
        port,
        method,
        path: `${url.pathname}${url.search}`,
        headers: out,
        lookup: pinnedLookup(addresses),
        agent: pooledAgent(url.protocol as 'http:' | 'https:', host, port, addresses, ca),
        ...(ca ? { ca } : {}),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 599) {
          res.destroy();
          reject(new TypeError(`fetch failed: status ${status}`));
          return;
        }
        res.once('close', () => signal?.removeEventListener('abort', abort));
        const responseHeaders = new Headers();
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          try {
            responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          } catch {
            // A header value fetch cannot carry is dropped, as undici does.
          }
        }
        const empty = method === 'HEAD' || NULL_BODY.has(status);
        if (empty) res.resume();
        const stream = empty ? null : (Readable.toWeb(decoded(res)) as ReadableStream<Uint8Array>);
        resolve(new Response(stream, { status, statusText: res.statusMessage ?? '', headers: responseHeaders }));
      },
    );
    signal?.addEventListener('abort', abort, { once: true });
    req.once('error', (e) => {
      signal?.removeEventListener('abort', abort);
      reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: e }));
    });
    req.end(body);
  });
}

/** fetch decodes a content coding it did not ask for, too (RFC 9110 §8.4). */
function decoded(res: http.IncomingMessage): Readable {
  const coding = String(res.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  const decoder =
    coding === 'gzip' || coding === 'x-gzip'
      ? zlib.createGunzip()
      : coding === 'deflate'
        ? zlib.createInflate()
        : coding === 'br'
          ? zlib.createBrotliDecompress()
          : null;
  if (!decoder) return res;
  res.on('error', (e) => decoder.destroy(e));
  return res.pipe(decoder);
}
