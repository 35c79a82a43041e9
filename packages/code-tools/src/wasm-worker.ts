/**
 * The worker WebAssembly tools run in (wasm.ts), one run at a time, a fresh instance (and so a
 * fresh memory) per run: the module gets exactly the `host` imports below and nothing of Node.
 * Host calls that need an answer (`call`) block this thread on a SharedArrayBuffer until the
 * main thread has checked and run them; the main thread terminates the worker at a run's
 * deadline, which is what stops an infinite loop.
 */
import { parentPort } from 'node:worker_threads';

interface Run {
  module: WebAssembly.Module;
  input: string;
  sab: SharedArrayBuffer;
}

const port = parentPort!;

function run({ module, input, sab }: Run): void {
  const state = new Int32Array(sab, 0, 2);
  const buffer = new Uint8Array(sab, 8);
  let answer: Uint8Array = new Uint8Array(0);
  const bound: { memory?: () => Uint8Array } = {};
  const memory = () => {
    if (!bound.memory) throw new RangeError('a host call before the module was instantiated');
    return bound.memory();
  };
  const read = (ptr: number, len: number): string => {
    const m = memory();
    if (ptr < 0 || len < 0 || ptr + len > m.length) throw new RangeError('host call outside the module memory');
    return Buffer.from(m.subarray(ptr, ptr + len)).toString('utf8');
  };
  const host = {
    log(ptr: number, len: number) {
      port.postMessage({ type: 'log', text: read(ptr, len) });
    },
    progress(done: number, total: number) {
      port.postMessage({ type: 'progress', done, total });
    },
    output(ptr: number, len: number) {
      port.postMessage({ type: 'output', text: read(ptr, len) });
    },
    /** A request as JSON ({"fn":"http"|"kv_get"|"kv_set", …}); returns the length of the answer. */
    call(ptr: number, len: number): number {
      Atomics.store(state, 0, 0);
      port.postMessage({ type: 'call', request: read(ptr, len) });
      Atomics.wait(state, 0, 0);
      answer = buffer.slice(0, Atomics.load(state, 1));
      return answer.length;
    },
    /** Copy the last answer to `ptr` (the module allocates `call`'s result length first). */
    take(ptr: number) {
      const m = memory();
      if (ptr < 0 || ptr + answer.length > m.length) throw new RangeError('host call outside the module memory');
      m.set(answer, ptr);
    },
  };
  const instance = new WebAssembly.Instance(module, { host });
  bound.memory = () => new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer);
  const exports = instance.exports as { alloc(len: number): number; run(ptr: number, len: number): void };
  const bytes = Buffer.from(input, 'utf8');
  const ptr = exports.alloc(bytes.length);
  const m = memory();
  if (ptr < 0 || ptr + bytes.length > m.length) throw new RangeError('alloc returned a pointer outside the memory');
  m.set(bytes, ptr);
  exports.run(ptr, bytes.length);
}

port.on('message', (m: Run) => {
  try {
    run(m);
    port.postMessage({ type: 'done' });
  } catch (e) {
    port.postMessage({ type: 'trap', message: `${(e as Error).name}: ${(e as Error).message}` });
  }
});
