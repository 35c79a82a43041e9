import type { ProgressUpdate } from './daemon-client.ts';

/**
 * One agent request, one progress token: MCP requires its progress values to increase. A call
 * can go through phases (waiting for approval, then the tool's own progress, which starts again
 * at 0), so each phase is shifted past the last value sent, and anything that would not
 * increase is dropped.
 */
export class ProgressRelay {
  readonly #send: (update: ProgressUpdate) => Promise<void>;
  #offset = 0;
  #last = -1;

  constructor(send: (update: ProgressUpdate) => Promise<void>) {
    this.#send = send;
  }

  /** Start a new phase: its progress counts on from where the previous one stopped. */
  phase(): void {
    this.#offset = Math.max(this.#last, 0);
  }

  forward(update: ProgressUpdate): Promise<void> {
    const progress = this.#offset + update.progress;
    if (progress <= this.#last) return Promise.resolve();
    this.#last = progress;
    return this.#send({
      progress,
      ...(update.total !== undefined ? { total: this.#offset + update.total } : {}),
      ...(update.message !== undefined ? { message: update.message } : {}),
    }).catch(() => undefined);
  }
}
