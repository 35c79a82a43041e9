import { existsSync, readFileSync } from 'node:fs';
import { DaemonConnection } from '@briefcase/api-client';
import { BriefcaseError } from '@briefcase/protocol/errors';
import type { DataPaths } from '@briefcase/briefcased/paths';

/** The CLI's admin line to the daemon over its Unix socket. */
export class AdminClient {
  readonly #conn: DaemonConnection;

  constructor(paths: DataPaths) {
    if (!existsSync(paths.adminToken)) {
      throw new BriefcaseError('invalid_config', `${paths.home} is not initialised: run \`briefcase init\``);
    }
    this.#conn = new DaemonConnection(paths.socket, readFileSync(paths.adminToken, 'utf8').trim());
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.#conn.request('GET', path) as Promise<T>;
  }
  post<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.#conn.request('POST', path, body ?? {}) as Promise<T>;
  }
  put<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.#conn.request('PUT', path, body) as Promise<T>;
  }
  delete<T = unknown>(path: string): Promise<T> {
    return this.#conn.request('DELETE', path) as Promise<T>;
  }

  /** Raw text (the receipts export stream). */
  text(path: string): Promise<string> {
    return this.#conn.request('GET', path, undefined, { raw: true }) as Promise<string>;
  }
}
