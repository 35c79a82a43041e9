import { createServer } from 'node:http';

export interface LoopbackListener {
  redirectUrl: string;
  /** Resolves with the callback's query parameters, or rejects after `ms`. */
  wait(ms: number): Promise<URLSearchParams>;
  close(): void;
}

/**
 * The redirect target of a login (RFC 8252 §7.3): 127.0.0.1 on a random free port, one callback,
 * then closed. The browser lands here after the person approves at the authorization server.
 */
export function loopbackListener(): Promise<LoopbackListener> {
  let deliver: ((params: URLSearchParams) => void) | undefined;
  const received = new Promise<URLSearchParams>((resolve) => {
    deliver = resolve;
  });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Briefcase: authorization received. You can close this window.');
    deliver?.(url.searchParams);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        redirectUrl: `http://127.0.0.1:${port}/callback`,
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
