import { Worker } from 'node:worker_threads';
import { HostRefusal, type Host } from './host.ts';
import { LimitExceeded, type RunLimits } from './limits.ts';
import { ToolCodeError } from './tool-code-error.ts';

/** Warm workers kept between runs; each run gets a fresh instance and memory. */
const POOL = 2;
const idle: Worker[] = [];

function spawnWorker(): Worker {
  const w = new Worker(new URL('./wasm-worker.ts', import.meta.url), {
    env: {},
    argv: [],
    execArgv: [],
    stdout: true,
    stderr: true,
    resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8, stackSizeMb: 4 },
  });
  w.unref();
  return w;
}

/** The answer buffer shared with the worker: an HTTP body (1 MiB) in JSON, with room to spare. */
const ANSWER_BYTES = 3 * 1024 * 1024;

/**
 * Run a checked WebAssembly tool (wasm-check.ts) in a pooled worker thread with only the `host`
 * imports: `run(ptr, len)` gets the arguments as JSON, `host.output(ptr, len)` sets the result
 * (JSON or text). Each run is a fresh instance with a fresh memory. The worker is terminated at
 * the deadline, and not reused: a WebAssembly loop cannot be interrupted from inside, only its
 * thread can be stopped. Memory is bounded by the module's declared maximum, which the check
 * held to the manifest's limit.
 */
export function runWasm(module: WebAssembly.Module, args: unknown, host: Host, limits: RunLimits): Promise<unknown> {
  const sab = new SharedArrayBuffer(8 + ANSWER_BYTES);
  const state = new Int32Array(sab, 0, 2);
  const buffer = new Uint8Array(sab, 8);
  const worker = idle.pop() ?? spawnWorker();
  worker.ref();
  let output: string | undefined;
  return new Promise<unknown>((resolve, reject) => {
    let finished = false;
    const finish = (e: Error | undefined, reusable = false) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      worker.unref();
      if (reusable && idle.length < POOL) idle.push(worker);
      else void worker.terminate();
      if (e) reject(e);
      else resolve(parseOutput(output));
    };
    const timer = setTimeout(() => finish(LimitExceeded.time(limits.callMs)), limits.callMs);
    const onAbort = () => finish(new LimitExceeded('the call was cancelled'));
    limits.signal?.addEventListener('abort', onAbort);
    const answer = (value: unknown) => {
      let bytes = Buffer.from(JSON.stringify(value));
      if (bytes.length > ANSWER_BYTES) bytes = Buffer.from(JSON.stringify({ error: 'the answer is too large' }));
      buffer.set(bytes);
      Atomics.store(state, 1, bytes.length);
      Atomics.store(state, 0, 1);
      Atomics.notify(state, 0);
    };
    const onMessage = (m: {
      type: string;
      text?: string;
      done?: number;
      total?: number;
      request?: string;
      message?: string;
    }) => {
      try {
        if (m.type === 'log') host.log('info', m.text);
        else if (m.type === 'progress') host.progress(m.done, m.total);
        else if (m.type === 'output') output = m.text;
        else if (m.type === 'done') finish(undefined, true);
        else if (m.type === 'trap') finish(new ToolCodeError(m.message ?? 'trap'), true);
        else if (m.type === 'call') {
          void hostCall(host, m.request ?? '').then(answer, (e: unknown) => answer({ error: (e as Error).message }));
        }
      } catch (e) {
        // A refused log or progress after a violation: the run ends as the violation.
        if (!(e instanceof HostRefusal)) finish(e as Error);
      }
    };
    const onError = (e: Error) => {
      const message = `${e.name}: ${e.message}`;
      finish(
        /out of memory|ERR_WORKER_OUT_OF_MEMORY/i.test(message) ? LimitExceeded.memory() : new ToolCodeError(message),
      );
    };
    const onExit = () => finish(new ToolCodeError('the module stopped without finishing'));
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage({ module, input: JSON.stringify(args ?? null), sab });
  });
}

async function hostCall(host: Host, request: string): Promise<unknown> {
  let req: { fn?: unknown; request?: unknown; key?: unknown; value?: unknown };
  try {
    req = JSON.parse(request) as typeof req;
  } catch {
    return { error: 'the host call is not JSON' };
  }
  switch (req.fn) {
    case 'http':
      return { ok: await host.http(req.request) };
    case 'kv_get':
      return { ok: host.kvGet(req.key) };
    case 'kv_set':
      host.kvSet(req.key, req.value ?? null);
      return { ok: null };
    default:
      return { error: 'fn is one of http, kv_get, kv_set' };
  }
}

function parseOutput(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
