import { EventEmitter } from 'node:events';
import { sha256Hex } from '@briefcase/crypto';

/** The lists an agent sees; each has its own `notifications/<list>/list_changed`. */
export const AGENT_LISTS = ['tools', 'resources', 'prompts'] as const;
export type AgentList = (typeof AGENT_LISTS)[number];
export type ListVersions = Record<AgentList, string>;

/**
 * A version of each agent-visible list: the hash of what `tools/list` (`resources/list`,
 * `prompts/list`) answers now. The gateway long-polls it and tells its clients when one moved
 * (MCP 2025-11-25 server/tools §list-changed). A hash, not a counter: a change undone before
 * anyone looked is no change, and a daemon restart with the same tools moves nothing.
 */
export class ListVersionWatch {
  readonly #read: Record<AgentList, () => unknown>;
  readonly #changed = new EventEmitter();
  #current: ListVersions;
  #scheduled = false;

  constructor(read: Record<AgentList, () => unknown>) {
    this.#read = read;
    this.#changed.setMaxListeners(0);
    this.#current = this.#compute();
  }

  get current(): ListVersions {
    return this.#current;
  }

  /** Something may have changed: recompute once, after the current burst of changes. */
  touch(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const next = this.#compute();
      if (AGENT_LISTS.some((l) => next[l] !== this.#current[l])) {
        this.#current = next;
        this.#changed.emit('change');
      }
    });
  }

  /** Resolve with the versions once they differ from `seen` (or after `ms`, or on abort). */
  wait(seen: Partial<ListVersions>, ms: number, signal: AbortSignal): Promise<ListVersions> {
    const differs = () => AGENT_LISTS.some((l) => seen[l] !== undefined && seen[l] !== this.#current[l]);
    if (differs() || ms <= 0) return Promise.resolve(this.#current);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#changed.off('change', onChange);
        signal.removeEventListener('abort', done);
        resolve(this.#current);
      };
      const onChange = () => {
        if (differs()) done();
      };
      const timer = setTimeout(done, ms);
      this.#changed.on('change', onChange);
      signal.addEventListener('abort', done);
    });
  }

  #compute(): ListVersions {
    const out = {} as ListVersions;
    for (const l of AGENT_LISTS) out[l] = sha256Hex(JSON.stringify(this.#read[l]())).slice(0, 32);
    return out;
  }
}
