import type { ReceiptLog } from '@briefcase/receipts/node';
import type { Logger } from '@briefcase/telemetry';
import type { ToolOwner, ToolRegistry } from '../tools/registry.ts';
import {
  catalogPinServer,
  getPromptTool,
  pinKey,
  promptView,
  readResourceTool,
  resourceView,
  reviewCatalog,
  type CatalogItem,
} from './catalog.ts';
import { RemoteCatalogTool } from './catalog-tool.ts';
import type { PinStore } from './pins.ts';
import type { RemoteServer } from './remote-server.ts';
import type { ReviewState } from './review.ts';
import { cli } from '../cli-hint.ts';

export interface CatalogReviewDeps {
  registry: ToolRegistry;
  pins: PinStore;
  receipts: ReceiptLog;
  logger: Logger;
  maxResultBytes: number;
  scrub(text: string): string;
  onListsChanged?(): void;
}

const owner = (server: string): ToolOwner => ({ kind: 'remote', server });

/**
 * Every remote server's resources and prompts against their pins (catalog.ts): what the agent may
 * list and read, the two pipeline tools per server that read and get them, and the receipts for
 * new and changed definitions. The remote manager drives it; it owns no session.
 */
export class CatalogReview {
  readonly #d: CatalogReviewDeps;
  readonly #items = new Map<string, Map<string, CatalogItem>>();
  /** New or changed definitions already receipted (once per daemon run). */
  readonly #reported = new Set<string>();

  constructor(deps: CatalogReviewDeps) {
    this.#d = deps;
  }

  resourceList(): Record<string, unknown>[] {
    return this.#pinned('resource').map(resourceView);
  }

  promptList(): Record<string, unknown>[] {
    return this.#pinned('prompt').map(promptView);
  }

  summary(server: string): { kind: CatalogItem['kind']; name: string; remote_name: string; state: ReviewState }[] {
    return [...(this.#items.get(server)?.values() ?? [])].map((i) => ({
      kind: i.kind,
      name: i.agentName,
      remote_name: i.original,
      state: i.state,
    }));
  }

  /**
   * Review what the server lists now. `firstReview` (`remote add`, `remote login` watching a
   * server with no catalog pins yet): that listing is pinned, as with tools.
   */
  sync(server: RemoteServer, firstReview: boolean): void {
    const name = server.config.name;
    const pinServer = catalogPinServer(name);
    if (firstReview && this.#d.pins.forServer(pinServer).size === 0) {
      this.pin(server, 'first listing, shown by remote add / remote login');
    }
    const items = reviewCatalog(name, server.resources, server.prompts, this.#d.pins.forServer(pinServer));
    this.#items.set(name, new Map(items.map((i) => [i.agentName, i])));
    for (const i of items) if (i.state !== 'pinned') this.#report(name, i);
    this.registerTools(server);
    this.#d.onListsChanged?.();
  }

  /** `remote pin` (and the first review): accept every resource and prompt listed now. */
  pin(server: RemoteServer, reason: string | undefined): void {
    const name = server.config.name;
    const pinServer = catalogPinServer(name);
    const items = reviewCatalog(name, server.resources, server.prompts, this.#d.pins.forServer(pinServer));
    for (const i of items) {
      // Listed twice: never pinned, as with tools.
      if (i.listedTwice) continue;
      this.#d.pins.set({
        server: pinServer,
        tool: pinKey(i.kind, i.original),
        hash: i.hash,
        qualified: i.agentName,
        definition: this.#d.scrub(JSON.stringify(i.def, null, 2)),
      });
    }
    if (items.length === 0) return;
    this.#d.receipts.append('remote', 'admin', {
      event: 'catalog_pinned',
      server: name,
      resources: items.filter((i) => i.kind === 'resource' && !i.listedTwice).length,
      prompts: items.filter((i) => i.kind === 'prompt' && !i.listedTwice).length,
      ...(reason ? { reason } : {}),
    });
  }

  /** A server removed (or never added): its state and pins go. Its tools go with the owner's. */
  forget(server: string): void {
    this.#d.pins.removeServer(catalogPinServer(server));
    if (this.#items.delete(server)) this.#d.onListsChanged?.();
  }

  /**
   * The server's `:resources/read` and `:prompts/get` tools, while it offers any. Called again
   * after the manager re-registers the server's tools (which removes everything it owns).
   */
  registerTools(server: RemoteServer): void {
    const name = server.config.name;
    const lookup = (agentName: string) => this.#items.get(name)?.get(agentName);
    for (const kind of ['resource', 'prompt'] as const) {
      const tool = kind === 'resource' ? readResourceTool(name) : getPromptTool(name);
      const offered = kind === 'resource' ? server.resources.length > 0 : server.prompts.length > 0;
      if (!offered) {
        this.#d.registry.remove(tool, owner(name));
        continue;
      }
      if (this.#d.registry.get(tool)) continue;
      const added = this.#d.registry.add(new RemoteCatalogTool(kind, server, lookup, this.#d.maxResultBytes), {
        owner: owner(name),
      });
      if (!added.ok) this.#d.logger.warn('remote catalog tool skipped', { server: name, reason: added.error });
    }
  }

  #pinned(kind: CatalogItem['kind']): CatalogItem[] {
    return [...this.#items.keys()]
      .sort()
      .flatMap((n) => [...this.#items.get(n)!.values()])
      .filter((i) => i.kind === kind && i.state === 'pinned');
  }

  #report(server: string, i: CatalogItem): void {
    const key = JSON.stringify([server, i.kind, i.original, i.agentName, i.hash, i.state]);
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#d.receipts.append('remote', 'daemon', {
      event: `${i.kind}_${i.state}`,
      server,
      [i.kind]: i.original,
      name: i.agentName,
      hash: i.hash,
      ...(i.pin ? { pinned: i.pin.hash } : {}),
    });
    this.#d.logger.warn(
      `remote ${i.kind} ${i.state}: hidden from the agent until \`${cli('remote', 'pin', server)}\``,
      {
        server,
        [i.kind]: i.original,
      },
    );
  }
}
