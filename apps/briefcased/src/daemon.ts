import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { ConsoleEvent } from '@briefcase/console';
import type { DatabaseSync } from 'node:sqlite';
import { sha256Hex } from '@briefcase/crypto';
import { readPublicKeys, type KeyRole, type Signer } from '@briefcase/keys';
import { PolicyEngine } from '@briefcase/policy';
import { BriefcaseError } from '@briefcase/protocol';
import { ReceiptLog } from '@briefcase/receipts/node';
import { Logger, startTelemetry, type Telemetry } from '@briefcase/telemetry';
import { loadMasterKey, Scrubber, Vault, type MasterKey, type MasterKeySource } from '@briefcase/vault';
import { startConsole } from '@briefcase/console';
import { closeConnectionPools, denyDaemonListener } from '@briefcase/egress';
import { commandToolsDir } from './tools/command-tool.ts';
import { ApprovalStore } from './approvals/store.ts';
import { consoleBackend } from './console/backend.ts';
import { buildRoutes } from './api/handlers.ts';
import { ListVersionWatch } from './api/list-version.ts';
import { listenHttp, listenSocket, createApiServer } from './api/server.ts';
import { destroyCallStreams } from './api/call-stream.ts';
import { listenAgentSocket, prepareAgentSocket, type PreparedAgentSocket } from './api/agent-socket.ts';
import { SpendLedger } from './budget/ledger.ts';
import { loadConfig, type AgentSocketConfig, type Config } from './config.ts';
import { startDesktopNotifications } from './notifications.ts';
import { DEMO_API_SECRET, startDemoApi } from './demo/demo-api.ts';
import { refreshDeviceStatement } from './keys/device-statement.ts';
import { daemonAnswers, dataPaths, type DataPaths } from './paths.ts';
import { loadKeys } from './keys/load-keys.ts';
import { Payments } from './payments/service.ts';
import { CallPipeline } from './pipeline/pipeline.ts';
import { loadRemotes } from './remote/config.ts';
import { RemoteManager } from './remote/manager.ts';
import { PinStore } from './remote/pins.ts';
import { OperationStore } from './presence/operations.ts';
import { PasskeyStore } from './presence/passkeys.ts';
import { PresenceService } from './presence/presence.ts';
import { anchorWriter, guardReceiptLog } from './receipts-guard.ts';
import { CommitQueue } from './store/commit-queue.ts';
import { openDatabase } from './store/db.ts';
import { readToken } from './tokens.ts';
import { loadRegistry, type ToolRegistry } from './tools/registry.ts';
import { ConnectorApprovals } from './connectors/approvals.ts';
import { ConnectorDirectory } from './connectors/directory.ts';
import { watchConnectors } from './connectors/watch.ts';
import { VERSION } from './version.ts';
import { cli, setHintHome } from './cli-hint.ts';

export { VERSION };

export interface DaemonOptions {
  home: string;
  /** Serve the HTTP API on 127.0.0.1:port as well (overrides config). */
  httpPort?: number;
  /** Host for the HTTP API; only loopback addresses are accepted. */
  httpHost?: string;
  /** Log to stderr as well as logs/daemon.log (foreground runs). */
  foreground?: boolean;
  passphrase?: string | undefined;
  /** Roles whose key must be non-exportable, in addition to config `keys.strict`. */
  strictRoles?: KeyRole[];
  /**
   * Ask a person for a token's PIN (a foreground start in a terminal). Tried after
   * BRIEFCASE_PKCS11_PIN and the vault secret `pkcs11.pin.<token label>`.
   */
  askPin?: (tokenLabel: string) => Promise<string | undefined>;
  /** Start on a receipt log that does not extend what was last signed (receipts-guard.ts). */
  acceptAlteredReceipts?: boolean;
  /** Serve the console on this port (0: any free port); a port in use is then an error. */
  consolePort?: number;
  /** Also listen on an agent socket (overrides config `daemon.agent_socket`; docs/service.md). */
  agentSocket?: AgentSocketConfig;
}

/** What `start` has checked and opened before it assembles the daemon. */
interface Checked {
  options: DaemonOptions;
  paths: DataPaths;
  config: Config;
  logger: Logger;
  telemetry: Telemetry;
  master: MasterKey;
  vault: Vault;
  scrubber: Scrubber;
  keys: Record<KeyRole, Signer>;
  policy: { engine: PolicyEngine; hash: string };
  registry: ToolRegistry;
  agentSocket: PreparedAgentSocket | undefined;
}

/** Everything the API handlers may use. */
export interface Services {
  paths: DataPaths;
  config: Config;
  db: DatabaseSync;
  logger: Logger;
  /** Traces and metrics (NOOP_TELEMETRY unless OTEL_* variables ask for export). */
  telemetry: Telemetry;
  vault: Vault;
  scrubber: Scrubber;
  /** Each role's key (software or PKCS#11); a rotation replaces one. */
  keys: Record<KeyRole, Signer>;
  /** The vault master key, to open or create keys (rotation). Never leaves the daemon. */
  masterKey: Uint8Array;
  receipts: ReceiptLog;
  approvals: ApprovalStore;
  ledger: SpendLedger;
  /** Grants, the payment ledger and the rails (docs/payments.md). */
  payments: Payments;
  /** The one writer of the database (group commit; waits out other processes' locks). */
  commits: CommitQueue;
  pipeline: CallPipeline;
  registry: ReturnType<typeof loadRegistry>;
  remotes: RemoteManager;
  policy: { engine: PolicyEngine; hash: string };
  keySource: MasterKeySource;
  tokens: { agent: string; admin: string };
  startedAt: Date;
  /**
   * API connections accepted since start, on every listener, and call streams open now (issue
   * 13: the gateway keeps one connection for all its calls; `GET /v1/admin/status` reports both
   * so a test can tell).
   */
  apiConnections: { accepted: number; callStreams: number };
  /** Passkeys and their ceremonies (issue 9). */
  presence: PresenceService;
  /** Guarded admin changes waiting for a passkey. */
  operations: OperationStore;
  /** Changes the console shows live (operations, passkeys); approvals have their own emitter. */
  events: EventEmitter<{ event: [ConsoleEvent] }>;
  /** connectors/, each file on its own, hot-reloaded (docs/connectors.md). */
  connectors: ConnectorDirectory;
  connectorApprovals: ConnectorApprovals;
  /** The version of each agent-visible list (tools, resources, prompts), for list_changed. */
  lists: ListVersionWatch;
  /** The web console, when it is running. */
  /** The daemon API over HTTP, when it listens there (`briefcase status` shows it). */
  httpAddress?: { host: string; port: number };
  console?: { url: string; mintViewerSession(ttlSeconds?: number): { token: string; expires_at: string } };
}

/**
 * briefcased: the single enforcement point (DESIGN.md §1). Start-up validates everything first
 * (config, policy, connectors, keys) and refuses to start with the file, path and reason of
 * every problem; nothing is listening until all of it is good.
 */
export class Daemon {
  readonly services: Services;
  readonly #servers: Server[] = [];
  #sweeper: NodeJS.Timeout | undefined;
  #unwatch: (() => void) | undefined;
  #paymentSweeper: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #stopNotifications: (() => void) | undefined;
  #stopping: Promise<void> | undefined;
  httpAddress: { host: string; port: number } | undefined;
  demoAddress: { port: number } | undefined;
  consoleUrl: string | undefined;

  private constructor(services: Services) {
    this.services = services;
  }

  static async start(options: DaemonOptions): Promise<Daemon> {
    const paths = dataPaths(options.home);
    setHintHome(paths.home);
    if (!existsSync(paths.config) || !existsSync(paths.adminToken)) {
      throw new BriefcaseError('invalid_config', `${paths.home} is not initialised: run \`${cli('init')}\` first`);
    }
    const mode = statSync(paths.home).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new BriefcaseError(
        'invalid_config',
        `${paths.home} has mode ${mode.toString(8)}: other users could read it. Run \`chmod 700 ${paths.home}\``,
      );
    }
    const config = loadConfig(paths.config);
    const logger = new Logger({
      component: 'briefcased',
      level: config.log.level,
      file: `${paths.logs}/daemon.log`,
      stderr: options.foreground ?? false,
    });
    const telemetry = await startTelemetry('briefcased');

    const master = await loadMasterKey(paths.home, { passphrase: options.passphrase });
    const vault = Vault.open(paths.home, master.key);
    const scrubber = new Scrubber(vault.allValues());
    logger.setScrubber((line) => scrubber.scrub(line));
    const policyText = readFileSync(paths.policy, 'utf8');
    const engine = PolicyEngine.load(policyText);
    if (!engine.ok) {
      throw new BriefcaseError('invalid_policy', engine.error.map((e) => `${paths.policy}: ${e}`).join('\n'));
    }
    // Connectors are loaded once the database is open, each on its own (connectors/directory.ts).
    const registry = loadRegistry(undefined, join(paths.home, 'code-tools'), commandToolsDir(paths.home));

    await ensureNotRunning(paths.socket);
    const agentSocketConfig = options.agentSocket ?? config.daemon.agent_socket;
    const agentSocket = agentSocketConfig ? await prepareAgentSocket(agentSocketConfig, paths.home) : undefined;
    // Keys last among the checks: a token's PIN is asked for only when everything else is good.
    const keys = await loadKeys(paths.home, master.key, vault, options.askPin);
    try {
      return await Daemon.#assemble({
        options,
        paths,
        config,
        logger,
        telemetry,
        master,
        vault,
        scrubber,
        keys,
        policy: { engine: engine.value, hash: sha256Hex(policyText) },
        registry,
        agentSocket,
      });
    } catch (e) {
      for (const k of Object.values(keys)) k.close();
      throw e;
    }
  }

  /** Everything after the checks: the stores, the log, the servers. Keys are closed if it fails. */
  static async #assemble(start: Checked): Promise<Daemon> {
    const { options, paths, config, logger, telemetry, master, vault, scrubber, keys, policy, registry } = start;
    // Strict mode: a role that must be hardware-backed does not start on a software key.
    for (const role of new Set([...config.keys.strict, ...(options.strictRoles ?? [])])) {
      if (!keys[role].nonExportable) {
        throw new BriefcaseError(
          'invalid_config',
          `strict mode: the ${role} key is a ${keys[role].backend} key, which can be copied; put it on a token with \`${cli('keys', 'create', '--role', role, '--backend', 'pkcs11')} …\` or drop "${role}" from keys.strict`,
        );
      }
    }
    const signer = keys.receipts;
    const dpopKey = keys.dpop;

    const db = openDatabase(paths.db);
    const receipts = new ReceiptLog(db, signer, {
      checkpointEvery: config.receipts.checkpoint_every,
      checkpointSeconds: config.receipts.checkpoint_seconds,
      knownKeys: readPublicKeys(paths.home, 'receipts')
        .slice(1)
        .map((k) => ({ key_id: k.keyId, jwk: k.jwk })),
      onCheckpoint: anchorWriter(paths, logger),
    });
    try {
      await guardReceiptLog(db, receipts, paths, logger, options.acceptAlteredReceipts ?? false);
    } catch (e) {
      db.close();
      throw e;
    }
    const approvals = new ApprovalStore(db);
    const ledger = new SpendLedger(db);
    const payments = new Payments({
      db,
      home: paths.home,
      masterKey: master.key,
      identity: () => keys.identity,
      config: () => config.payments,
      secret: (name) => vault.get(name),
    });
    const commits = new CommitQueue(db, {
      afterRollback: () => receipts.resync(),
      lockWaitMs: config.limits.db_lock_wait_seconds * 1000,
    });
    const remotes = new RemoteManager({
      home: paths.home,
      registry,
      pins: new PinStore(db),
      receipts,
      vault,
      logger,
      maxResultBytes: config.limits.max_result_bytes,
      dpopKey,
      onSecret: (value) => scrubber.add(value),
      scrub: (text) => scrubber.scrub(text),
      // Called only once servers run (after `lists` below exists).
      onListsChanged: () => lists.touch(),
    });
    const lists = new ListVersionWatch({
      tools: () => registry.list(),
      resources: () => remotes.resourceList(),
      prompts: () => remotes.promptList(),
    });
    registry.onChange(() => lists.touch());

    const presence = new PresenceService(new PasskeyStore(db));
    const connectorApprovals = new ConnectorApprovals(db);
    const connectors = new ConnectorDirectory({
      dir: paths.connectors,
      registry,
      approvals: connectorApprovals,
      receipts,
      logger,
      guarded: () => presence.enrolled(),
      remoteNames: () => loadRemotes(paths.home).map((r) => r.name),
    });
    const services: Services = {
      paths,
      config,
      db,
      logger,
      telemetry,
      vault,
      scrubber,
      keys,
      masterKey: master.key,
      receipts,
      approvals,
      ledger,
      payments,
      commits,
      registry,
      remotes,
      policy,
      keySource: master.source,
      presence,
      connectors,
      connectorApprovals,
      operations: new OperationStore(db),
      events: new EventEmitter(),
      lists,
      tokens: { agent: readToken(paths.agentToken), admin: readToken(paths.adminToken) },
      startedAt: new Date(),
      apiConnections: { accepted: 0, callStreams: 0 },
      pipeline: new CallPipeline({
        db,
        commits,
        registry,
        policy: () => policy.engine,
        approvals,
        ledger,
        payments,
        receipts,
        vault,
        scrubber,
        logger,
        telemetry,
        dataDir: paths.home,
        settings: () => ({
          caps: config.budgets.caps,
          currency: config.budgets.currency,
          approvalTtlSeconds: config.approvals.ttl_seconds,
          approvalWaitMs: config.approvals.wait_seconds * 1000,
          maxPendingApprovals: config.approvals.max_pending,
          maxResultBytes: config.limits.max_result_bytes,
        }),
      }),
    };
    await refreshDeviceStatement(paths, keys.identity, receipts);
    const daemon = new Daemon(services);
    telemetry.observeApprovalsWaiting(
      () => approvals.pendingCount('agent').count + approvals.pendingCount('admin').count,
    );
    daemon.#recover();
    // Connectors before remote servers: a server named like a connector's namespace is refused.
    connectors.scan();
    // Payments in doubt after a crash: asked of the rail (the chain), settled or released, receipted.
    await payments.recover(receipts, logger);
    receipts.append('daemon', 'daemon', {
      event: 'started',
      version: VERSION,
      pid: process.pid,
      policy_sha256: policy.hash,
      tools: registry.list().length,
    });
    // Signed at once: a tail after this run's last checkpoint is then a crash's, and records after
    // a clean stop's checkpoint are nobody's (receipts-guard.ts).
    await receipts.checkpoint();

    daemon.#unwatch = watchConnectors(paths.connectors, () => connectors.scan(), logger).stop;
    await remotes.start();
    const api = createApiServer(buildRoutes(services), services);
    await listenSocket(api, paths.socket);
    daemon.#servers.push(api);
    if (start.agentSocket) {
      const agentApi = createApiServer(buildRoutes(services), services, { fixedRole: 'agent' });
      try {
        await listenAgentSocket(agentApi, start.agentSocket);
      } catch (e) {
        await daemon.stop();
        throw e;
      }
      daemon.#servers.push(agentApi);
      logger.info('agent socket listening', { path: start.agentSocket.path, group: start.agentSocket.group });
    }
    const httpEnabled = options.httpPort !== undefined || config.daemon.http.enabled;
    if (httpEnabled) {
      const host = options.httpHost ?? config.daemon.http.host;
      const port = options.httpPort ?? config.daemon.http.port;
      const httpApi = createApiServer(buildRoutes(services), services);
      try {
        daemon.httpAddress = await listenHttp(httpApi, host, port);
        services.httpAddress = daemon.httpAddress;
        const h = daemon.httpAddress.host;
        denyDaemonListener(
          `${h.includes(':') ? `[${h}]` : h === 'localhost' ? '127.0.0.1' : h}:${daemon.httpAddress.port}`,
        );
      } catch (e) {
        await daemon.stop();
        throw e;
      }
      daemon.#servers.push(httpApi);
    }
    if (options.consolePort !== undefined) await daemon.#startConsole(options.consolePort, true);
    else if (config.console.enabled) await daemon.#startConsole(config.console.port, false);
    if (config.demo.enabled) {
      const key = vault.get(DEMO_API_SECRET);
      if (key) {
        try {
          const demo = await startDemoApi(key.expose(), config.demo.api_port);
          daemon.#servers.push(demo);
          const address = demo.address();
          daemon.demoAddress = { port: typeof address === 'object' && address ? address.port : config.demo.api_port };
        } catch (e) {
          logger.warn('demo API could not start', { port: config.demo.api_port, error: e });
        }
      }
    }
    daemon.#stopNotifications = startDesktopNotifications(services);
    writeFileSync(paths.pidFile, `${process.pid}\n`, { mode: 0o600 });
    daemon.#sweeper = setInterval(() => daemon.#expireApprovals(), 1000);
    daemon.#sweeper.unref();
    // Held payments (a settlement that could not be verified) are asked of the rail again.
    const sweep = config.payments.sweep;
    daemon.#paymentSweeper = setInterval(
      () => {
        const { payments, commits, receipts: log, logger: l } = daemon.services;
        void payments.sweep(
          (body) => commits.run(() => log.append('payment', 'daemon', body)),
          l,
          (sweep?.min_age_seconds ?? 600) * 1000,
        );
      },
      (sweep?.interval_seconds ?? 60) * 1000,
    );
    daemon.#paymentSweeper.unref();
    logger.info('briefcased started', {
      socket: paths.socket,
      http: daemon.httpAddress ?? null,
      console: daemon.consoleUrl ?? null,
      pid: process.pid,
    });
    return daemon;
  }

  /**
   * The web console on http://localhost:PORT. Asked for by flag, a port in use stops the start;
   * on by config default, it is a warning and `briefcase console` says why it is off.
   */
  async #startConsole(port: number, required: boolean): Promise<void> {
    const { services } = this;
    try {
      const handle = await startConsole({ backend: consoleBackend(services), port, logger: services.logger });
      services.presence.setOrigin(handle.url);
      // No tool reaches the console, whatever its manifest grants.
      denyDaemonListener(`127.0.0.1:${handle.port}`);
      services.console = { url: handle.url, mintViewerSession: (ttl) => handle.mintViewerSession(ttl) };
      this.#servers.push(handle.server);
      this.consoleUrl = handle.url;
    } catch (e) {
      if (!required) {
        services.logger.warn('the console could not start; everything else runs', { port, error: e });
        return;
      }
      await this.stop();
      throw e;
    }
  }

  /** Start-up recovery: spend reserved by a run that crashed keeps counting, and is receipted. */
  #recover(): void {
    const { ledger, receipts, logger } = this.services;
    for (const open of ledger.recoverOpen()) {
      receipts.append('recovery', 'daemon', {
        event: 'spend_in_doubt',
        spend_id: open.id,
        tool: open.tool,
        amount: open.estimated,
        note: 'the daemon stopped during this call; its estimated cost stays counted against budgets',
      });
      logger.warn('spend in doubt after an unclean stop', { tool: open.tool, amount: open.estimated });
    }
    this.#expireApprovals();
  }

  /**
   * Expire approvals past their time, receipted in the same transaction. Runs through the commit
   * queue, so a write lock held by another process delays it (timers, no blocking) instead of
   * throwing out of the interval; one sweep at a time.
   */
  #expireApprovals(): void {
    if (this.#sweeping) return;
    const { approvals, receipts, commits, logger } = this.services;
    this.#sweeping = commits
      .run(() => {
        const expired = approvals.expireDue();
        for (const a of expired) {
          receipts.append('approval', 'daemon', {
            event: 'expired',
            approval_id: a.id,
            call_hash: a.call_hash,
            tool: a.tool,
          });
        }
        for (const op of this.services.operations.expireDue()) {
          receipts.append('operation', 'daemon', { event: 'expired', operation_id: op.id, kind: op.kind });
        }
        return expired;
      })
      .then(
        (expired) => {
          for (const a of expired) approvals.notify(a.id);
        },
        (e: unknown) => logger.error('approval expiry failed; retrying on the next sweep', { error: e }),
      )
      .finally(() => {
        this.#sweeping = undefined;
      });
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const { receipts, db, logger, paths } = this.services;
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#unwatch?.();
    if (this.#paymentSweeper) clearInterval(this.#paymentSweeper);
    this.#stopNotifications?.();
    await this.#sweeping;
    await Promise.all(
      this.#servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
            destroyCallStreams(s);
          }),
      ),
    );
    // Closing the connections aborted the calls in flight; each still writes its receipt.
    await this.services.pipeline.settled(5_000);
    await this.services.remotes.close();
    closeConnectionPools();
    this.services.payments.close();
    // Before the database closes: the approvals gauge reads it on the last export.
    await this.services.telemetry.shutdown().catch((e: unknown) => logger.warn('telemetry flush failed', { error: e }));
    try {
      receipts.append('daemon', 'daemon', { event: 'stopped', pid: process.pid });
      await receipts.close();
      await this.services.commits.close();
      db.close();
      // Signed after the last checkpoint, so exports made while the daemon is stopped verify
      // against the device ID (a statement covers checkpoints up to its own time).
      await refreshDeviceStatement(paths, this.services.keys.identity, receipts);
    } catch (e) {
      logger.error('shutdown: could not close the receipt log cleanly', { error: e });
    } finally {
      for (const key of Object.values(this.services.keys)) key.close();
    }
    rmSync(paths.pidFile, { force: true });
    logger.info('briefcased stopped');
    logger.close();
  }
}

/** A live daemon on the socket is an error; a stale socket file from a crash is removed. */
async function ensureNotRunning(socket: string): Promise<void> {
  if (await daemonAnswers(socket)) throw new BriefcaseError('conflict', `a daemon is already running on ${socket}`);
  rmSync(socket, { force: true });
}
