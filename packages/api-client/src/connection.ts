import type { Agent as HttpAgent } from 'node:http';
import { BriefcaseError, isErrorCode } from '@briefcase/protocol/errors';
import { cliCommand, homeArgsFor, homeOfSocket } from '@briefcase/protocol/invocation';

// Not `import … from 'node:http'`: an ESM import of node:http reads every export, and its lazy
// getters load undici (fetch, http2, TLS, zlib): about a third of a CLI command's start-up time.
const { Agent, request } = process.getBuiltinModule('node:http');

export interface RequestOptions {
  /** Return the body as text instead of parsing JSON (the receipts export stream). */
  raw?: boolean;
  signal?: AbortSignal;
  /** Extra request headers (the gateway's W3C `traceparent`). */
  headers?: Record<string, string>;
}

/**
 * One bearer-token connection to the daemon API over its Unix socket (see docs/api.md), shared
 * by the gateway (agent token) and the CLI (admin token). Connections are kept alive. A daemon
 * that does not answer is `daemon_unreachable`; an error answer keeps the daemon's stable code.
 */
export class DaemonConnection {
  readonly #socket: string;
  /** null on the agent socket, where the socket's group is the credential (docs/service.md). */
  readonly #token: string | null;
  readonly #agent: HttpAgent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(socket: string, token: string | null) {
    this.#socket = socket;
    this.#token = token;
  }

  get socket(): string {
    return this.#socket;
  }

  close(): void {
    this.#agent.destroy();
  }

  /**
   * A request whose answer is JSON Lines (`application/x-ndjson`): every line but the last goes
   * to `onLine` as it arrives; the promise resolves with the last line.
   */
  stream(
    method: string,
    path: string,
    body: unknown,
    onLine: (line: unknown) => void,
    options: Omit<RequestOptions, 'raw'> = {},
  ): Promise<unknown> {
    let buffer = '';
    let last: unknown;
    const take = (line: string) => {
      if (line.trim() === '') return;
      if (last !== undefined) onLine(last);
      last = JSON.parse(line);
    };
    return this.#send(method, path, body, options, 'application/x-ndjson', (chunk) => {
      buffer += chunk;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        take(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
      }
    }).then(() => {
      take(buffer);
      if (last === undefined) throw new BriefcaseError('internal', 'the Briefcase daemon sent an empty answer');
      return last;
    });
  }

  request(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<unknown> {
    let text = '';
    return this.#send(method, path, body, options, 'application/json', (chunk) => {
      text += chunk;
    }).then(() => {
      if (options.raw) return text;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new BriefcaseError('internal', 'the Briefcase daemon sent an unreadable answer');
      }
    });
  }

  #send(
    method: string,
    path: string,
    body: unknown,
    { signal, headers }: Omit<RequestOptions, 'raw'>,
    accept: string,
    onData: (chunk: string) => void,
  ): Promise<void> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.#socket,
          path,
          method,
          agent: this.#agent,
          ...(signal ? { signal } : {}),
          headers: {
            ...headers,
            ...(this.#token !== null ? { authorization: `Bearer ${this.#token}` } : {}),
            accept,
            ...(payload !== undefined
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
              : {}),
          },
        },
        (res) => {
          const failed = (res.statusCode ?? 500) >= 400;
          const chunks: Buffer[] = [];
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            if (failed) chunks.push(Buffer.from(c));
            else {
              try {
                onData(c);
              } catch (e) {
                res.destroy();
                reject(e);
              }
            }
          });
          res.on('error', reject);
          res.on('end', () => {
            if (failed) reject(errorFrom(res.statusCode ?? 500, Buffer.concat(chunks).toString('utf8')));
            else resolve();
          });
        },
      );
      req.on('error', (e) => {
        if (e.name === 'AbortError') reject(e);
        else {
          reject(
            new BriefcaseError(
              'daemon_unreachable',
              `the Briefcase daemon is not running (no answer on ${this.#socket}): ${startAdvice(this.#socket)}`,
              e.message,
            ),
          );
        }
      });
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
}

/** How to start the daemon behind `socket`, as a command that works where it is printed. */
export function startAdvice(socket: string): string {
  const home = homeOfSocket(socket);
  if (home === undefined) return 'start the Briefcase service (`systemctl status briefcase` says why it stopped)';
  return `start it with \`${cliCommand(...homeArgsFor(home), 'start', '--detach')}\``;
}

/** A guarded change the daemon holds until a person confirms it with a passkey (issue 9). */
export interface PendingOperation {
  id: string;
  kind: string;
  summary: string;
  expires_at: string;
  url: string | null;
}

/** An error answer; `operation` is set on presence_required. */
export class DaemonError extends BriefcaseError {
  readonly operation: PendingOperation | undefined;
  constructor(code: BriefcaseError['code'], message: string, operation?: PendingOperation) {
    super(code, message);
    this.operation = operation;
  }
}

function errorFrom(status: number, text: string): BriefcaseError {
  let body: { error?: { code?: unknown; message?: unknown }; operation?: PendingOperation } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  const e = body?.error;
  const code = isErrorCode(e?.code) ? e.code : 'internal';
  const operation = body?.operation && typeof body.operation.id === 'string' ? body.operation : undefined;
  return new DaemonError(
    code,
    typeof e?.message === 'string' ? e.message : `daemon answered HTTP ${status}`,
    operation,
  );
}
