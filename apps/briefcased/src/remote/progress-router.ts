import { randomUUID } from 'node:crypto';
import type { Progress, ProgressNotification } from '@modelcontextprotocol/sdk/types.js';

/**
 * Progress from a remote MCP server, routed by progress tokens of our own.
 *
 * Why not the SDK client's `onprogress`: the SDK runs notification handlers a microtask late but
 * handles a response at once, and drops a request's progress handler with its response. When a
 * server's last progress notification and its result arrive in the same read — routine, since
 * the last step ends the operation — the SDK finds no handler ("unknown token") and the progress
 * is lost: 7 of 20 direct calls to server-everything's long-running operation here. A listener
 * here is removed only after the caller has seen the result, which is after that microtask.
 * The SDK's `resetTimeoutOnProgress` goes with it, so the timeout is ours too.
 */
export class ProgressRouter {
  readonly #listeners = new Map<string, (p: Progress) => void>();

  /** The client's handler for `notifications/progress`. */
  handle(n: ProgressNotification): void {
    const { progressToken, ...progress } = n.params;
    this.#listeners.get(String(progressToken))?.(progress);
  }

  /**
   * A progress token for one request, and a signal that aborts when the caller's does or when
   * `timeoutMs` pass without an answer or progress. Close it once the request has settled.
   */
  open(
    onProgress: ((p: Progress) => void) | undefined,
    timeoutMs: number,
    signal: AbortSignal,
  ): { token: string; signal: AbortSignal; timedOut: () => boolean; close: () => void } {
    const token = `briefcase-${randomUUID()}`;
    const timer = new AbortController();
    let timedOut = false;
    let handle: NodeJS.Timeout;
    const arm = () => {
      clearTimeout(handle);
      handle = setTimeout(() => {
        timedOut = true;
        timer.abort(new Error(`timed out after ${timeoutMs} ms without an answer or progress`));
      }, timeoutMs);
    };
    arm();
    this.#listeners.set(token, (p) => {
      arm();
      onProgress?.(p);
    });
    return {
      token,
      signal: AbortSignal.any([signal, timer.signal]),
      timedOut: () => timedOut,
      close: () => {
        clearTimeout(handle);
        this.#listeners.delete(token);
      },
    };
  }
}
