import { DaemonConnection, startAdvice } from '@briefcase/api-client';
import {
  API_PATHS,
  BriefcaseError,
  ToolCallResponse,
  ToolListResponse,
  type ApprovalStatus,
} from '@briefcase/protocol';
import { z } from 'zod';

export interface ProgressUpdate {
  progress: number;
  total?: number | undefined;
  message?: string | undefined;
}

/** The lines of the daemon's streamed tool-call answer that come before the response. */
const EventLine = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('progress'),
    progress: z.number(),
    total: z.number().optional(),
    message: z.string().optional(),
  }),
  z.object({
    type: z.literal('log'),
    level: z.enum(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency']),
    logger: z.string().optional(),
    data: z.unknown(),
  }),
]);

const ListVersionsResponse = z.object({
  versions: z.object({ tools: z.string(), resources: z.string(), prompts: z.string() }),
});
export type ListVersions = z.infer<typeof ListVersionsResponse>['versions'];

export type DaemonEvent =
  ({ type: 'progress' } & ProgressUpdate) | { type: 'log'; log: { level: LogLevel; logger?: string; data: unknown } };

type LogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error' | 'critical' | 'alert' | 'emergency';

/**
 * The gateway's only line to the daemon: the agent surface of the daemon API, with the agent
 * token. Every answer is schema-checked; daemon errors become tool-level codes.
 */
export class DaemonClient {
  readonly #conn: DaemonConnection;

  /** `token` null: the agent socket, on which the connection itself is the agent. */
  constructor(socket: string, token: string | null) {
    this.#conn = new DaemonConnection(socket, token);
  }

  async listTools(): Promise<ToolListResponse> {
    return ToolListResponse.parse(await this.#request('GET', API_PATHS.agentTools));
  }

  /**
   * With `onEvent`, the daemon streams the tool's progress and log messages before the response.
   * `traceparent` (W3C Trace Context) makes the daemon's spans part of the gateway's trace.
   */
  async callTool(
    tool: string,
    args: Record<string, unknown>,
    signal?: AbortSignal,
    onEvent?: (e: DaemonEvent) => void,
    traceparent?: string,
  ): Promise<ToolCallResponse> {
    const options = { ...(signal ? { signal } : {}), ...(traceparent ? { headers: { traceparent } } : {}) };
    if (!onEvent)
      return ToolCallResponse.parse(
        await this.#guard(() => this.#conn.request('POST', API_PATHS.agentCall, { tool, args }, options)),
      );
    const last = await this.#guard(() =>
      this.#conn.stream(
        'POST',
        API_PATHS.agentCall,
        { tool, args },
        (line) => {
          const e = EventLine.safeParse(line);
          if (!e.success) return;
          if (e.data.type === 'progress') {
            const { type: _type, ...p } = e.data;
            onEvent({ type: 'progress', ...p });
          } else {
            const { level, logger, data } = e.data;
            onEvent({ type: 'log', log: { level, ...(logger !== undefined ? { logger } : {}), data } });
          }
        },
        options,
      ),
    );
    return ToolCallResponse.parse(last);
  }

  async listResources(): Promise<Record<string, unknown>[]> {
    return z
      .object({ resources: z.array(z.looseObject({ uri: z.string(), name: z.string() })) })
      .parse(await this.#request('GET', '/v1/agent/resources')).resources;
  }

  async listPrompts(): Promise<Record<string, unknown>[]> {
    return z
      .object({ prompts: z.array(z.looseObject({ name: z.string() })) })
      .parse(await this.#request('GET', '/v1/agent/prompts')).prompts;
  }

  async readResource(uri: string, signal?: AbortSignal): Promise<ToolCallResponse> {
    return ToolCallResponse.parse(await this.#request('POST', '/v1/agent/resources/read', { uri }, signal));
  }

  async getPrompt(
    name: string,
    args: Record<string, string> | undefined,
    signal?: AbortSignal,
  ): Promise<ToolCallResponse> {
    const body = { name, ...(args ? { arguments: args } : {}) };
    return ToolCallResponse.parse(await this.#request('POST', '/v1/agent/prompts/get', body, signal));
  }

  /** The daemon's list versions; with `seen`, answers once one differs (or after `waitMs`). */
  async listVersions(seen: ListVersions | undefined, waitMs: number, signal: AbortSignal): Promise<ListVersions> {
    const q = new URLSearchParams({ wait_ms: String(Math.max(0, Math.floor(waitMs))) });
    if (seen) for (const [k, v] of Object.entries(seen)) q.set(k, v);
    const body = await this.#request('GET', `/v1/agent/lists/version?${q}`, undefined, signal);
    return ListVersionsResponse.parse(body).versions;
  }

  async approvalStatus(id: string, waitMs: number, signal?: AbortSignal): Promise<{ status: ApprovalStatus }> {
    const path = `${API_PATHS.agentApproval}${encodeURIComponent(id)}?wait_ms=${Math.max(0, Math.floor(waitMs))}`;
    return (await this.#request('GET', path, undefined, signal)) as { status: ApprovalStatus };
  }

  close(): void {
    this.#conn.close();
  }

  #request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    return this.#guard(() => this.#conn.request(method, path, body, signal ? { signal } : {}));
  }

  async #guard(send: () => Promise<unknown>): Promise<unknown> {
    try {
      return await send();
    } catch (e) {
      if (!(e instanceof BriefcaseError)) throw e;
      // The agent sees tool-level codes only.
      if (e.code === 'bad_request' || e.code === 'payload_too_large')
        throw new BriefcaseError('invalid_args', e.message);
      if (e.code === 'daemon_unreachable') {
        // Said to the agent, whose person reads it: how to start the daemon, as a command that
        // works on this machine (the gateway runs the same `briefcase` the person would).
        throw new BriefcaseError(
          'unavailable',
          `the Briefcase daemon is not running or not reachable; ${startAdvice(this.#conn.socket)}`,
          e.detail,
        );
      }
      if (e.code === 'vault_locked') {
        throw new BriefcaseError('unavailable', 'the Briefcase daemon is not running or not reachable', e.detail);
      }
      throw e.code === 'unavailable' ? e : new BriefcaseError('internal', e.message);
    }
  }
}
