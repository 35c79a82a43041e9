import { existsSync, readFileSync } from 'node:fs';
import { DaemonConnection, DaemonError, type PendingOperation } from '@briefcase/api-client';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { cliCommand, homeArgsFor } from '@briefcase/protocol/invocation';
import type { DataPaths } from '@briefcase/briefcased/paths';
import { warn } from './output.ts';

/**
 * The CLI's admin line to the daemon over its Unix socket. A change that needs a passkey
 * (presence_required) is started by the daemon; the CLI prints the console link and, when it runs
 * in a terminal (or with BRIEFCASE_WAIT=1), waits for the person to confirm it there and then
 * prints the result as if the change had run at once. Otherwise it exits with the link.
 */
export class AdminClient {
  readonly #conn: DaemonConnection;
  readonly #wait: boolean;
  readonly #home: string;

  constructor(paths: DataPaths, options: { waitForPresence?: boolean } = {}) {
    if (!existsSync(paths.adminToken)) {
      throw new BriefcaseError(
        'invalid_config',
        `${paths.home} is not initialised: run \`${cliCommand(...homeArgsFor(paths.home), 'init')}\``,
      );
    }
    this.#home = paths.home;
    this.#conn = new DaemonConnection(paths.socket, readFileSync(paths.adminToken, 'utf8').trim());
    this.#wait =
      options.waitForPresence ??
      (process.env.BRIEFCASE_WAIT === '1' || (process.env.BRIEFCASE_WAIT !== '0' && process.stdin.isTTY === true));
  }

  /** `briefcase ARGS…` for this client's data directory, as a command that works here (for messages). */
  command(...args: string[]): string {
    return cliCommand(...homeArgsFor(this.#home), ...args);
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.#conn.request('GET', path) as Promise<T>;
  }
  post<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.#guarded(this.#conn.request('POST', path, body ?? {})) as Promise<T>;
  }
  put<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.#guarded(this.#conn.request('PUT', path, body)) as Promise<T>;
  }
  delete<T = unknown>(path: string): Promise<T> {
    return this.#guarded(this.#conn.request('DELETE', path)) as Promise<T>;
  }

  async #guarded(request: Promise<unknown>): Promise<unknown> {
    try {
      return await request;
    } catch (e) {
      if (!(e instanceof DaemonError) || e.code !== 'presence_required' || !e.operation || !this.#wait) throw e;
      return this.#waitFor(e.operation);
    }
  }

  /** Poll the operation until the person confirms or rejects it, or it expires. */
  async #waitFor(op: PendingOperation): Promise<unknown> {
    warn(`This change needs your passkey: ${op.summary}.`);
    warn(`Confirm it in the console: ${op.url ?? '(the console is not running)'}`);
    warn(`Waiting (Ctrl-C stops waiting; the change stays pending until ${op.expires_at})…`);
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      const now = (await this.#conn.request('GET', `/v1/admin/operations/${op.id}`)) as {
        status: string;
        result?: unknown;
        error?: string;
      };
      if (now.status === 'pending') continue;
      if (now.status === 'confirmed') return now.result;
      if (now.status === 'failed')
        throw new BriefcaseError('conflict', `confirmed, but it failed: ${now.error ?? 'unknown error'}`);
      throw new BriefcaseError('presence_refused', `the change was ${now.status} in the console; nothing changed`);
    }
  }

  /** Raw text (the receipts export stream). */
  text(path: string): Promise<string> {
    return this.#conn.request('GET', path, undefined, { raw: true }) as Promise<string>;
  }
}
