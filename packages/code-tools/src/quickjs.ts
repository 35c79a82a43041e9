import {
  getQuickJS,
  type QuickJSContext,
  type QuickJSDeferredPromise,
  type QuickJSHandle,
  type QuickJSRuntime,
} from 'quickjs-emscripten';
/** The host functions as the script's engine sees them: the Host itself, or its proxy in a worker. */
export interface HostApi {
  http(req: unknown): Promise<unknown>;
  kvGet(key: unknown): unknown;
  kvSet(key: unknown, value: unknown): unknown;
  progress(progress: unknown, total?: unknown, message?: unknown): void;
  log(level: unknown, data: unknown): void;
}
import { LimitExceeded, type RunLimits } from './limits.ts';
import { ToolCodeError } from './tool-code-error.ts';

/** Native stack the script may use: deep recursion ends in a RangeError, not in a daemon crash. */
const MAX_STACK_BYTES = 512 * 1024;

/**
 * Run a QuickJS tool: a script that defines a global `main(args, host)` (sync or async) and
 * returns a JSON value. A fresh runtime per call, with no module loader (`import()` rejects), no
 * `process`, `require`, `fetch` or timers: the only way out is the `host` object below, whose
 * functions the Host checks against the manifest. Memory is capped by QuickJS's allocator, time
 * by an interrupt handler (a loop) and a host-side deadline (a host call that never returns).
 */
export async function runQuickJs(source: string, args: unknown, host: HostApi, limits: RunLimits): Promise<unknown> {
  const QuickJS = await getQuickJS();
  const deadline = Date.now() + limits.callMs;
  const rt = QuickJS.newRuntime();
  rt.setMemoryLimit(limits.memoryMb * 1024 * 1024);
  rt.setMaxStackSize(MAX_STACK_BYTES);
  let stopped: LimitExceeded | undefined;
  rt.setInterruptHandler(() => {
    if (Date.now() >= deadline) stopped ??= LimitExceeded.time(limits.callMs);
    else if (limits.signal?.aborted) stopped ??= new LimitExceeded('the call was cancelled');
    return stopped !== undefined;
  });
  const vm = rt.newContext();
  const pending = new Set<QuickJSDeferredPromise>();
  try {
    installHost(vm, rt, host, pending);
    const evaluated = vm.evalCode(source, 'tool.js');
    throwIfError(vm, evaluated, () => stopped);
    evaluated.value.dispose();
    const main = vm.getProp(vm.global, 'main');
    if (vm.typeof(main) !== 'function') {
      main.dispose();
      throw new Error('the tool defines no global function main(args, host)');
    }
    const argsHandle = jsonToHandle(vm, args);
    const hostHandle = vm.getProp(vm.global, 'host');
    const called = vm.callFunction(main, vm.undefined, argsHandle, hostHandle);
    main.dispose();
    argsHandle.dispose();
    hostHandle.dispose();
    throwIfError(vm, called, () => stopped);
    const settled = vm.resolvePromise(called.value);
    called.value.dispose();
    drain(rt);
    let timer: NodeJS.Timeout | undefined;
    const outOfTime = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject((stopped ??= LimitExceeded.time(limits.callMs))),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      const result = await Promise.race([settled, outOfTime]);
      throwIfError(vm, result, () => stopped);
      const text = vm.getString(
        vm.unwrapResult(vm.evalCode('(v) => JSON.stringify(v ?? null)')).consume((fn) => {
          const r = vm.callFunction(fn, vm.undefined, result.value);
          result.value.dispose();
          return vm.unwrapResult(r);
        }),
      );
      return text === undefined ? null : JSON.parse(text);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    for (const d of pending) d.dispose();
    try {
      vm.dispose();
      rt.dispose();
    } catch {
      // A handle still alive after a stopped run: the runtime is dropped all the same.
    }
  }
}

function drain(rt: QuickJSRuntime): void {
  const jobs = rt.executePendingJobs();
  if (jobs.error) jobs.error.dispose();
}

type VmResult = { error: QuickJSHandle; value?: undefined } | { value: QuickJSHandle; error?: undefined };

function throwIfError(
  vm: QuickJSContext,
  r: VmResult,
  stopped: () => LimitExceeded | undefined,
): asserts r is { value: QuickJSHandle } {
  if (!r.error) return;
  const dumped = vm.dump(r.error) as { name?: string; message?: string } | string;
  r.error.dispose();
  const limit = stopped();
  if (limit) throw limit;
  const message =
    typeof dumped === 'object' && dumped ? `${dumped.name ?? 'Error'}: ${dumped.message ?? ''}` : String(dumped);
  if (/out of memory/i.test(message)) throw LimitExceeded.memory();
  throw new ToolCodeError(message);
}

export { ToolCodeError };

function jsonToHandle(vm: QuickJSContext, value: unknown): QuickJSHandle {
  return vm.unwrapResult(vm.evalCode(`(${JSON.stringify(JSON.stringify(value ?? null))})`)).consume((s) => {
    const parse = vm.unwrapResult(vm.evalCode('JSON.parse'));
    const r = vm.callFunction(parse, vm.undefined, s);
    parse.dispose();
    return vm.unwrapResult(r);
  });
}

/**
 * The `host` global: `http`, `kv.get`/`kv.set`/`kv.delete` return promises; `progress` and
 * `log` (also `console.log`) are fire-and-forget. A refusal rejects with an Error whose message
 * says what was refused.
 */
function installHost(
  vm: QuickJSContext,
  rt: QuickJSRuntime,
  host: HostApi,
  pending: Set<QuickJSDeferredPromise>,
): void {
  const asyncFn = (name: string, run: (...args: unknown[]) => Promise<unknown> | unknown) =>
    vm.newFunction(name, (...handles) => {
      const args = handles.map((h) => vm.dump(h) as unknown);
      const deferred = vm.newPromise();
      pending.add(deferred);
      void Promise.resolve()
        .then(() => run(...args))
        .then(
          (value) => {
            if (!deferred.alive) return;
            const h = jsonToHandle(vm, value);
            deferred.resolve(h);
            h.dispose();
          },
          (e: unknown) => {
            if (!deferred.alive) return;
            const h = vm.newError({
              name: (e as Error).name === 'HostRefusal' ? 'HostRefusal' : 'Error',
              message: (e as Error).message,
            });
            deferred.reject(h);
            h.dispose();
          },
        )
        .finally(() => {
          pending.delete(deferred);
          if (deferred.alive) deferred.dispose();
          if (vm.alive) drain(rt);
        });
      return deferred.handle;
    });
  const syncFn = (name: string, run: (...args: unknown[]) => void) =>
    vm.newFunction(name, (...handles) => {
      try {
        run(...handles.map((h) => vm.dump(h) as unknown));
      } catch (e) {
        return { error: vm.newError({ name: 'HostRefusal', message: (e as Error).message }) };
      }
      return vm.undefined;
    });
  const hostObj = vm.newObject();
  const kv = vm.newObject();
  const console = vm.newObject();
  const set = (o: QuickJSHandle, name: string, fn: QuickJSHandle) => {
    vm.setProp(o, name, fn);
    fn.dispose();
  };
  set(
    hostObj,
    'http',
    asyncFn('http', (req) => host.http(req)),
  );
  set(
    kv,
    'get',
    asyncFn('get', (k) => host.kvGet(k)),
  );
  set(
    kv,
    'set',
    asyncFn('set', (k, v) => host.kvSet(k, v)),
  );
  set(
    kv,
    'delete',
    asyncFn('delete', (k) => host.kvSet(k, null)),
  );
  set(
    hostObj,
    'progress',
    syncFn('progress', (p, t, m) => host.progress(p, t, m)),
  );
  set(
    hostObj,
    'log',
    syncFn('log', (...a) => host.log('info', a.length === 1 ? a[0] : a)),
  );
  set(
    console,
    'log',
    syncFn('log', (...a) => host.log('info', a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' '))),
  );
  set(
    console,
    'error',
    syncFn('error', (...a) =>
      host.log('error', a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ')),
    ),
  );
  vm.setProp(hostObj, 'kv', kv);
  kv.dispose();
  vm.setProp(vm.global, 'host', hostObj);
  hostObj.dispose();
  vm.setProp(vm.global, 'console', console);
  console.dispose();
}
