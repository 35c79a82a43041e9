import { Agent, request } from 'node:http';
import { BriefcaseError, isErrorCode } from '@briefcase/protocol';

export interface RequestOptions {
  /** Return the body as text instead of parsing JSON (the receipts export stream). */
  raw?: boolean;
  signal?: AbortSignal;
}

/**
 * One bearer-token connection to the daemon API over its Unix socket (see docs/api.md), shared
 * by the gateway (agent token) and the CLI (admin token). Connections are kept alive. A daemon
 * that does not answer is `daemon_unreachable`; an error answer keeps the daemon's stable code.
 */
export class DaemonConnection {
  readonly #socket: string;
  readonly #token: string;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(socket: string, token: string) {
    this.#socket = socket;
    this.#token = token;
  }

  get socket(): string {
    return this.#socket;
  }

  close(): void {
    this.#agent.destroy();
  }

  request(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.#socket,
          path,
          method,
          agent: this.#agent,
          ...(options.signal ? { signal: options.signal } : {}),
          headers: {
            authorization: `Bearer ${this.#token}`,
            ...(payload !== undefined
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 500) >= 400) {
              reject(errorFrom(res.statusCode ?? 500, text));
              return;
            }
            if (options.raw) {
              resolve(text);
              return;
            }
            try {
              resolve(JSON.parse(text));
            } catch {
              reject(new BriefcaseError('internal', 'the Briefcase daemon sent an unreadable answer'));
            }
          });
        },
      );
      req.on('error', (e) => {
        if (e.name === 'AbortError') reject(e);
        else {
          reject(
            new BriefcaseError(
              'daemon_unreachable',
              `the Briefcase daemon is not running (no answer on ${this.#socket}): start it with \`briefcase start\``,
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

function errorFrom(status: number, text: string): BriefcaseError {
  let e: { code?: unknown; message?: unknown } | undefined;
  try {
    e = (JSON.parse(text) as { error?: typeof e }).error;
  } catch {
    e = undefined;
  }
  const code = isErrorCode(e?.code) ? e.code : 'internal';
  return new BriefcaseError(code, typeof e?.message === 'string' ? e.message : `daemon answered HTTP ${status}`);
}
