/**
 * What a code tool costs per call (issue 10): the builtin `echo` against the same echo as a
 * QuickJS code tool (a fresh QuickJS runtime per call, memory limit, interrupt handler, host
 * object) and as a WebAssembly code tool (a fresh worker thread per call, terminated after it),
 * all through the same client → `briefcase mcp` → briefcased pipeline, in one run. Sequential
 * calls after a warm-up; overhead = code tool − builtin per percentile.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { assembleWat } from '../packages/code-tools/src/testdata/wat.ts';
import { BIN, connect, percentiles, round, startDaemon } from './lib.ts';

const CALLS = Number(process.env.BENCH_CODE_CALLS ?? 500);
const WARMUP = 50;

/** A WebAssembly echo: hands its input (the arguments' JSON) back through host.output. */
const WASM_ECHO = `(module
  (import "host" "output" (func $output (param i32 i32)))
  (memory (export "memory") 1 2)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param $ptr i32) (param $len i32) (call $output (local.get $ptr) (local.get $len))))`;

async function timed(client: Client, tool: string, calls: number) {
  const args = (i: number) => ({ text: `call ${i}` });
  for (let i = 0; i < WARMUP; i++) await client.callTool({ name: tool, arguments: args(i) });
  const samples: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    const r = await client.callTool({ name: tool, arguments: args(i) });
    samples.push(performance.now() - t);
    if (r.isError) throw new Error(`${tool} failed: ${JSON.stringify(r)}`);
  }
  return percentiles(samples);
}

export async function run(log: (m: string) => void = () => {}) {
  const daemon = await startDaemon();
  const work = mkdtempSync(join(tmpdir(), 'bc-bench-code-'));
  try {
    const schema = {
      type: 'object',
      properties: { text: { type: 'string' } },
      required: ['text'],
      additionalProperties: false,
    };
    const install = (name: string, runtime: string, entry: string, code: string | Uint8Array) => {
      writeFileSync(join(work, entry), code);
      const manifest = { name, description: 'echo', category: 'read', runtime, entry, input_schema: schema };
      writeFileSync(join(work, `${name}.json`), JSON.stringify(manifest));
      const r = daemon.cli(['tools', 'add', join(work, entry), '--manifest', join(work, `${name}.json`)]);
      if (r.status !== 0) throw new Error(`tools add ${name}: ${String(r.stderr)}`);
    };
    install('js.echo', 'quickjs', 'echo.js', 'function main(args) { return args.text }');
    install('wasm.echo', 'wasm', 'echo.wasm', await assembleWat(WASM_ECHO));

    const client = await connect({ command: process.execPath, args: [BIN, 'mcp'], env: daemon.env });
    log('code tools: builtin echo…');
    const builtin = await timed(client, 'echo', CALLS);
    log('code tools: QuickJS echo…');
    const quickjs = await timed(client, 'js.echo', CALLS);
    log('code tools: WebAssembly echo…');
    const wasm = await timed(client, 'wasm.echo', CALLS);
    await client.close();
    const diff = (a: typeof builtin) => ({
      p50: round(a.p50 - builtin.p50),
      p95: round(a.p95 - builtin.p95),
      p99: round(a.p99 - builtin.p99),
    });
    return {
      benchmark: 'code-tools',
      calls: CALLS,
      latency_ms: {
        builtin,
        quickjs,
        wasm,
        quickjs_overhead: diff(quickjs),
        wasm_overhead: diff(wasm),
      },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
    await daemon.stop();
  }
}

if (import.meta.main) {
  process.stdout.write(`${JSON.stringify(await run((m) => process.stderr.write(`${m}\n`)), null, 2)}\n`);
}
