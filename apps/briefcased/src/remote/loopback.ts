import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

export interface LoopbackListener {
  redirectUrl: string;
  /** The `state` sent in the authorization request: only a callback carrying it is accepted. */
  expectState(state: string): void;
  /** Resolves with the first callback carrying the expected state, or rejects after `ms`. */
  wait(ms: number): Promise<URLSearchParams>;
  close(): void;
}

/** Constant-time comparison (both sides hashed first, so lengths do not leak either). */
function sameState(expected: string | undefined, got: string | null): boolean {
  if (expected === undefined || got === null) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(got).digest();
  return timingSafeEqual(a, b);
}

/**
 * The redirect target of a login (RFC 8252 §7.3): 127.0.0.1 on a random free port, closed once
 * the login is done. The browser lands here after the person approves at the authorization
 * server. Any local web page can send requests here too, so a callback counts only when it
 * carries the login's `state` (RFC 6749 §10.12); anything else gets 400 and the listener keeps
 * waiting until its timeout — a wrong guess can neither end nor take over the login.
 */
export function loopbackListener(): Promise<LoopbackListener> {
  let deliver: ((params: URLSearchParams) => void) | undefined;
  let expected: string | undefined;
  const received = new Promise<URLSearchParams>((resolve) => {
    deliver = resolve;
  });
  const server = createServer((req, res) => {
    // `URL.parse`: `new URL` throws on a target such as `http://[`, which ended the daemon.
    const url = URL.parse(req.url ?? '/', 'http://127.0.0.1');
    if (url?.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    if (req.method !== 'GET' || !sameState(expected, url.searchParams.get('state'))) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Briefcase: this is not the answer to a login in progress.');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Briefcase: authorization received. You can close this window.');
    deliver?.(url.searchParams);
    deliver = undefined;
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        redirectUrl: `http://127.0.0.1:${port}/callback`,
        expectState: (state) => {
          expected = state;
        },
        wait: (ms) =>
          Promise.race([
            received,
            new Promise<never>((_, rej) =>
              setTimeout(() => rej(new Error('no authorization callback in time')), ms).unref(),
            ),
          ]),
        close: () => {
          server.close();
          server.closeAllConnections();
        },
      });
    });
  });
}
