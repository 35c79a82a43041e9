import { spawn } from 'node:child_process';

export interface RunSpec {
  command: string;
  args: string[];
  /** Exactly the environment the process gets: nothing is inherited. */
  env: Record<string, string>;
  cwd?: string | undefined;
  stdin: string | null;
  timeoutMs: number;
  maxOutputBytes: number;
  signal: AbortSignal;
  /**
   * Whether the run has gone over a limit the kernel counts (a pids cgroup's refused forks):
   * asked every `LIMIT_POLL_MS` while it runs and once when it ends; true stops it (`limit`).
   */
  overLimit?: (() => boolean) | undefined;
}

/** How one run ended. `stopped` says why the daemon ended it, when it did. */
export interface RunOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last few KiB of stderr, for the error message of a failed run. */
  stderrTail: string;
  stopped: 'timeout' | 'output_limit' | 'limit' | 'aborted' | null;
}

const STDERR_TAIL = 4096;
/** How often `overLimit` is asked (inotify does not report cgroup v1 event files). */
export const LIMIT_POLL_MS = 100;

/**
 * Run a program once: write its stdin, read stdout up to `maxOutputBytes`, keep the tail of
 * stderr, and kill it (SIGKILL) when it runs past its time, writes past its output limit, or the
 * call is cancelled, with its process group. Under bubblewrap the killed process is bwrap itself,
 * and `--die-with-parent` takes the whole sandbox (its own PID namespace) with it.
 */
export function runProcess(spec: RunSpec): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(spec.command, spec.args, {
      env: spec.env,
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group, so that what it leaves behind can be killed with it.
      detached: true,
    });
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = Buffer.alloc(0);
    let stopped: RunOutcome['stopped'] = null;
    const stop = (why: NonNullable<RunOutcome['stopped']>) => {
      stopped ??= why;
      child.kill('SIGKILL');
      killGroup();
      // A process the program left in a session of its own still holds the pipes; without a PID
      // namespace to end it (isolation "none", macOS) 'close' would wait for it, past the limit.
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const onAbort = () => stop('aborted');
    if (spec.signal.aborted) onAbort();
    else spec.signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => stop('timeout'), spec.timeoutMs);
    const overLimit = spec.overLimit;
    const poll = overLimit
      ? setInterval(() => {
          if (overLimit()) stop('limit');
        }, LIMIT_POLL_MS)
      : undefined;
    const done = () => {
      clearTimeout(timer);
      clearInterval(poll);
      spec.signal.removeEventListener('abort', onAbort);
    };

    child.stdout.on('data', (chunk: Buffer) => {
      if (stopped) return;
      outBytes += chunk.length;
      if (outBytes > spec.maxOutputBytes) return stop('output_limit');
      out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err = Buffer.concat([err, chunk]);
      if (err.length > STDERR_TAIL) err = err.subarray(err.length - STDERR_TAIL);
    });
    // A program that exits without reading its stdin closes the pipe: not an error of the call.
    child.stdin.on('error', () => undefined);
    child.stdin.end(spec.stdin ?? undefined);
    child.once('error', (e) => {
      done();
      reject(e);
    });
    // When the program exits, whatever it started in its group goes too (and stops holding the pipes).
    child.once('exit', killGroup);
    child.once('close', (exitCode, signal) => {
      done();
      // A program that hit the limit and exited before the next poll: the count says so all the same.
      if (!stopped && overLimit?.()) stopped = 'limit';
      resolve({
        exitCode,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderrTail: err.toString('utf8'),
        stopped,
      });
    });
  });
}
