import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BriefcaseError, err, ok, type Result } from '@briefcase/protocol';
import { Host, type HostDeps } from './host.ts';
import { KvStore } from './kv.ts';
import { LimitExceeded } from './limits.ts';
import { CodeToolManifest, MAX_CODE_BYTES } from './manifest.ts';
import { ToolCodeError } from './tool-code-error.ts';
import { runQuickJsInWorker } from './quickjs-pool.ts';
import { checkWasmModule } from './wasm-check.ts';
import { runWasm } from './wasm.ts';

export const MANIFEST_FILE = 'manifest.json';

/** What one call of a code tool gives back: its value, or the error its own code threw. */
export type CodeToolOutcome = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * A code tool, checked at load: its manifest, its code (QuickJS source or a compiled WebAssembly
 * module that passed checkWasmModule), and the directory its key-value store lives in.
 */
export class CodeTool {
  readonly manifest: CodeToolManifest;
  readonly #code: string | WebAssembly.Module;
  readonly #kv: KvStore;

  private constructor(manifest: CodeToolManifest, code: string | WebAssembly.Module, dir: string) {
    this.manifest = manifest;
    this.#code = code;
    this.#kv = new KvStore(dir);
  }

  /** Check a manifest and its code without installing them; `where` names the problems. */
  static check(raw: unknown, code: Uint8Array, where: string): Result<CodeToolManifest, string[]> {
    const parsed = CodeToolManifest.safeParse(raw);
    if (!parsed.success) {
      return err(parsed.error.issues.map((i) => `${where}: ${i.path.join('.') || '(manifest)'}: ${i.message}`));
    }
    const m = parsed.data;
    const problems: string[] = [];
    if (m.input_schema.type !== 'object') problems.push('input_schema.type: must be "object"');
    // Grants a code tool cannot use are refused, not silently ignored: the person confirming the
    // manifest should see what the tool can really do.
    if (m.access.isolation === 'none') problems.push('access.isolation: code tools always run isolated');
    if (m.access.filesystem.length > 0) problems.push('access.filesystem: code tools have no filesystem');
    if (m.access.env.length > 0) problems.push('access.env: code tools have no environment');
    if (code.byteLength > MAX_CODE_BYTES) problems.push(`${m.entry}: larger than ${MAX_CODE_BYTES} bytes`);
    if (m.runtime === 'wasm') {
      try {
        problems.push(
          ...checkWasmModule(code, new WebAssembly.Module(code), m.access.limits.memory_mb).map(
            (p) => `${m.entry}: ${p}`,
          ),
        );
      } catch (e) {
        problems.push(`${m.entry}: not a valid WebAssembly module: ${(e as Error).message}`);
      }
    }
    return problems.length ? err(problems.map((p) => `${where}: ${p}`)) : ok(m);
  }

  static fromParts(raw: unknown, code: Uint8Array, dir: string): Result<CodeTool, string[]> {
    const checked = CodeTool.check(raw, code, dir);
    if (!checked.ok) return checked;
    const m = checked.value;
    const compiled = m.runtime === 'wasm' ? new WebAssembly.Module(code) : Buffer.from(code).toString('utf8');
    return ok(new CodeTool(m, compiled, dir));
  }

  /** Load `<dir>/manifest.json` and its entry file. */
  static load(dir: string): Result<CodeTool, string[]> {
    const manifestPath = join(dir, MANIFEST_FILE);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
    } catch (e) {
      return err([`${manifestPath}: not readable JSON: ${(e as Error).message}`]);
    }
    const entry = (raw as { entry?: unknown } | null)?.entry;
    const entryPath =
      typeof entry === 'string' && /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/.test(entry) ? join(dir, entry) : '';
    if (!entryPath || !existsSync(entryPath)) return err([`${manifestPath}: entry: no such file in ${dir}`]);
    return CodeTool.fromParts(raw, readFileSync(entryPath), dir);
  }

  /**
   * Run once. A host call outside the grant, the time limit or the memory limit end the call as
   * `sandbox_violation` (detail: what was refused, never a secret value); an exception of the
   * tool's own code is an error outcome the agent sees.
   */
  async call(args: Record<string, unknown>, deps: Omit<HostDeps, 'access' | 'kv'>): Promise<CodeToolOutcome> {
    const access = this.manifest.access;
    // Ends what the run left in flight (a host request still waiting) once the run is over.
    const run = new AbortController();
    const signal = AbortSignal.any([deps.signal, run.signal]);
    const host = new Host({ ...deps, signal, access, kv: this.#kv });
    const limits = { memoryMb: access.limits.memory_mb, callMs: access.limits.call_ms, signal: deps.signal };
    let outcome: CodeToolOutcome;
    try {
      const value =
        typeof this.#code === 'string'
          ? await runQuickJsInWorker(this.#code, args, host, limits)
          : await runWasm(this.#code, args, host, limits);
      outcome = { ok: true, value };
    } catch (e) {
      run.abort();
      if (e instanceof LimitExceeded && deps.signal.aborted) return { ok: false, error: 'the call was cancelled' };
      if (e instanceof LimitExceeded) {
        throw new BriefcaseError('sandbox_violation', `${this.manifest.name}: ${e.message}`, e.message);
      }
      if (!(e instanceof ToolCodeError)) throw e;
      outcome = { ok: false, error: e.message };
    }
    run.abort();
    // A payment refused or waiting for a person ends the call with that error (the pipeline
    // answers approval_required with the approval), whatever the code did after.
    if (host.paymentStop) throw host.paymentStop;
    // Whatever the code did with the refusal (caught it, returned something), the call fails closed.
    if (host.violation) {
      throw new BriefcaseError(
        'sandbox_violation',
        `${this.manifest.name} was stopped: ${host.violation}`,
        `refused: ${host.violation}`,
      );
    }
    return outcome;
  }
}
