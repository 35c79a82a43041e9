import type { Logger } from '@briefcase/telemetry';
import type { DaemonClient, ListVersions } from './daemon-client.ts';

/** One long poll lasts this long at most; the daemon answers earlier when a list moves. */
const POLL_MS = 25_000;
/** After a failed poll (daemon down), wait this long before the next. */
const RETRY_MS = 2_000;

/** An MCP session that can be told a list changed: the SDK's Server, or StdioMcpSession. */
export interface ListSubscriber {
  sendToolListChanged(): Promise<void>;
  sendResourceListChanged(): Promise<void>;
  sendPromptListChanged(): Promise<void>;
}
type Server = ListSubscriber;

const NOTIFY = {
  tools: (s: Server) => s.sendToolListChanged(),
  resources: (s: Server) => s.sendResourceListChanged(),
  prompts: (s: Server) => s.sendPromptListChanged(),
} as const;

/**
 * Tells every connected MCP session when the daemon's tools, resources or prompts change
 * (`notifications/*\/list_changed`). One long poll per gateway process, only while a session is
 * open: the gateway stays thin (no state but the last versions seen).
 */
export class ListWatch {
  readonly #client: DaemonClient;
  readonly #logger: Logger;
  readonly #servers = new Set<Server>();
  #running = false;
  #abort: AbortController | undefined;

  constructor(client: DaemonClient, logger: Logger) {
    this.#client = client;
    this.#logger = logger;
  }

  add(server: Server): void {
    this.#servers.add(server);
    if (!this.#running) void this.#loop();
  }

  remove(server: Server): void {
    this.#servers.delete(server);
    if (this.#servers.size === 0) this.#abort?.abort();
  }

  async #loop(): Promise<void> {
    this.#running = true;
    let seen: ListVersions | undefined;
    try {
      while (this.#servers.size > 0) {
        this.#abort = new AbortController();
        let now: ListVersions;
        try {
          now = await this.#client.listVersions(seen, seen ? POLL_MS : 0, this.#abort.signal);
        } catch (e) {
          if (this.#servers.size === 0) break;
          this.#logger.debug('list version poll failed; retrying', { error: e });
          await new Promise((r) => setTimeout(r, RETRY_MS).unref());
          continue;
        }
        if (seen) {
          for (const list of ['tools', 'resources', 'prompts'] as const) {
            if (now[list] === seen[list]) continue;
            for (const server of this.#servers) {
              // A session that is gone or not initialised yet does not want notifications.
              NOTIFY[list](server).catch(() => undefined);
            }
          }
        }
        seen = now;
      }
    } finally {
      this.#running = false;
      this.#abort = undefined;
    }
  }
}

const watches = new WeakMap<DaemonClient, ListWatch>();

/** One list watch per daemon connection, shared by every session of this gateway. */
export function listWatchFor(client: DaemonClient, logger: Logger): ListWatch {
  let w = watches.get(client);
  if (!w) watches.set(client, (w = new ListWatch(client, logger)));
  return w;
}
