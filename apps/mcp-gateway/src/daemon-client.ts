import { CallStream, DaemonConnection, NO_STREAM, startAdvice } from '@briefcase/api-client';
import { API_PATHS } from '@briefcase/protocol/api-paths';
import { BriefcaseError } from '@briefcase/protocol/errors';
import type { ApprovalStatus, ToolCallResponse, ToolListResponse } from '@briefcase/protocol';
import {
  daemonEvent,
  listOf,
  listVersions,
  toolCallResponse,
  toolListResponse,
  type DaemonEvent,
  type ListVersions,
} from './daemon-answers.ts';

export type { DaemonEvent, ListVersions, LogMessage, ProgressUpdate } from './daemon-answers.ts';

/**
 * The gateway's only line to the daemon: the agent surface of the daemon API, with the agent
 * token. Every answer is shape-checked (daemon-answers.ts); daemon errors become tool-level codes.
 */
export class DaemonClient {
  readonly #conn: DaemonConnection;
  /** Tool calls go over the daemon's call stream when it offers one, else over HTTP. */
  readonly #calls: CallStream;

  /** `token` null: the agent socket, on which the connection itself is the agent. */
  constructor(socket: string, token: string | null) {
    this.#conn = new DaemonConnection(socket, token);
    this.#calls = new CallStream(socket, token, 'agent');
  }

  async listTools(): Promise<ToolListResponse> {
    return toolListResponse(await this.#request('GET', API_PATHS.agentTools));
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
    const events = onEvent
      ? (line: unknown) => {
          const e = daemonEvent(line);
          if (e) onEvent(e);
        }
      : undefined;
    const streamed = await this.#guard(() =>
      this.#calls.call({ tool, args }, { signal, traceparent, onEvent: events }),
    );
    if (streamed !== NO_STREAM) return toolCallResponse(streamed);
    const options = { ...(signal ? { signal } : {}), ...(traceparent ? { headers: { traceparent } } : {}) };
    if (!events)
      return toolCallResponse(
        await this.#guard(() => this.#conn.request('POST', API_PATHS.agentCall, { tool, args }, options)),
      );
    const last = await this.#guard(() =>
      this.#conn.stream('POST', API_PATHS.agentCall, { tool, args }, events, options),
    );
    return toolCallResponse(last);
  }

  async listResources(): Promise<Record<string, unknown>[]> {
    return listOf(await this.#request('GET', '/v1/agent/resources'), 'resources', ['uri', 'name']);
  }

  async listPrompts(): Promise<Record<string, unknown>[]> {
    return listOf(await this.#request('GET', '/v1/agent/prompts'), 'prompts', ['name']);
  }

  async readResource(uri: string, signal?: AbortSignal): Promise<ToolCallResponse> {
    return toolCallResponse(await this.#request('POST', '/v1/agent/resources/read', { uri }, signal));
  }

  async getPrompt(
    name: string,
    args: Record<string, string> | undefined,
    signal?: AbortSignal,
  ): Promise<ToolCallResponse> {
    const body = { name, ...(args ? { arguments: args } : {}) };
    return toolCallResponse(await this.#request('POST', '/v1/agent/prompts/get', body, signal));
  }

  /** The daemon's list versions; with `seen`, answers once one differs (or after `waitMs`). */
  async listVersions(seen: ListVersions | undefined, waitMs: number, signal: AbortSignal): Promise<ListVersions> {
    const q = new URLSearchParams({ wait_ms: String(Math.max(0, Math.floor(waitMs))) });
    if (seen) for (const [k, v] of Object.entries(seen)) q.set(k, v);
    return listVersions(await this.#request('GET', `/v1/agent/lists/version?${q}`, undefined, signal));
  }

  async approvalStatus(id: string, waitMs: number, signal?: AbortSignal): Promise<{ status: ApprovalStatus }> {
    const path = `${API_PATHS.agentApproval}${encodeURIComponent(id)}?wait_ms=${Math.max(0, Math.floor(waitMs))}`;
    return (await this.#request('GET', path, undefined, signal)) as { status: ApprovalStatus };
  }

  close(): void {
    this.#calls.close();
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
