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
}

/** How one run ended. `stopped` says why the daemon ended it, when it did. */
export interface RunOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last few KiB of stderr, for the error message of a failed run. */
  stderrTail: string;
  stopped: 'timeout' | 'output_limit' | 'aborted' | null;
}

const STDERR_TAIL = 4096;

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
    };
    const timer = setTimeout(() => stop('timeout'), spec.timeoutMs);
    const onAbort = () => stop('aborted');
    if (spec.signal.aborted) onAbort();
    else spec.signal.addEventListener('abort', onAbort, { once: true });

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
      clearTimeout(timer);
      spec.signal.removeEventListener('abort', onAbort);
      reject(e);
    });
    // When the program exits, whatever it started in its group goes too (and stops holding the pipes).
    child.once('exit', killGroup);
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      spec.signal.removeEventListener('abort', onAbort);
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
