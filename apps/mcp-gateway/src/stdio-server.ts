import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '@briefcase/telemetry';
import { CatalogError, type CatalogHandlers } from './catalog.ts';
import { LOG_LEVELS, type LogLevel, type LogMessage } from './daemon-answers.ts';
import {
  GATEWAY_CAPABILITIES,
  GATEWAY_INSTRUCTIONS,
  GATEWAY_NAME,
  GATEWAY_VERSION,
  type GatewayHandlers,
} from './handlers.ts';
import type { ListSubscriber } from './list-watch.ts';

/**
 * The protocol revisions this server speaks, newest first: those of the SDK the HTTP gateway
 * runs (@modelcontextprotocol/sdk 1.32.2, SUPPORTED_PROTOCOL_VERSIONS), so both transports
 * negotiate alike. MCP 2025-11-25, lifecycle: answer with the client's revision when supported,
 * else with our latest.
 */
export const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07'];

type Id = string | number;
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const SEVERITY = [...LOG_LEVELS];

/** JSON-RPC 2.0 §5.1 and MCP's use of them. */
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;
const INTERNAL_ERROR = -32603;

class RpcError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * One MCP session over stdio: the small part of an MCP server the gateway needs (initialize,
 * ping, tools/list, tools/call with progress and cancellation, resources and prompts,
 * logging/setLevel, list_changed notifications), on the same handlers as the SDK-based HTTP
 * gateway. The SDK's server brings its zod schemas, Ajv and a
 * JSON-Schema converter, ~30 MiB resident and a schema parse of every request and result; every
 * agent host spawns its own stdio gateway, so issue 13 asks it to load only what it uses. Each
 * message has already been parsed and checked as JSON-RPC (LineFramer) when it gets here.
 */
export class StdioMcpSession implements ListSubscriber {
  readonly #handlers: GatewayHandlers;
  readonly #catalog: CatalogHandlers;
  readonly #send: (message: JSONRPCMessage) => Promise<void>;
  readonly #logger: Logger;
  /** Called on notifications/initialized: from then on the client wants list_changed. */
  oninitialized: (() => void) | undefined;
  /** Requests being answered, so that notifications/cancelled can stop one. */
  readonly #running = new Map<Id, AbortController>();
  #level: LogLevel | undefined;

  constructor(
    handlers: GatewayHandlers,
    catalog: CatalogHandlers,
    send: (message: JSONRPCMessage) => Promise<void>,
    logger: Logger,
  ) {
    this.#handlers = handlers;
    this.#catalog = catalog;
    this.#send = send;
    this.#logger = logger;
  }

  handle(message: JSONRPCMessage): void {
    if (!('method' in message)) return; // a response: this server sends no requests
    const params = isObj(message.params) ? message.params : {};
    if (!('id' in message)) {
      this.#notification(message.method, params);
      return;
    }
    const id = message.id;
    const abort = new AbortController();
    this.#running.set(id, abort);
    this.#request(message.method, params, abort.signal)
      .then(
        (result) => ({ jsonrpc: '2.0' as const, id, result }),
        (e: unknown) => {
          // A refused resource read or prompt get carries its Briefcase code (catalog.ts).
          const known = e instanceof RpcError || e instanceof CatalogError;
          if (!known) this.#logger.warn('MCP request failed', { method: message.method.slice(0, 64), error: e });
          const error = {
            code: known ? e.code : INTERNAL_ERROR,
            message: e instanceof Error ? e.message : String(e),
            ...(e instanceof CatalogError ? { data: e.data } : {}),
          };
          return { jsonrpc: '2.0' as const, id, error };
        },
      )
      .then((answer) => {
        if (this.#running.get(id) === abort) this.#running.delete(id);
        // MCP 2025-11-25, cancellation: no response to a request the client cancelled.
        return abort.signal.aborted ? undefined : this.#send(answer as JSONRPCMessage);
      })
      .catch(() => undefined);
  }

  #notification(method: string, params: Obj): void {
    if (method === 'notifications/cancelled') {
      const id = params.requestId;
      if (typeof id === 'string' || typeof id === 'number') this.#running.get(id)?.abort(params.reason);
    }
    if (method === 'notifications/initialized') this.oninitialized?.();
    // notifications/initialized and anything else: nothing to do.
  }

  async #request(method: string, params: Obj, signal: AbortSignal): Promise<Obj> {
    switch (method) {
      case 'initialize': {
        const asked = params.protocolVersion;
        return {
          protocolVersion:
            typeof asked === 'string' && PROTOCOL_VERSIONS.includes(asked) ? asked : PROTOCOL_VERSIONS[0],
          capabilities: GATEWAY_CAPABILITIES,
          serverInfo: { name: GATEWAY_NAME, version: GATEWAY_VERSION },
          instructions: GATEWAY_INSTRUCTIONS,
        };
      }
      case 'ping':
        return {};
      case 'logging/setLevel': {
        const level = params.level;
        if (typeof level !== 'string' || !LOG_LEVELS.has(level)) {
          throw new RpcError(INVALID_PARAMS, `invalid params: level must be one of ${SEVERITY.join(', ')}`);
        }
        this.#level = level as LogLevel;
        return {};
      }
      case 'tools/list':
        return (await this.#handlers.listTools()) as unknown as Obj;
      case 'tools/call': {
        const { name, arguments: args, _meta: meta } = params;
        if (typeof name !== 'string') throw new RpcError(INVALID_PARAMS, 'invalid params: "name" must be a string');
        if (args !== undefined && !isObj(args)) {
          throw new RpcError(INVALID_PARAMS, 'invalid params: "arguments" must be an object');
        }
        const token = isObj(meta) ? meta.progressToken : undefined;
        const progressToken = typeof token === 'string' || typeof token === 'number' ? token : undefined;
        return (await this.#handlers.callTool(name, args ?? {}, {
          signal,
          progress:
            progressToken === undefined
              ? undefined
              : (p) =>
                  this.#send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken, ...p } }),
          log: (log) => this.#log(log),
        })) as unknown as Obj;
      }
      case 'resources/list':
        return (await this.#catalog.listResources()) as Obj;
      case 'prompts/list':
        return (await this.#catalog.listPrompts()) as Obj;
      case 'resources/read': {
        if (typeof params.uri !== 'string')
          throw new RpcError(INVALID_PARAMS, 'invalid params: "uri" must be a string');
        return (await this.#catalog.readResource(params.uri, signal)) as unknown as Obj;
      }
      case 'prompts/get': {
        const { name, arguments: args } = params;
        if (typeof name !== 'string') throw new RpcError(INVALID_PARAMS, 'invalid params: "name" must be a string');
        if (args !== undefined && !(isObj(args) && Object.values(args).every((v) => typeof v === 'string'))) {
          throw new RpcError(INVALID_PARAMS, 'invalid params: "arguments" must map names to strings');
        }
        return (await this.#catalog.getPrompt(
          name,
          args as Record<string, string> | undefined,
          signal,
        )) as unknown as Obj;
      }
      default:
        throw new RpcError(METHOD_NOT_FOUND, `method not found: ${method.slice(0, 64)}`);
    }
  }

  sendToolListChanged(): Promise<void> {
    return this.#send({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
  }

  sendResourceListChanged(): Promise<void> {
    return this.#send({ jsonrpc: '2.0', method: 'notifications/resources/list_changed' });
  }

  sendPromptListChanged(): Promise<void> {
    return this.#send({ jsonrpc: '2.0', method: 'notifications/prompts/list_changed' });
  }

  /** notifications/message, unless below the level the client set (logging/setLevel). */
  #log(log: LogMessage): Promise<void> {
    if (this.#level !== undefined && SEVERITY.indexOf(log.level) < SEVERITY.indexOf(this.#level)) {
      return Promise.resolve();
    }
    return this.#send({ jsonrpc: '2.0', method: 'notifications/message', params: { ...log } });
  }
}
