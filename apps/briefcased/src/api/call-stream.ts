import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { BriefcaseError, jsonDepthExceeds, ToolCallRequest, type ToolCallResponse } from '@briefcase/protocol';
import { CALL_STREAM_MAX_IN_FLIGHT, CALL_STREAM_PATHS, CALL_STREAM_PROTOCOL } from '@briefcase/protocol/api-paths';
import type { Services } from '../daemon.ts';
import { firewallText, WITHHELD_MESSAGE, type View } from './agent-view.ts';
import { ByteBuffer } from './byte-buffer.ts';
import { MAX_BODY_DEPTH } from './http.ts';
import type { Role } from './routes.ts';

/**
 * The call stream (issue 13, docs/api.md): one kept connection on which a client sends tool calls
 * as JSON lines and reads their progress and answers as JSON lines. It does what
 * `POST /v1/{agent,admin}/tools/call` with `Accept: application/x-ndjson` does, without HTTP's
 * request and response objects: measured on this project's 2-core VM, an HTTP round trip on a
 * kept-alive Unix socket cost ~270 µs of CPU across client and server against ~120 µs for a
 * JSON line each way (docs/benchmarks.md, "Issue 13, round 3").
 *
 * Opened by an HTTP Upgrade (`Upgrade: briefcase-calls/1`) on the daemon's sockets, with the same
 * credential as the call endpoint. The presented token is checked again for every call, so a
 * stream carries no authority a single request would not. Every line the daemon writes passes the
 * output firewall, whichever the role (both roles' call answers are firewalled over HTTP too).
 *
 * Client → daemon, one JSON object per line:
 *   {"id": 7, "call": {"tool": "echo", "args": {…}}, "traceparent"?: "00-…"}
 *   {"id": 7, "cancel": true}
 * Daemon → client:
 *   {"id": 7, "event": {"type": "progress" | "log", …}}   zero or more, before the answer
 *   {"id": 7, "response": {…ToolCallResponse}}          the answer
 *   {"id": 7, "error": {"code": "…", "message": "…"}}    a call that could not be made
 *   {"id": null, "error": {…}}                           the stream itself is broken; then it closes
 */

/** Room for the frame around a call body that may be `max_request_bytes` long. */
const FRAME_OVERHEAD_BYTES = 1024;

const streams = new WeakMap<Server, Set<Socket>>();
const REFUSED = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' } as const;

/** Answer call-stream upgrades on `server` (the daemon API server, server.ts). */
export function acceptCallStreams(
  server: Server,
  services: Services,
  authenticate: (header: string | undefined) => Role | null,
  fixedRole: Role | undefined,
): void {
  const open = new Set<Socket>();
  streams.set(server, open);
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const refuse = (status: keyof typeof REFUSED, error: BriefcaseError) => {
      const body = JSON.stringify({ error: { code: error.code, message: error.message } });
      const head = `HTTP/1.1 ${status} ${REFUSED[status]}\r\ncontent-type: application/json\r\n`;
      socket.write(`${head}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      // Closed once written, whether or not the peer ends its side: the server allows half-open
      // sockets and no longer tracks an upgraded one, so a peer that kept it open would hold its
      // descriptor and keep server.close() (the daemon's stop) waiting for ever.
      socket.destroySoon();
    };
    // Not `new URL`, which throws on a target such as `http://[` (server.ts).
    const path = URL.parse(req.url ?? '/', 'http://daemon')?.pathname ?? '(not a valid path)';
    const wanted: Role | undefined =
      path === CALL_STREAM_PATHS.agent ? 'agent' : path === CALL_STREAM_PATHS.admin ? 'admin' : undefined;
    if (req.method !== 'GET' || wanted === undefined || req.headers.upgrade !== CALL_STREAM_PROTOCOL) {
      return refuse(404, new BriefcaseError('not_found', `no upgrade to ${String(req.headers.upgrade)} at ${path}`));
    }
    const header = req.headers.authorization;
    const role = fixedRole ?? authenticate(header);
    if (!role) return refuse(401, new BriefcaseError('unauthorized', 'missing or invalid bearer token'));
    if (role !== wanted) {
      return refuse(403, new BriefcaseError('forbidden', `this endpoint needs the ${wanted} credential`));
    }
    // The token presented at the upgrade must still be that role's for each call (a rotation
    // ends the stream's authority at once). On the agent socket the connection is the credential.
    const stillValid = fixedRole ? () => true : () => authenticate(header) === role;
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${CALL_STREAM_PROTOCOL}\r\nconnection: Upgrade\r\n\r\n`);
    open.add(socket);
    services.apiConnections.callStreams++;
    socket.once('close', () => {
      open.delete(socket);
      services.apiConnections.callStreams--;
    });
    serveStream(socket, head, role, stillValid, services);
  });
}

/** End every open call stream of `server` (daemon shutdown: its in-flight calls are aborted). */
export function destroyCallStreams(server: Server): void {
  for (const socket of streams.get(server) ?? []) socket.destroy();
}

function serveStream(socket: Socket, head: Buffer, role: Role, stillValid: () => boolean, s: Services): void {
  const limit = s.config.limits.max_request_bytes + FRAME_OVERHEAD_BYTES;
  const view: View = {
    scrubber: s.scrubber,
    onWithheld: () => s.logger.warn('call stream: an answer was withheld, it carried a secret', { role }),
  };
  const inFlight = new Map<number, AbortController>();
  // The start of a line not yet ended (byte-buffer.ts: not kept as the chunks it came in).
  const pending = new ByteBuffer();
  let broken = false;

  const send = (id: number | null, key: 'event' | 'response' | 'error', payload: unknown) => {
    if (socket.destroyed) return;
    // The payload is firewalled on its own: the frame's id is ours, not the tool's, and a scrubber
    // that matched a number in it would break the framing.
    let text = firewallText(view, payload);
    if (text === undefined) {
      if (key === 'event') return; // a withheld progress or log line is dropped, as over HTTP
      const receipt = key === 'response' ? (payload as ToolCallResponse).receipt_id : undefined;
      text = JSON.stringify(
        key === 'response'
          ? { ok: false, receipt_id: receipt, error: { code: 'internal', message: WITHHELD_MESSAGE } }
          : { code: 'internal', message: WITHHELD_MESSAGE },
      );
    }
    // A client that does not read its answers stops being read (as HTTP stops parsing the next
    // request until the answer is taken): answers cannot pile up in the daemon's memory.
    if (!socket.write(`{"id":${id === null ? 'null' : id},"${key}":${text}}\n`) && !socket.isPaused()) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  };
  const fail = (error: BriefcaseError) => {
    if (broken) return;
    broken = true;
    send(null, 'error', { code: error.code, message: error.message });
    socket.destroySoon(); // as a refused upgrade: a peer that keeps its side open holds nothing
    for (const abort of inFlight.values()) abort.abort();
  };

  const onLine = (line: string) => {
    if (line.trim() === '') return;
    if (jsonDepthExceeds(line, MAX_BODY_DEPTH + 2)) {
      return fail(new BriefcaseError('bad_request', `a call nests deeper than ${MAX_BODY_DEPTH} levels`));
    }
    let frame: unknown;
    try {
      frame = JSON.parse(line);
    } catch (e) {
      return fail(new BriefcaseError('bad_request', `a line is not valid JSON: ${(e as Error).message}`));
    }
    const id = (frame as { id?: unknown } | null)?.id;
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame) || !isFrameId(id)) {
      return fail(
        new BriefcaseError('bad_request', 'every line must be an object with an integer "id" (0 to 2^53 − 1)'),
      );
    }
    const f = frame as { id: number; call?: unknown; cancel?: unknown; traceparent?: unknown };
    if (f.cancel === true) {
      inFlight.get(id)?.abort();
      return;
    }
    if (!stillValid())
      return fail(new BriefcaseError('unauthorized', 'the token this stream was opened with is no longer valid'));
    if (inFlight.has(id)) return send(id, 'error', { code: 'bad_request', message: `call ${id} is already in flight` });
    if (inFlight.size >= CALL_STREAM_MAX_IN_FLIGHT) {
      return send(id, 'error', {
        code: 'bad_request',
        message: `more than ${CALL_STREAM_MAX_IN_FLIGHT} calls in flight on one stream`,
      });
    }
    const parsed = ToolCallRequest.safeParse(f.call);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `call.${issue.path.join('.')}` : 'call';
      return send(id, 'error', { code: 'bad_request', message: `${where}: ${issue?.message ?? 'invalid'}` });
    }
    const tp = f.traceparent;
    const traceparent = typeof tp === 'string' && tp.length <= 128 ? tp : undefined;
    const abort = new AbortController();
    inFlight.set(id, abort);
    s.pipeline
      .call(parsed.data.tool, parsed.data.args, role, abort.signal, {
        onProgress: (p) => send(id, 'event', { type: 'progress', ...p }),
        onLog: (l) => send(id, 'event', { type: 'log', ...l }),
        traceparent,
      })
      .then(
        (response) => send(id, 'response', response),
        (e: unknown) => {
          if (!(e instanceof BriefcaseError)) s.logger.error('call stream: a call failed', { error: e });
          const error = e instanceof BriefcaseError ? e : new BriefcaseError('internal', 'internal error');
          send(id, 'error', { code: error.code, message: error.message });
        },
      )
      .finally(() => inFlight.delete(id));
  };

  const onData = (chunk: Buffer) => {
    if (broken) return;
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      const part = chunk.subarray(start, nl);
      const line = pending.take(part);
      start = nl + 1;
      if (line.length > limit) return fail(tooLarge(limit));
      onLine(line.toString('utf8'));
      if (broken) return;
    }
    if (start < chunk.length) {
      if (pending.length + chunk.length - start > limit) return fail(tooLarge(limit));
      pending.append(chunk.subarray(start));
    }
  };

  socket.setNoDelay(true);
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
  // The API server's sockets allow half-open connections: a client that has ended its side is gone.
  socket.on('end', () => socket.end());
  socket.once('close', () => {
    for (const abort of inFlight.values()) abort.abort();
  });
  if (head.length > 0) onData(head);
}

function tooLarge(limit: number): BriefcaseError {
  return new BriefcaseError('payload_too_large', `a line is over the ${limit}-byte limit`);
}

function isFrameId(id: unknown): id is number {
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0;
}
