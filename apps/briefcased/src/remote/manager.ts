import type { Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import { BriefcaseError } from '@briefcase/protocol';
import type { ReceiptLog } from '@briefcase/receipts/node';
import type { Logger } from '@briefcase/telemetry';
import type { DpopKey } from '@briefcase/oauth';
import type { Vault } from '@briefcase/vault';
import type { ToolRegistry } from '../tools/registry.ts';
import { loadRemotes, RemoteConfig, saveRemotes } from './config.ts';
import { definitionHash, qualifiedNames } from './naming.ts';
import type { PinStore } from './pins.ts';
import { RemoteMcpTool } from './remote-tool.ts';
import { RemoteServer, type RemoteStatus } from './remote-server.ts';

export interface RemoteSummary {
  name: string;
  transport: 'stdio' | 'http';
  target: string;
  status: RemoteStatus;
  error: string | null;
  /** `none`: no OAuth in use; `authorized`: tokens held; `required`: run `briefcase remote login`. */
  auth: 'none' | 'authorized' | 'required';
  tools: { name: string; remote_name: string; hash: string; pinned: string | null; changed: boolean }[];
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
}

/**
 * The remote MCP servers behind this Briefcase: their sessions, their tools in the registry
 * (as `server.tool`), and the pins that stop a tool whose definition changed (DESIGN.md §6).
 */
export class RemoteManager {
  readonly #d: RemoteManagerDeps;
  readonly #servers = new Map<string, RemoteServer>();
  /** Current definition hash per qualified tool name. */
  readonly #current = new Map<string, { server: string; remoteName: string; hash: string }>();
  /** (tool, hash) pairs already receipted as changed, so a change is receipted once. */
  readonly #reported = new Set<string>();

  constructor(deps: RemoteManagerDeps) {
    this.#d = deps;
  }

  /** Start every configured server; they connect in the background. */
  start(): void {
    for (const config of loadRemotes(this.#d.home))
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
    const config = parsed.data;
    if (this.#servers.has(config.name)) throw new BriefcaseError('conflict', `a server named "${config.name}" exists`);
    saveRemotes(this.#d.home, [...this.#configs(), config]);
    this.#d.receipts.append('remote', 'admin', {
      event: 'added',
      server: config.name,
      transport: config.transport,
      target: target(config),
    });
    const server = this.#spawn(config);
    try {
      await server.connect();
    } catch {
      // Kept and retried in the background; `remote list` shows the error.
    }
    return this.summary(config.name);
  }

  async remove(name: string): Promise<void> {
    const server = this.#get(name);
    this.#servers.delete(name);
    await server.close();
    this.#unregister(name);
    this.#d.pins.removeServer(name);
    saveRemotes(this.#d.home, this.#configs());
    this.#d.receipts.append('remote', 'admin', { event: 'removed', server: name });
  }

  /** Accept the server's current tool definitions after review. */
  pin(name: string): RemoteSummary {
    const server = this.#get(name);
    const pinned: Record<string, string> = {};
    for (const tool of server.tools) {
      const hash = definitionHash(tool);
      this.#d.pins.set(name, tool.name, hash);
      pinned[tool.name] = hash;
    }
    this.#d.receipts.append('remote', 'admin', { event: 'pinned', server: name, tools: pinned });
    return this.summary(name);
  }

  /** `briefcase remote login`: the authorization URL; the result is receipted when it arrives. */
  async login(name: string): Promise<{ authorization_url: string }> {
    const server = this.#get(name);
    const url = await server.login((error) => {
      this.#d.receipts.append('oauth', 'admin', {
        event: error ? 'login_failed' : 'logged_in',
        server: name,
        ...(error ? { reason: error.message.slice(0, 300) } : {}),
      });
      if (error) this.#d.logger.warn('remote login failed', { server: name, error });
    });
    this.#d.receipts.append('oauth', 'admin', { event: 'login_started', server: name });
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
    const pins = this.#d.pins.forServer(name);
    const names = qualifiedNames(
      name,
      server.tools.map((t) => t.name),
    );
    return {
      name,
      transport: server.config.transport,
      target: target(server.config),
      status: server.status,
      error: server.lastError,
      auth: server.oauth?.authorized ? 'authorized' : server.status === 'auth_required' ? 'required' : 'none',
      tools: server.tools.map((t) => {
        const hash = definitionHash(t);
        const pinned = pins.get(t.name) ?? null;
        return {
          name: names.get(t.name)!,
          remote_name: t.name,
          hash,
          pinned,
          changed: pinned !== null && pinned !== hash,
        };
      }),
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#servers.values()].map((s) => s.close()));
  }

  #spawn(config: RemoteConfig): RemoteServer {
    const server: RemoteServer = new RemoteServer(config, {
      logger: this.#d.logger,
      vault: this.#d.vault,
      dpopKey: () => this.#d.dpopKey,
      onSecret: (v) => this.#d.onSecret(v),
      secret: (n) => this.#d.vault.forTool(n, `the MCP server "${config.name}"`),
      onTools: (tools) => this.#sync(server, tools),
    });
    this.#servers.set(config.name, server);
    return server;
  }

  /** Register a server's tools; pin at first sight; receipt a changed definition once. */
  #sync(server: RemoteServer, tools: McpTool[]): void {
    const name = server.config.name;
    const names = qualifiedNames(
      name,
      tools.map((t) => t.name),
    );
    this.#unregister(name);
    for (const def of tools) {
      const qualified = names.get(def.name)!;
      const hash = definitionHash(def);
      const pinned = this.#d.pins.get(name, def.name);
      if (pinned === undefined) {
        this.#d.pins.set(name, def.name, hash);
        this.#d.receipts.append('remote', 'daemon', { event: 'tool_pinned', server: name, tool: def.name, hash });
      } else if (pinned !== hash && !this.#reported.has(`${qualified}:${hash}`)) {
        this.#reported.add(`${qualified}:${hash}`);
        this.#d.receipts.append('remote', 'daemon', {
          event: 'tool_changed',
          server: name,
          tool: def.name,
          pinned,
          hash,
        });
        this.#d.logger.warn('remote tool definition changed: it will not run until re-pinned', {
          server: name,
          tool: def.name,
        });
      }
      this.#current.set(qualified, { server: name, remoteName: def.name, hash });
      const tool = new RemoteMcpTool(
        qualified,
        def,
        server,
        () => {
          const now = this.#current.get(qualified)?.hash;
          const pin = this.#d.pins.get(name, def.name);
          return now !== undefined && pin !== undefined && pin !== now
            ? `definition hash ${now.slice(0, 12)}… differs from pinned ${pin.slice(0, 12)}…`
            : null;
        },
        this.#d.maxResultBytes,
      );
      const added = this.#d.registry.add(tool, { lenient: true });
      if (!added.ok) this.#d.logger.warn('remote tool skipped', { server: name, tool: def.name, reason: added.error });
    }
  }

  #unregister(server: string): void {
    for (const [qualified, info] of this.#current) {
      if (info.server !== server) continue;
      this.#d.registry.remove(qualified);
      this.#current.delete(qualified);
    }
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

function target(c: RemoteConfig): string {
  return c.transport === 'http' ? c.url : [c.command, ...c.args].join(' ');
}
