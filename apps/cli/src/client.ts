import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { BriefcaseError } from '@briefcase/protocol';
import type { DataPaths } from '@briefcase/briefcased';

/** The CLI's admin line to the daemon over its Unix socket. */
export class AdminClient {
  readonly #paths: DataPaths;
  readonly #token: string;

  constructor(paths: DataPaths) {
    this.#paths = paths;
    if (!existsSync(paths.adminToken)) {
      throw new BriefcaseError('invalid_config', `${paths.home} is not initialised: run \`briefcase init\``);
    }
    this.#token = readFileSync(paths.adminToken, 'utf8').trim();
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.request('GET', path) as Promise<T>;
  }
  post<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.request('POST', path, body ?? {}) as Promise<T>;
  }
  put<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request('PUT', path, body) as Promise<T>;
  }
  delete<T = unknown>(path: string): Promise<T> {
    return this.request('DELETE', path) as Promise<T>;
  }

  /** Raw text (the receipts export stream). */
  text(path: string): Promise<string> {
    return this.request('GET', path, undefined, true) as Promise<string>;
  }

  request(method: string, path: string, body?: unknown, raw = false): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.#paths.socket,
          path,
          method,
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
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 500) >= 400) {
              let e: { code?: string; message?: string } | undefined;
              try {
                e = (JSON.parse(text) as { error?: typeof e }).error;
              } catch {
                e = undefined;
              }
              const code = (e?.code ?? 'internal') as ConstructorParameters<typeof BriefcaseError>[0];
              reject(new BriefcaseError(code, e?.message ?? `daemon answered HTTP ${res.statusCode}`));
              return;
            }
            if (raw) resolve(text);
            else {
              try {
                resolve(JSON.parse(text));
              } catch {
                reject(new BriefcaseError('internal', 'the daemon sent an unreadable answer'));
              }
            }
          });
        },
      );
      req.on('error', () =>
        reject(
          new BriefcaseError(
            'daemon_unreachable',
            `the Briefcase daemon is not running (no answer on ${this.#paths.socket}): start it with \`briefcase start\``,
          ),
        ),
      );
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
}
