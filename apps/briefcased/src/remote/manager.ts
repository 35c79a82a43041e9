import type { Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import { BriefcaseError, type AccessManifest } from '@briefcase/protocol';
import type { ReceiptLog } from '@briefcase/receipts/node';
import type { Logger } from '@briefcase/telemetry';
import type { DpopKey } from '@briefcase/oauth';
import type { Vault } from '@briefcase/vault';
import { describeOwner, RESERVED_NAMESPACES, type ToolOwner, type ToolRegistry } from '../tools/registry.ts';
import { loadRemotes, RemoteConfig, saveRemotes } from './config.ts';
import type { Pin, PinStore } from './pins.ts';
import { review, type ReviewedTool, type ReviewState } from './review.ts';
import { RemoteMcpTool } from './remote-tool.ts';
import type { RemoteServer, RemoteStatus } from './remote-server.ts';
import { effectiveAccess, inferAccess } from './infer-access.ts';
import { CatalogReview } from './catalog-review.ts';
import { cli } from '../cli-hint.ts';

export interface RemoteSummary {
  name: string;
  transport: 'stdio' | 'http';
  target: string;
  status: RemoteStatus;
  error: string | null;
  /** `none`: no OAuth in use; `authorized`: tokens held; `required`: run `briefcase remote login`. */
  auth: 'none' | 'authorized' | 'required';
  tools: RemoteToolSummary[];
  /** What the server may reach (issue 10): its effective access manifest. */
  access: AccessManifest;
  /** At `remote add`: what was granted and why (the launcher's inferred manifest). */
  access_notes?: string[];
  /** Its resources and prompts, with their review state (hidden from the agent unless pinned). */
  catalog: { kind: 'resource' | 'prompt'; name: string; remote_name: string; state: ReviewState }[];
}

export interface RemoteToolSummary {
  name: string;
  remote_name: string;
  hash: string;
  /** The reviewed definition hash, null when never reviewed. */
  pinned: string | null;
  /** The `server.tool` name it was reviewed under. */
  pinned_name: string | null;
  state: ReviewState;
  changed: boolean;
  /** For `new` and `changed` tools: why it is held back. */
  why: string | null;
  /** The server's current description (what the agent would read), for review. */
  description: string | null;
}

export interface RemoteManagerDeps {
  home: string;
  registry: ToolRegistry;
  pins: PinStore;
  receipts: ReceiptLog;
  vault: Vault;
  logger: Logger;
  maxResultBytes: number;
  dpopKey: DpopKey | undefined;
  onSecret(value: string): void;
  /** Removes vault secrets from text kept or shown to a person (a pinned definition). */
  scrub(text: string): string;
  /** A server's resources or prompts may have changed (the agent's lists). */
  onListsChanged?(): void;
}

/**
 * The remote MCP servers behind this Briefcase: their sessions, their tools in the registry
 * (as `server.tool`), and the pins that keep a tool the admin did not review away from the agent
 * (DESIGN.md §6, docs/remote-mcp.md "Pinning").
 */
export class RemoteManager {
  readonly #d: RemoteManagerDeps;
  readonly #servers = new Map<string, RemoteServer>();
  /** Each server's tools as last listed, against the pins. */
  readonly #state = new Map<string, ReviewedTool[]>();
  readonly #byName = new Map<string, Map<string, ReviewedTool>>();
  /** Each server's resources and prompts as last listed, against their pins (catalog.ts). */
  readonly #catalog: CatalogReview;
  /** New or changed tools already receipted, so each such event is receipted once. */
  readonly #reported = new Set<string>();
  /**
   * Servers whose next listing an admin is watching (`remote add`, `remote login`): when the
   * server has no pins yet, that listing is pinned, and the CLI prints it for review.
   */
  readonly #firstReview = new Set<string>();

  constructor(deps: RemoteManagerDeps) {
    this.#d = deps;
    this.#catalog = new CatalogReview(deps);
  }

  /** resources/list for the agent: every reviewed resource of every server. */
  resourceList(): Record<string, unknown>[] {
    return this.#catalog.resourceList();
  }

  /** prompts/list for the agent: every reviewed prompt of every server. */
  promptList(): Record<string, unknown>[] {
    return this.#catalog.promptList();
  }

  /**
   * Start every configured server; they connect in the background. A server named like the
   * namespace of a builtin or connector tool (a connector added after it) stops the start: its
   * tools would pass for the connector's.
   */
  async start(): Promise<void> {
    const configs = loadRemotes(this.#d.home);
    const problems = configs.flatMap((c) => {
      const owner = this.#d.registry.namespaceOwner(c.name);
      return owner ? [`remotes.json: server "${c.name}": ${this.#conflict(c.name, owner)}`] : [];
    });
    if (problems.length > 0) throw new BriefcaseError('invalid_config', problems.join('\n'));
    if (configs.length > 0) await this.#load();
    for (const config of configs)
      this.#spawn(config)
        .connect()
        .catch(() => undefined);
  }

  async add(input: unknown): Promise<RemoteSummary> {
    const parsed = RemoteConfig.safeParse(input);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new BriefcaseError('bad_request', `${i?.path.join('.') || 'server'}: ${i?.message ?? 'invalid'}`);
    }
    let config = parsed.data;
    if (this.#servers.has(config.name)) throw new BriefcaseError('conflict', `a server named "${config.name}" exists`);
    // The manifest is written into the config: what runs is what the person saw at `remote add`.
    let notes: string[] | undefined;
    if (config.transport === 'stdio' && !config.access) {
      const inferred = inferAccess(config.command, config.args);
      config = { ...config, access: inferred.access };
      notes = inferred.notes;
    }
    const owner = this.#d.registry.namespaceOwner(config.name);
    if (owner) throw new BriefcaseError('conflict', this.#conflict(config.name, owner));
    this.#d.pins.removeServer(config.name);
    this.#catalog.forget(config.name);
    await this.#load();
    const server = this.#spawn(config);
    this.#firstReview.add(config.name);
    try {
      await server.connect();
    } catch (e) {
      // A server that needs a login is kept (`remote login` follows); one that cannot be reached
      // at all is not added: nothing is saved, nothing keeps retrying, and the admin sees why.
      if (server.status !== 'auth_required') {
        await this.#discard(server);
        const cause = server.lastError ?? (e as Error).message ?? String(e);
        this.#d.receipts.append('remote', 'admin', {
          event: 'add_failed',
          server: config.name,
          transport: config.transport,
          target: target(config),
          reason: cause.slice(0, 500),
        });
        throw new BriefcaseError(
          'upstream_error',
          `${config.name} was not added: its server could not be reached: ${cause}`,
        );
      }
    } finally {
      // An OAuth server is reviewed at `remote login`; any other later listing needs `remote pin`.
      this.#firstReview.delete(config.name);
    }
    saveRemotes(this.#d.home, this.#configs());
    this.#d.receipts.append('remote', 'admin', {
      event: 'added',
      server: config.name,
      transport: config.transport,
      target: target(config),
      access: effectiveAccess(config),
    });
    return { ...this.summary(config.name), ...(notes ? { access_notes: notes } : {}) };
  }

  /** The server's configuration as stored (for a guarded change to show before and after). */
  config(name: string): RemoteConfig {
    return this.#get(name).config;
  }

  /**
   * Replace a server's access manifest (a guarded change when it widens: the caller decides).
   * Receipted with before and after; the server restarts under the new manifest.
   */
  async setAccess(name: string, access: AccessManifest): Promise<RemoteSummary> {
    const server = this.#get(name);
    const before = effectiveAccess(server.config);
    const config = { ...server.config, access } as RemoteConfig;
    saveRemotes(
      this.#d.home,
      this.#configs().map((c) => (c.name === name ? config : c)),
    );
    this.#d.receipts.append('remote', 'admin', {
      event: 'access_changed',
      server: name,
      before,
      after: effectiveAccess(config),
    });
    await server.close();
    const next = this.#spawn(config);
    await next.connect().catch(() => undefined);
    return this.summary(name);
  }

  /** Forget a server that was never added (its first connection failed). */
  async #discard(server: RemoteServer): Promise<void> {
    const name = server.config.name;
    if (this.#servers.get(name) === server) this.#servers.delete(name);
    await server.close();
    this.#d.registry.removeOwned(owner(name));
    this.#state.delete(name);
    this.#byName.delete(name);
    this.#d.pins.removeServer(name);
    this.#catalog.forget(name);
  }

  async remove(name: string): Promise<void> {
    const server = this.#get(name);
    this.#servers.delete(name);
    await server.close();
    this.#d.registry.removeOwned(owner(name));
    this.#state.delete(name);
    this.#byName.delete(name);
    this.#d.pins.removeServer(name);
    this.#catalog.forget(name);
    saveRemotes(this.#d.home, this.#configs());
    this.#d.receipts.append('remote', 'admin', { event: 'removed', server: name });
  }

  /**
   * `briefcase remote pin`: accept the server's current tools after review. A tool the server
   * lists twice is not pinned (which of the two would run is the server's choice).
   */
  pin(name: string): RemoteSummary {
    const server = this.#get(name);
    this.#pinAll(name, server.tools, 'admin', undefined);
    this.#sync(server, server.tools);
    this.#catalog.pin(server, undefined);
    this.#catalog.sync(server, false);
    return this.summary(name);
  }

  /** `briefcase remote login`: the authorization URL; the result is receipted when it arrives. */
  async login(name: string): Promise<{ authorization_url: string }> {
    const server = this.#get(name);
    const url = await server.login((error) => {
      this.#firstReview.delete(name);
      this.#d.receipts.append('oauth', 'admin', {
        event: error ? 'login_failed' : 'logged_in',
        server: name,
        ...(error ? { reason: error.message.slice(0, 300) } : {}),
      });
      if (error) this.#d.logger.warn('remote login failed', { server: name, error });
    });
    this.#d.receipts.append('oauth', 'admin', { event: 'login_started', server: name });
    // The listing that follows the login is the one `remote login` shows the admin.
    if (this.#d.pins.forServer(name).size === 0) this.#firstReview.add(name);
    return { authorization_url: url };
  }

  /** `briefcase remote logout`: revoke at the server (RFC 7009) where possible, then forget. */
  async logout(name: string): Promise<{ revoked: string[] }> {
    const result = await this.#get(name).logout();
    this.#d.receipts.append('oauth', 'admin', { event: 'logged_out', server: name, revoked: result.revoked });
    return result;
  }

  /**
   * Log out of every server that holds tokens (a DPoP key rotation: its tokens are bound to the
   * old key). Revocation happens while the old key still signs. Returns the servers logged out.
   */
  async logoutAll(): Promise<string[]> {
    const out: string[] = [];
    for (const [name, server] of this.#servers) {
      if (!server.oauth?.authorized) continue;
      const result = await server.logout().catch((e: unknown) => {
        this.#d.logger.warn('logout on key rotation failed; tokens forgotten anyway', { server: name, error: e });
        return { revoked: [] as string[] };
      });
      this.#d.receipts.append('oauth', 'admin', {
        event: 'logged_out',
        server: name,
        revoked: result.revoked,
        reason: 'dpop key rotated',
      });
      out.push(name);
    }
    return out;
  }

  /** The next DPoP proof of every session is made by this key. */
  replaceDpopKey(key: DpopKey): void {
    this.#d.dpopKey = key;
  }

  list(): RemoteSummary[] {
    return [...this.#servers.keys()].sort().map((n) => this.summary(n));
  }

  summary(name: string): RemoteSummary {
    const server = this.#get(name);
    return {
      name,
      transport: server.config.transport,
      target: target(server.config),
      status: server.status,
      error: server.lastError,
      auth: server.oauth?.authorized ? 'authorized' : server.status === 'auth_required' ? 'required' : 'none',
      access: effectiveAccess(server.config),
      tools: (this.#state.get(name) ?? []).map((t) => ({
        name: t.qualified,
        remote_name: t.original,
        hash: t.hash,
        pinned: t.pin?.hash ?? null,
        pinned_name: t.pin?.qualified ?? null,
        state: t.state,
        changed: t.state === 'changed',
        why: t.why,
        description: t.def.description ?? null,
      })),
      catalog: this.#catalog.summary(name),
    };
  }

  /** Each tool's reviewed and current definition (pretty JSON), for a person to compare. */
  definitions(
    name: string,
  ): { qualified: string; original: string; state: ReviewState; before: string | null; after: string }[] {
    this.#get(name);
    return (this.#state.get(name) ?? []).map((t) => ({
      qualified: t.qualified,
      original: t.original,
      state: t.state,
      before: t.pin?.definition ?? null,
      after: this.#d.scrub(JSON.stringify(t.def, null, 2)),
    }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#servers.values()].map((s) => s.close()));
  }

  #Server: typeof RemoteServer | undefined;

  /**
   * The MCP client (the SDK's client, transports and OAuth) on the first remote server only: a
   * daemon without remotes never needs it, and eagerly it was ~10 MiB of resident memory (issue 13).
   */
  async #load(): Promise<void> {
    this.#Server ??= (await import('./remote-server.ts')).RemoteServer;
  }

  /** After `#load()`: every caller awaits it first (a server exists only once it ran). */
  #spawn(config: RemoteConfig): RemoteServer {
    const server: RemoteServer = new this.#Server!(config, {
      logger: this.#d.logger,
      vault: this.#d.vault,
      dpopKey: () => this.#d.dpopKey,
      onSecret: (v) => this.#d.onSecret(v),
      secret: (n) => this.#d.vault.forTool(n, `the MCP server "${config.name}"`),
      onTools: (tools) => this.#sync(server, tools),
      onCatalog: () => {
        if (this.#servers.get(config.name) === server) this.#catalog.sync(server, this.#firstReview.has(config.name));
      },
      dataDir: this.#d.home,
      scrub: (text) => this.#d.scrub(text),
      onViolation: (target, reason) =>
        this.#d.receipts.append('remote', 'daemon', {
          event: 'sandbox_violation',
          server: config.name,
          target,
          reason,
        }),
    });
    this.#servers.set(config.name, server);
    return server;
  }

  /**
   * Register a server's reviewed tools under its own name. A new tool is not registered (the
   * agent gets `unknown_tool`); a changed one is registered held (`tool_changed`, not listed).
   * Each new or changed tool is receipted once.
   */
  #sync(server: RemoteServer, tools: McpTool[]): void {
    const name = server.config.name;
    if (this.#servers.get(name) !== server) return;
    // #firstReview ends with `remote add` / `remote login` (resources and prompts are read next).
    if (this.#firstReview.has(name) && this.#d.pins.forServer(name).size === 0) {
      this.#pinAll(name, tools, 'admin', 'first listing, shown by remote add / remote login');
    }
    const reviewed = review(name, tools, this.#d.pins.forServer(name));
    this.#state.set(name, reviewed);
    this.#byName.set(name, new Map(reviewed.map((t) => [t.qualified, t])));
    this.#d.registry.removeOwned(owner(name));
    this.#catalog.registerTools(server);
    for (const t of reviewed) {
      if (t.state === 'pinned' && t.pin?.qualified === null) this.#d.pins.nameOldPin(name, t.original, t.qualified);
      if (t.state !== 'pinned') this.#report(name, t);
      if (t.state === 'new') continue;
      const tool = new RemoteMcpTool(
        t.qualified,
        t.def,
        t.hash,
        server,
        () => this.#problem(name, t),
        this.#d.maxResultBytes,
        t.state === 'changed',
      );
      const added = this.#d.registry.add(tool, { lenient: true, owner: owner(name) });
      if (!added.ok)
        this.#d.logger.warn('remote tool skipped', { server: name, tool: t.original, reason: added.error });
    }
  }

  /**
   * Why this tool must not run now, or null: the server's current listing must still present
   * the same tool (original name, definition) under this name, and it must be the pinned one.
   */
  #problem(server: string, t: ReviewedTool): string | null {
    const now = this.#byName.get(server)?.get(t.qualified);
    if (!now || now.original !== t.original || now.hash !== t.hash) {
      return `the server no longer presents the reviewed tool ${t.original} under ${t.qualified}`;
    }
    if (now.state !== 'pinned') return now.why;
    // Pins change only here, and every change re-reads the listing (`now` is that reading).
    const pin = now.pin;
    if (!pin || pin.hash !== t.hash || (pin.qualified !== null && pin.qualified !== t.qualified)) {
      return `${t.qualified} is not the pinned ${t.original}`;
    }
    return null;
  }

  #report(server: string, t: ReviewedTool): void {
    const key = JSON.stringify([server, t.original, t.qualified, t.hash, t.state]);
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#d.receipts.append('remote', 'daemon', {
      event: t.state === 'new' ? 'tool_new' : 'tool_changed',
      server,
      tool: t.original,
      name: t.qualified,
      hash: t.hash,
      ...(t.pin ? { pinned: t.pin.hash, pinned_name: t.pin.qualified } : {}),
      reason: t.why,
    });
    this.#d.logger.warn(`remote tool ${t.state}: hidden from the agent until \`${cli('remote', 'pin', server)}\``, {
      server,
      tool: t.original,
      reason: t.why,
    });
  }

  /** Pin every tool the server lists once (a tool listed twice is left for the server to fix). */
  #pinAll(server: string, tools: McpTool[], actor: 'admin', reason: string | undefined): void {
    const current = this.#d.pins.forServer(server);
    const pinned: Record<string, { hash: string; name: string }> = {};
    for (const t of review(server, tools, current)) {
      if (t.listed > 1) continue;
      const pin: Pin & { qualified: string } = {
        server,
        tool: t.original,
        hash: t.hash,
        qualified: t.qualified,
        definition: this.#d.scrub(JSON.stringify(t.def, null, 2)),
      };
      this.#d.pins.set(pin);
      pinned[t.original] = { hash: t.hash, name: t.qualified };
    }
    this.#d.receipts.append('remote', actor, {
      event: 'pinned',
      server,
      tools: pinned,
      ...(reason ? { reason } : {}),
    });
  }

  #conflict(name: string, o: ToolOwner): string {
    if (RESERVED_NAMESPACES.includes(name)) return `the name "${name}" is reserved for the Briefcase's own tools`;
    return `the name "${name}" is taken by ${describeOwner(o)}: a remote server's tools would pass for its tools; choose another name`;
  }

  #get(name: string): RemoteServer {
    const server = this.#servers.get(name);
    if (!server) throw new BriefcaseError('not_found', `no MCP server named "${name}"`);
    return server;
  }

  #configs(): RemoteConfig[] {
    return [...this.#servers.values()].map((s) => s.config);
  }
}

const owner = (server: string): ToolOwner => ({ kind: 'remote', server });

function target(c: RemoteConfig): string {
  return c.transport === 'http' ? c.url : [c.command, ...c.args].join(' ');
}
