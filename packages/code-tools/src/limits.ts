/** Limits of one code tool call, from the manifest's `access.limits`. */
export interface RunLimits {
  memoryMb: number;
  callMs: number;
  signal?: AbortSignal | undefined;
}

/** A run stopped by a limit (time, memory, cancellation): the call fails as sandbox_violation. */
export class LimitExceeded extends Error {
  override readonly name = 'LimitExceeded';

  static time(ms: number): LimitExceeded {
    return new LimitExceeded(`the tool was stopped at its time limit (${ms} ms)`);
  }

  static memory(): LimitExceeded {
    return new LimitExceeded('the tool ran out of its memory limit');
  }
}
