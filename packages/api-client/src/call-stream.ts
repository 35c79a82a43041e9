import type { Socket } from 'node:net';
import { CALL_STREAM_MAX_IN_FLIGHT, CALL_STREAM_PATHS, CALL_STREAM_PROTOCOL } from '@briefcase/protocol/api-paths';
import { BriefcaseError, isErrorCode } from '@briefcase/protocol/errors';
import { DaemonError } from './connection.ts';

// As in connection.ts: not an ESM import of node:http, whose lazy getters load undici.
const { request } = process.getBuiltinModule('node:http');

/** `CallStream.call`'s answer when the daemon does not speak the stream: make the call over HTTP. */
export const NO_STREAM: unique symbol = Symbol('no call stream');

export interface StreamCallOptions {
  signal?: AbortSignal | undefined;
  traceparent?: string | undefined;
  /** Each progress or log event of the call, as the daemon sent it. */
  onEvent?: ((event: unknown) => void) | undefined;
}

interface Pending {
  resolve: (response: unknown) => void;
  reject: (error: Error) => void;
  onEvent: ((event: unknown) => void) | undefined;
}

/**
 * The client end of the daemon's call stream (apps/briefcased/src/api/call-stream.ts, docs/api.md):
 * tool calls as JSON lines on one kept connection, opened on first use with an HTTP Upgrade,
 * many calls in flight at once, each answered under its own id. Issue 13: an HTTP request per call
 * cost the gateway ~160 µs of CPU and the daemon ~105 µs; a line each way costs ~60 µs each.
 *
 * Whenever the stream cannot be had (a daemon that does not offer it, a refused credential, no
 * daemon at all) `call` answers `NO_STREAM` and the caller makes that call over HTTP, which then
 * reports the real problem with the daemon's own words.
 */
export class CallStream {
  readonly #socketPath: string;
  readonly #token: string | null;
  readonly #path: string;
  #socket: Socket | undefined;
  #opening: Promise<Socket | undefined> | undefined;
  /** The daemon answered the upgrade with 404: it has no stream; stop asking. */
  #unsupported = false;
  #nextId = 1;
  readonly #calls = new Map<number, Pending>();
  /** Calls holding one of the stream's in-flight places, and calls waiting for one. */
  #active = 0;
  readonly #waiting: Array<() => void> = [];
  /** Calls this side cancelled whose answer has not come: the daemon still counts them. */
  readonly #cancelled = new Set<number>();
  #buffer = '';

  constructor(socketPath: string, token: string | null, role: 'agent' | 'admin') {
    this.#socketPath = socketPath;
    this.#token = token;
    this.#path = CALL_STREAM_PATHS[role];
  }

  async call(body: { tool: string; args: Record<string, unknown> }, options: StreamCallOptions = {}) {
    const { signal } = options;
    signal?.throwIfAborted();
    // The daemon takes at most CALL_STREAM_MAX_IN_FLIGHT calls at once on a stream; more wait
    // here, in order (as they waited for a free connection in the HTTP agent before).
    await this.#slot(signal);
    // A cancelled call keeps its place until the daemon answers it (#onData), else the next call
    // would be sent while the daemon still counts 256 and be refused.
    const place = { kept: false };
    try {
      const socket = this.#socket ?? (await (this.#opening ??= this.#open()));
      if (!socket) return NO_STREAM;
      signal?.throwIfAborted();
      return await this.#send(socket, body, options, place);
    } finally {
      if (!place.kept) this.#release();
    }
  }

  #release(): void {
    this.#active--;
    this.#waiting.shift()?.();
  }

  #slot(signal: AbortSignal | undefined): Promise<void> {
    if (this.#active < CALL_STREAM_MAX_IN_FLIGHT) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#waiting.splice(this.#waiting.indexOf(take), 1);
        reject(abortError());
      };
      const take = () => {
        signal?.removeEventListener('abort', onAbort);
        this.#active++;
        resolve();
      };
      this.#waiting.push(take);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #send(
    socket: Socket,
    body: { tool: string; args: Record<string, unknown> },
    options: StreamCallOptions,
    place: { kept: boolean },
  ) {
    const { signal, traceparent, onEvent } = options;
    const id = this.#nextId++;
    const frame = { id, call: body, ...(traceparent ? { traceparent } : {}) };
    return new Promise<unknown>((resolve, reject) => {
      const onAbort = () => {
        if (!this.#calls.delete(id)) return;
        if (!socket.destroyed) {
          place.kept = true;
          this.#cancelled.add(id);
          socket.write(`{"id":${id},"cancel":true}\n`);
        }
        this.#idle(socket);
        reject(abortError());
      };
      const settle =
        <T>(f: (v: T) => void) =>
        (v: T) => {
          signal?.removeEventListener('abort', onAbort);
          f(v);
        };
      this.#calls.set(id, { resolve: settle(resolve), reject: settle(reject), onEvent });
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.ref();
      socket.write(`${JSON.stringify(frame)}\n`);
    });
  }

  close(): void {
    this.#socket?.destroy();
  }

  #open(): Promise<Socket | undefined> {
    if (this.#unsupported) return Promise.resolve(undefined);
    return new Promise<Socket | undefined>((resolve) => {
      const req = request({
        socketPath: this.#socketPath,
        path: this.#path,
        method: 'GET',
        agent: false,
        headers: {
          connection: 'Upgrade',
          upgrade: CALL_STREAM_PROTOCOL,
          ...(this.#token !== null ? { authorization: `Bearer ${this.#token}` } : {}),
        },
      });
      req.on('upgrade', (res, socket, head) => {
        if (res.headers.upgrade !== CALL_STREAM_PROTOCOL) {
          socket.destroy();
          return resolve(undefined);
        }
        this.#attach(socket, head);
        resolve(socket);
      });
      req.on('response', (res) => {
        res.resume();
        if (res.statusCode === 404) this.#unsupported = true;
        resolve(undefined);
      });
      req.on('error', () => resolve(undefined));
      req.end();
    }).finally(() => {
      this.#opening = undefined;
    });
  }

  #attach(socket: Socket, head: Buffer): void {
    this.#socket = socket;
    this.#buffer = '';
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#onData(socket, chunk));
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      if (this.#socket === socket) this.#socket = undefined;
      // The cancelled calls' answers will not come; the daemon has dropped them with the stream.
      for (const _ of this.#cancelled) this.#release();
      this.#cancelled.clear();
      this.#failAll(
        new BriefcaseError('daemon_unreachable', 'the Briefcase daemon closed the connection during the call'),
      );
    });
    if (head.length > 0) this.#onData(socket, head.toString('utf8'));
    this.#idle(socket);
  }

  #onData(socket: Socket, chunk: string): void {
    this.#buffer += chunk;
    for (let nl = this.#buffer.indexOf('\n'); nl >= 0; nl = this.#buffer.indexOf('\n')) {
      const line = this.#buffer.slice(0, nl);
      this.#buffer = this.#buffer.slice(nl + 1);
      let frame: { id?: unknown; event?: unknown; response?: unknown; error?: { code?: unknown; message?: unknown } };
      try {
        frame = JSON.parse(line) as typeof frame;
      } catch {
        this.#failAll(new BriefcaseError('internal', 'the Briefcase daemon sent an unreadable answer'));
        socket.destroy();
        return;
      }
      if (frame.id === null && frame.error) {
        this.#failAll(daemonError(frame.error));
        socket.destroy();
        return;
      }
      const pending = typeof frame.id === 'number' ? this.#calls.get(frame.id) : undefined;
      if (!pending) {
        // A call this side cancelled: its answer gives its place back.
        if (!('event' in frame) && this.#cancelled.delete(frame.id as number)) this.#release();
        continue;
      }
      if ('event' in frame) {
        pending.onEvent?.(frame.event);
        continue;
      }
      this.#calls.delete(frame.id as number);
      if (frame.error) pending.reject(daemonError(frame.error));
      else pending.resolve(frame.response);
      this.#idle(socket);
    }
  }

  /** An idle stream does not keep the process alive (as a free kept-alive HTTP socket does not). */
  #idle(socket: Socket): void {
    if (this.#calls.size === 0) socket.unref();
  }

  #failAll(error: Error): void {
    const calls = [...this.#calls.values()];
    this.#calls.clear();
    for (const c of calls) c.reject(error);
  }
}

function daemonError(e: { code?: unknown; message?: unknown }): BriefcaseError {
  return new DaemonError(
    isErrorCode(e.code) ? e.code : 'internal',
    typeof e.message === 'string' ? e.message : 'the Briefcase daemon refused the call',
  );
}

function abortError(): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
}
