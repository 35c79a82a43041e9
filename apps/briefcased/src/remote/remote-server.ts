import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ProgressCallback } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolResultSchema,
  LoggingMessageNotificationSchema,
  ProgressNotificationSchema,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type GetPromptResult,
  type Prompt,
  type ReadResourceResult,
  type Resource,
  type Tool as McpTool,
} from '@modelcontextprotocol/sdk/types.js';
import type { EgressViolation } from '@briefcase/egress';
import { BriefcaseError } from '@briefcase/protocol';
import { ServerLog, type Logger } from '@briefcase/telemetry';
import type { Secret, Vault } from '@briefcase/vault';
import type { DpopKey } from '@briefcase/oauth';
import type { ToolLog } from '../tools/tool.ts';
import { DEFAULT_ENV_ALLOW, type RemoteConfig } from './config.ts';
import { egressViolationIn, RemoteEgress } from './egress.ts';
import { definitionHash } from './naming.ts';
import { OAuthSession } from './oauth-session.ts';
import { VaultOAuthStore } from './oauth-store.ts';
import { ProgressRouter } from './progress-router.ts';
import { effectiveAccess } from './infer-access.ts';
import { ServerEgress } from './sandbox-egress.ts';
import { missingCommand } from './command-check.ts';
import { removeCgroup, stdioLaunch } from './sandboxed-stdio.ts';
import { tracedFetch, withTraceparent } from './trace-context.ts';
import { serverLogFile } from '../paths.ts';

/** setTimeout's ceiling (~24.8 days): the SDK's own request timeout, effectively off. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type RemoteStatus = 'connecting' | 'connected' | 'disconnected' | 'failed' | 'auth_required';

export interface RemoteServerDeps {
  logger: Logger;
  vault: Vault;
  /** The daemon's current DPoP key (a getter: rotation replaces it under live sessions). */
  dpopKey: () => DpopKey | undefined;
  /** A credential that is not in the vault (an access token) and must be scrubbed all the same. */
  onSecret(value: string): void;
  secret(name: string): Secret | undefined;
  /** Called with the server's full tool list whenever it is (re)read. */
  onTools(tools: McpTool[]): void;
  /** Called with the server's resources and prompts whenever they are (re)read. */
  onCatalog?(resources: Resource[], prompts: Prompt[]): void;
  /** The data directory: stdio servers get `tools/<name>/` in it and nothing else of it. */
  dataDir: string;
  /** A refused connection while no call was in flight (the manager receipts it). */
  onViolation?(target: string, reason: string): void;
  /** Removes every vault value from text (a stdio server's stderr, before it is written down). */
  scrub(text: string): string;
}

const BACKOFF_MS = [500, 1000, 2000, 5000, 10_000, 30_000];

/**
 * One remote MCP server, as the daemon's client: a pooled session that is reused for every call,
 * reconnected with backoff when it drops, and whose tool list is cached and re-read on
 * `notifications/tools/list_changed`.
 */
export class RemoteServer {
  readonly config: RemoteConfig;
  /** OAuth for Streamable HTTP servers; stdio servers take credentials from their environment. */
  readonly oauth: OAuthSession | undefined;
  status: RemoteStatus = 'disconnected';
  lastError: string | null = null;
  tools: McpTool[] = [];
  resources: Resource[] = [];
  prompts: Prompt[] = [];
  readonly #deps: RemoteServerDeps;
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  #attempt = 0;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  /** The calls in flight on this session, each with where its log messages go (if anywhere). */
  readonly #inFlight = new Set<{ onLog: ((entry: ToolLog) => void) | undefined; violation: AbortController }>();
  /** The egress proxy of a sandboxed stdio server whose manifest grants network. */
  readonly #egress: ServerEgress | undefined;
  readonly #progress = new ProgressRouter();
  /** A stdio server's stderr: logs/servers/NAME.log, for `briefcase logs --server NAME`. */
  readonly #stderrLog: ServerLog | undefined;

  constructor(config: RemoteConfig, deps: RemoteServerDeps) {
    this.config = config;
    this.#deps = deps;
    this.#egress =
      config.transport === 'stdio' ? new ServerEgress(deps.dataDir, config.name, (v) => this.#violation(v)) : undefined;
    this.#stderrLog =
      config.transport === 'stdio'
        ? new ServerLog(serverLogFile(deps.dataDir, config.name), { scrub: (t) => deps.scrub(t) })
        : undefined;
    this.oauth =
      config.transport === 'http'
        ? new OAuthSession(
            config.name,
            new URL(config.url),
            new VaultOAuthStore(deps.vault, config.name),
            deps.dpopKey,
            {
              ...config.oauth,
              clientSecret: config.oauth.client_secret_name
                ? deps.vault.get(config.oauth.client_secret_name)?.expose()
                : undefined,
            },
            new RemoteEgress(new URL(config.url), config.access).fetch,
          )
        : undefined;
  }

  /** Start `briefcase remote login`: the URL a person opens; the session reconnects when done. */
  async login(onDone: (error: Error | null) => void): Promise<string> {
    if (!this.oauth) throw new BriefcaseError('bad_request', `${this.config.name} is a stdio server: it has no login`);
    return this.oauth.login(async (error) => {
      if (!error) {
        this.#secretsChanged();
        await this.#reset();
        await this.connect().catch(() => undefined);
      }
      onDone(error);
    });
  }

  async logout(): Promise<{ revoked: string[] }> {
    if (!this.oauth) throw new BriefcaseError('bad_request', `${this.config.name} is a stdio server: it has no login`);
    const result = await this.oauth.logout();
    await this.#reset();
    this.status = 'auth_required';
    this.lastError = this.oauth.loginHint();
    return result;
  }

  /** Connect (or join a connection in progress) and return the live client. */
  connect(): Promise<Client> {
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async callTool(
    name: string,
    args: Record<string, unknown>,
    signal: AbortSignal,
    onProgress?: ProgressCallback,
    onLog?: (entry: ToolLog) => void,
    traceparent?: string,
    /** More `_meta` for this request (x402's `x402/payment` on a paid retry). SECRET: never logged. */
    extraMeta?: Record<string, unknown>,
  ): Promise<CallToolResult> {
    let client: Client;
    try {
      if (this.oauth?.authorized) await this.oauth.ensureFresh();
      client = await this.connect();
    } catch (e) {
      // A request the egress rules refused: sandbox_violation, the host and port in the receipt.
      const violation = egressViolationIn(e);
      if (violation) throw violation;
      if (this.oauth?.isAuthError(e)) throw new BriefcaseError('oauth_required', this.oauth.loginHint());
      throw new BriefcaseError('upstream_error', `the MCP server "${this.config.name}" is not available`, String(e));
    }
    const call = { onLog, violation: new AbortController() };
    this.#inFlight.add(call);
    // Progress is asked for on every call: it also keeps a long operation from timing out.
    const request = this.#progress.open(onProgress, this.config.timeout_ms, signal);
    const violated = call.violation.signal;
    try {
      // Trace context: a `traceparent` header on HTTP (tracedFetch) and, for every transport,
      // in `_meta` as MCP SEP-414 proposes (stdio has no headers).
      const meta = { ...extraMeta, progressToken: request.token, ...(traceparent ? { traceparent } : {}) };
      return (await withTraceparent(traceparent, () =>
        client.callTool(
          { name, arguments: args, _meta: meta },
          CallToolResultSchema,
          // Our own timer (request.signal) bounds the call; the SDK's would not reset on progress.
          { signal: AbortSignal.any([request.signal, violated]), timeout: MAX_TIMER_MS },
        ),
      )) as CallToolResult;
    } catch (e) {
      // The server tried to reach what its manifest does not grant while this call was running.
      if (violated.aborted) throw violated.reason as BriefcaseError;
      const violation = egressViolationIn(e);
      if (violation) throw violation;
      if (this.oauth?.isAuthError(e)) throw new BriefcaseError('oauth_required', this.oauth.loginHint());
      const message = (e as Error).message ?? String(e);
      const what = request.timedOut() || /timed out|timeout/i.test(message) ? 'did not answer in time' : 'failed';
      throw new BriefcaseError('upstream_error', `the MCP server "${this.config.name}" ${what}`, message);
    } finally {
      request.close();
      this.#inFlight.delete(call);
    }
  }

  /** resources/read on the pooled session (the pipeline has gated it already). */
  readResource(uri: string, signal: AbortSignal): Promise<ReadResourceResult> {
    return this.#request((client) =>
      client.readResource({ uri }, { signal, timeout: this.config.timeout_ms }),
    ) as Promise<ReadResourceResult>;
  }

  /** prompts/get on the pooled session (the pipeline has gated it already). */
  getPrompt(name: string, args: Record<string, string>, signal: AbortSignal): Promise<GetPromptResult> {
    return this.#request((client) =>
      client.getPrompt({ name, arguments: args }, { signal, timeout: this.config.timeout_ms }),
    ) as Promise<GetPromptResult>;
  }

  async #request(send: (client: Client) => Promise<unknown>): Promise<unknown> {
    let client: Client;
    try {
      if (this.oauth?.authorized) await this.oauth.ensureFresh();
      client = await this.connect();
    } catch (e) {
      const violation = egressViolationIn(e);
      if (violation) throw violation;
      if (this.oauth?.isAuthError(e)) throw new BriefcaseError('oauth_required', this.oauth.loginHint());
      throw new BriefcaseError('upstream_error', `the MCP server "${this.config.name}" is not available`, String(e));
    }
    try {
      return await send(client);
    } catch (e) {
      const violation = egressViolationIn(e);
      if (violation) throw violation;
      if (this.oauth?.isAuthError(e)) throw new BriefcaseError('oauth_required', this.oauth.loginHint());
      throw new BriefcaseError('upstream_error', `the MCP server "${this.config.name}" failed`, String(e));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#egress?.close();
    if (this.#retry) clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    await client?.close().catch(() => undefined);
    this.#stderrLog?.close();
  }

  async #open(): Promise<Client> {
    this.status = 'connecting';
    const client = new Client({ name: 'briefcased', version: '0.1.0' }, { capabilities: {} });
    let transport: Transport;
    try {
      transport = await this.#transport();
    } catch (e) {
      // A secret it needs is missing or may not be given to a tool: say so in `remote list`.
      this.status = 'failed';
      this.lastError = (e as Error).message;
      this.#scheduleReconnect();
      throw e;
    }
    client.onclose = () => this.#dropped(client);
    client.onerror = (e) =>
      this.#deps.logger.debug('remote MCP transport error', { server: this.config.name, error: e });
    client.setNotificationHandler(ProgressNotificationSchema, (n) => this.#progress.handle(n));
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => this.#log(n.params));
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      await this.#refreshTools(client).catch((e) =>
        this.#deps.logger.warn('could not re-read tools after list_changed', { server: this.config.name, error: e }),
      );
    });
    const refreshCatalog = () =>
      this.#refreshCatalog(client).catch((e) =>
        this.#deps.logger.warn('could not read resources and prompts', { server: this.config.name, error: e }),
      );
    client.setNotificationHandler(ResourceListChangedNotificationSchema, refreshCatalog);
    client.setNotificationHandler(PromptListChangedNotificationSchema, refreshCatalog);
    try {
      if (this.oauth?.authorized) await this.oauth.ensureFresh();
      await client.connect(transport, { timeout: this.config.timeout_ms });
      if (client.getServerCapabilities()?.logging) await client.setLoggingLevel('debug').catch(() => undefined);
      await this.#refreshTools(client);
      await refreshCatalog();
    } catch (e) {
      await client.close().catch(() => undefined);
      if (this.oauth?.isAuthError(e)) {
        // Nothing to retry until a person logs in.
        this.status = 'auth_required';
        this.lastError = this.oauth.loginHint();
        throw e;
      }
      this.status = 'failed';
      // `remote list` is an admin surface: an egress refusal shows the host, port and reason.
      this.lastError = egressViolationIn(e)?.detail ?? (e as Error).message ?? String(e);
      this.#scheduleReconnect();
      throw e;
    }
    this.#secretsChanged();
    this.#client = client;
    this.status = 'connected';
    this.lastError = null;
    this.#attempt = 0;
    this.#deps.logger.info('remote MCP server connected', { server: this.config.name, tools: this.tools.length });
    return client;
  }

  /**
   * MCP log messages (`notifications/message`) belong to the session, not to a request, and the
   * daemon shares one session among every agent. One is relayed to a call only when it is the
   * only call in flight on the session, so it cannot be another agent's; otherwise it goes to
   * the daemon log only. (Over Streamable HTTP a server may send a request's messages on that
   * request's response stream, but the SDK client (1.32) does not tell which stream a message
   * came on; stdio has no such relation at all.)
   */
  #log(entry: ToolLog): void {
    const [only, ...others] = this.#inFlight;
    if (only && others.length === 0) {
      only.onLog?.(entry);
      return;
    }
    this.#deps.logger.debug('remote MCP log message not relayed: it cannot be tied to one call', {
      server: this.config.name,
      calls_in_flight: this.#inFlight.size,
      level: entry.level,
      ...(entry.logger !== undefined ? { logger: entry.logger } : {}),
      data: entry.data,
    });
  }

  async #refreshTools(client: Client): Promise<void> {
    const tools: McpTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {}, { timeout: this.config.timeout_ms });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor && tools.length < 10_000);
    this.tools = tools.filter((t) => this.#representable(t));
    this.#deps.onTools(this.tools);
  }

  /** Resources and prompts, where the server offers them (paged, bounded like tools). */
  async #refreshCatalog(client: Client): Promise<void> {
    const caps = client.getServerCapabilities();
    const resources: Resource[] = [];
    const prompts: Prompt[] = [];
    let cursor: string | undefined;
    if (caps?.resources) {
      do {
        const page = await client.listResources(cursor ? { cursor } : {}, { timeout: this.config.timeout_ms });
        resources.push(...page.resources);
        cursor = page.nextCursor;
      } while (cursor && resources.length < 10_000);
    }
    cursor = undefined;
    if (caps?.prompts) {
      do {
        const page = await client.listPrompts(cursor ? { cursor } : {}, { timeout: this.config.timeout_ms });
        prompts.push(...page.prompts);
        cursor = page.nextCursor;
      } while (cursor && prompts.length < 10_000);
    }
    this.resources = resources;
    this.prompts = prompts;
    this.#deps.onCatalog?.(this.resources, this.prompts);
  }

  /**
   * A definition with no canonical form (a lone surrogate in its name, schema or description)
   * has no definition hash, so it can be neither reviewed nor pinned: it is not offered at all.
   */
  #representable(tool: McpTool): boolean {
    try {
      definitionHash(tool);
      return true;
    } catch (e) {
      this.#deps.logger.warn('remote tool skipped: its definition has no canonical form', {
        server: this.config.name,
        tool: String(tool.name).toWellFormed().slice(0, 128),
        error: e,
      });
      return false;
    }
  }

  async #transport(): Promise<Transport> {
    const c = this.config;
    if (c.transport === 'http') {
      return new StreamableHTTPClientTransport(new URL(c.url), {
        authProvider: this.oauth!.provider,
        fetch: tracedFetch(this.oauth!.fetch),
      });
    }
    const access = effectiveAccess(c);
    const env: Record<string, string> = {};
    for (const name of [...DEFAULT_ENV_ALLOW, ...access.env]) {
      const value = process.env[name];
      if (value !== undefined) env[name] = value;
    }
    for (const [name, secretName] of Object.entries(access.secrets)) {
      const secret = this.#deps.secret(secretName);
      if (!secret) throw new BriefcaseError('unavailable', `secret "${secretName}" for ${c.name}'s ${name} is not set`);
      env[name] = secret.expose();
    }
    const missing = missingCommand(c.command, c.cwd, env.PATH);
    if (missing) throw new BriefcaseError('invalid_config', missing);
    const launch = stdioLaunch({
      server: c.name,
      command: c.command,
      args: c.args,
      cwd: c.cwd,
      env,
      access,
      dataDir: this.#deps.dataDir,
      proxy: access.isolation === 'sandbox' ? await this.#egress?.forLaunch(access) : undefined,
    });
    const { cgroup, ...spawnable } = launch;
    // stderr goes to the server's own log file, scrubbed (ServerLog), and never to the agent.
    const transport = new StdioClientTransport({ ...spawnable, stderr: 'pipe' });
    const log = this.#stderrLog;
    transport.stderr?.on('data', (chunk: Buffer) => log?.write(chunk));
    if (cgroup) {
      const onclose = () => removeCgroup(cgroup);
      transport.onclose = onclose;
    }
    return transport;
  }

  /**
   * The server's egress proxy refused a connection. Every call in flight on the session fails
   * closed with `sandbox_violation` (its receipt names the host and port); with none in flight,
   * the daemon records it on its own.
   */
  #violation(v: EgressViolation): void {
    const what = `${v.host}:${v.port}`;
    this.#deps.logger.warn('sandboxed MCP server tried to reach a host its manifest does not grant', {
      server: this.config.name,
      target: what,
      reason: v.reason,
    });
    const error = new BriefcaseError(
      'sandbox_violation',
      `the MCP server "${this.config.name}" tried to reach a host its access manifest does not grant`,
      `egress refused ${what}: ${v.reason}`,
    );
    if (this.#inFlight.size === 0) this.#deps.onViolation?.(what, v.reason);
    for (const call of this.#inFlight) call.violation.abort(error);
  }

  #secretsChanged(): void {
    const token = this.oauth?.accessToken();
    if (token) this.#deps.onSecret(token);
  }

  async #reset(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.close().catch(() => undefined);
  }

  #dropped(client: Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.status = 'disconnected';
    this.#deps.logger.warn('remote MCP server disconnected', { server: this.config.name });
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#retry) return;
    const delay = BACKOFF_MS[Math.min(this.#attempt, BACKOFF_MS.length - 1)]!;
    this.#attempt++;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (!this.#closed && !this.#client) this.connect().catch(() => undefined);
    }, delay);
    this.#retry.unref();
  }
}
