import { Worker } from 'node:worker_threads';
import type { Host } from './host.ts';
import { LimitExceeded, type RunLimits } from './limits.ts';
import { ToolCodeError } from './tool-code-error.ts';

/** Warm workers kept between calls; each call still gets a fresh QuickJS runtime. */
const POOL = 2;
/** How long past its deadline a run may take to stop by itself before its worker is terminated. */
const GRACE_MS = 250;

const idle: Worker[] = [];

function spawnWorker(): Worker {
  const w = new Worker(new URL('./quickjs-worker.ts', import.meta.url), {
    env: {},
    argv: [],
    execArgv: [],
    stdout: true,
    stderr: true,
    resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
  });
  w.unref();
  return w;
}

interface WorkerMessage {
  type: 'host' | 'notify' | 'done' | 'failed';
  id?: number;
  fn?: 'http' | 'kvGet' | 'kvSet' | 'progress' | 'log';
  args?: unknown[];
  value?: unknown;
  kind?: 'limit' | 'code' | 'internal';
  message?: string;
}

/**
 * Run a QuickJS tool in a pooled worker thread (quickjs-worker.ts). Host calls come back here,
 * to the Host that checks them. The worker is terminated, not reused, when the run ends at a
 * limit, is cancelled, or overruns its deadline.
 */
export function runQuickJsInWorker(source: string, args: unknown, host: Host, limits: RunLimits): Promise<unknown> {
  const worker = idle.pop() ?? spawnWorker();
  worker.ref();
  return new Promise<unknown>((resolve, reject) => {
    let finished = false;
    const finish = (e: Error | undefined, value: unknown, reusable: boolean) => {
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
      else resolve(value);
    };
    const timer = setTimeout(
      () => finish(LimitExceeded.time(limits.callMs), undefined, false),
      limits.callMs + GRACE_MS,
    );
    const onAbort = () => finish(new LimitExceeded('the call was cancelled'), undefined, false);
    limits.signal?.addEventListener('abort', onAbort);
    const onError = (e: Error) => finish(new ToolCodeError(`${e.name}: ${e.message}`), undefined, false);
    const onExit = () => finish(new ToolCodeError('the QuickJS worker stopped'), undefined, false);
    const onMessage = (m: WorkerMessage) => {
      if (m.type === 'done') return finish(undefined, m.value, true);
      if (m.type === 'failed') {
        const e =
          m.kind === 'limit'
            ? new LimitExceeded(m.message ?? '')
            : m.kind === 'code'
              ? new ToolCodeError(m.message ?? '')
              : new Error(m.message);
        return finish(e, undefined, m.kind === 'code');
      }
      const a = m.args ?? [];
      if (m.type === 'notify') {
        try {
          if (m.fn === 'progress') host.progress(a[0], a[1], a[2]);
          else host.log(a[0], a[1]);
        } catch {
          // progress and log never refuse; nothing to report back.
        }
        return;
      }
      void Promise.resolve()
        .then((): unknown =>
          m.fn === 'http' ? host.http(a[0]) : m.fn === 'kvGet' ? host.kvGet(a[0]) : host.kvSet(a[0], a[1]),
        )
        .then(
          (value) => !finished && worker.postMessage({ type: 'answer', id: m.id, value: value ?? null }),
          (e: unknown) =>
            !finished &&
            worker.postMessage({
              type: 'answer',
              id: m.id,
              error: { name: (e as Error).name, message: (e as Error).message },
            }),
        );
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage({
      type: 'run',
      source,
      args,
      limits: { memoryMb: limits.memoryMb, callMs: limits.callMs },
    });
  });
}
