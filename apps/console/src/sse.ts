import type { ServerResponse } from 'node:http';
import type { ConsoleBackend, ConsoleEvent } from './backend.ts';
import type { Session, SessionStore } from './sessions.ts';

export const HEARTBEAT_MS = 15_000;

/**
 * Live changes for the page (approvals, operations, passkeys) as Server-Sent Events. The stream
 * carries ids and statuses only; the page fetches the details through the ordinary API. It ends
 * when the session ends (sign-out, expiry) or the console closes.
 */
export function openEventStream(
  res: ServerResponse,
  session: Session,
  store: SessionStore,
  backend: ConsoleBackend,
  streams: Set<ServerResponse>,
): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(': connected\n\n');
  streams.add(res);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearInterval(heartbeat);
    session.onEnd.delete(close);
    streams.delete(res);
    res.end();
  };
  const unsubscribe = backend.subscribe((event: ConsoleEvent) => {
    if (!closed) res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  });
  const heartbeat = setInterval(() => {
    // An idle page keeps no session alive: the stream checks the deadline, it does not slide it.
    if (!store.get(session.id)) close();
    else res.write(': heartbeat\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();
  session.onEnd.add(close);
  res.on('close', close);
}
