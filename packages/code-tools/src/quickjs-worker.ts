/**
 * A worker that runs QuickJS tools (quickjs-pool.ts), so that a script never holds the daemon's
 * own thread: the interrupt handler stops loops at the deadline, and the daemon terminates this
 * worker if a run outlives it anyway (a native operation that polls no interrupt). Host
 * functions are proxied to the daemon's thread, where the Host checks them against the grant.
 */
import { parentPort } from 'node:worker_threads';
import { LimitExceeded } from './limits.ts';
import { runQuickJs, ToolCodeError, type HostApi } from './quickjs.ts';

const port = parentPort!;
let next = 0;
const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

const ask = (fn: string, args: unknown[]) =>
  new Promise<unknown>((resolve, reject) => {
    const id = ++next;
    waiting.set(id, { resolve, reject });
    port.postMessage({ type: 'host', id, fn, args });
  });

const host: HostApi = {
  http: (req) => ask('http', [req]),
  kvGet: (key) => ask('kvGet', [key]),
  kvSet: (key, value) => ask('kvSet', [key, value]),
  progress: (...args) => port.postMessage({ type: 'notify', fn: 'progress', args }),
  log: (...args) => port.postMessage({ type: 'notify', fn: 'log', args }),
};

interface Message {
  type: 'run' | 'answer';
  id?: number;
  value?: unknown;
  error?: { name: string; message: string };
  source?: string;
  args?: unknown;
  limits?: { memoryMb: number; callMs: number };
}

port.on('message', (m: Message) => {
  if (m.type === 'answer') {
    const w = waiting.get(m.id!);
    waiting.delete(m.id!);
    if (!w) return;
    if (m.error) w.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
    else w.resolve(m.value);
    return;
  }
  runQuickJs(m.source!, m.args, host, m.limits!).then(
    (value) => port.postMessage({ type: 'done', value }),
    (e: unknown) =>
      port.postMessage({
        type: 'failed',
        kind: e instanceof LimitExceeded ? 'limit' : e instanceof ToolCodeError ? 'code' : 'internal',
        message: (e as Error).message,
      }),
  );
});
