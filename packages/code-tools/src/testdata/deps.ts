import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostDeps } from '../host.ts';

export const SECRET = 'sk_test_9fQ2xLm7Zp4RtW8vKc3N';

/** Host dependencies for unit tests: plain fetch stands in for the daemon's checkedFetch. */
export function testDeps(over: Partial<HostDeps> = {}): Omit<HostDeps, 'access' | 'kv'> & { logs: unknown[] } {
  const logs: unknown[] = [];
  return {
    secret: (name) => {
      if (name !== 'api_key') throw new Error(`no secret ${name}`);
      return SECRET;
    },
    scrub: (t) => t.split(SECRET).join('[redacted]'),
    fetch: (url, init) => {
      const { rules: _rules, ...rest } = init;
      return fetch(url, rest);
    },
    signal: new AbortController().signal,
    onLog: (e) => logs.push(e.data),
    logs,
    ...over,
  };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'code-tools-'));
}

/** A local upstream that echoes the request's Authorization header back (the worst case). */
export async function echoServer(): Promise<{ server: Server; port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization ?? '');
    res.writeHead(200, { 'content-type': 'application/json', 'x-echo': req.headers.authorization ?? '' });
    res.end(JSON.stringify({ path: req.url, authorization: req.headers.authorization ?? null }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, seen };
}
