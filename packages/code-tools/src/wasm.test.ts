import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { after, describe, it } from 'node:test';
import { BriefcaseError } from '@briefcase/protocol';
import { CodeTool } from './code-tool.ts';
import { echoServer, tempDir, testDeps } from './testdata/deps.ts';
import { assembleWat, assembleWatFile, watTool } from './testdata/wat.ts';

function manifest(access: Record<string, unknown> = {}) {
  return {
    name: 'test.wasm',
    description: 'a test tool',
    category: 'read',
    runtime: 'wasm',
    entry: 'tool.wasm',
    input_schema: { type: 'object' },
    access: { limits: { memory_mb: 16, call_ms: 500 }, ...access },
  };
}

async function wasmTool(wat: string, access: Record<string, unknown> = {}) {
  const tool = CodeTool.fromParts(manifest(access), await assembleWat(wat), tempDir());
  assert.ok(tool.ok, tool.ok ? '' : tool.error.join('\n'));
  return tool.value;
}

async function problems(wat: string, access: Record<string, unknown> = {}): Promise<string> {
  const tool = CodeTool.fromParts(manifest(access), await assembleWat(wat), tempDir());
  assert.equal(tool.ok, false, 'the module was accepted');
  return tool.ok ? '' : tool.error.join('\n');
}

const violation = (pattern: RegExp) => (e: unknown) =>
  e instanceof BriefcaseError && e.code === 'sandbox_violation' && pattern.test(`${e.message} ${e.detail ?? ''}`);

describe('WebAssembly code tools (AC 3)', () => {
  it('the crc32 example computes CRC-32 through host.output', async () => {
    const m = (await import('../../../examples/tools/crc32/manifest.json', { with: { type: 'json' } })).default;
    const bytes = await assembleWatFile(new URL('../../../examples/tools/crc32/crc32.wat', import.meta.url).pathname);
    const tool = CodeTool.fromParts(m, bytes, tempDir());
    assert.ok(tool.ok, tool.ok ? '' : tool.error.join('\n'));
    for (const data of ['', 'hello world', 'The quick brown fox jumps over the lazy dog']) {
      assert.deepEqual(await tool.value.call({ data }, testDeps()), { ok: true, value: { crc32: crc32(data) } });
    }
  });

  it('an infinite loop is stopped at the deadline (the worker is terminated)', async () => {
    const tool = await wasmTool(watTool('(loop $l (br $l))'));
    const started = Date.now();
    await assert.rejects(tool.call({}, testDeps()), violation(/time limit \(500 ms\)/));
    assert.ok(Date.now() - started < 5000);
  });

  it('each run is a fresh instance, also in a reused worker, and the pool recovers after a stopped run', async () => {
    // A counter in memory, incremented and output as a digit: a reused instance would say "2".
    const counter = await wasmTool(
      watTool(
        `(i32.store8 (i32.const 0) (i32.add (i32.load8_u (i32.const 0)) (i32.const 1)))
         (i32.store8 (i32.const 1) (i32.add (i32.const 48) (i32.load8_u (i32.const 0))))
         (call $output (i32.const 1) (i32.const 1))`,
      ),
    );
    const loop = await wasmTool(watTool('(loop $l (br $l))'));
    assert.deepEqual(await counter.call({}, testDeps()), { ok: true, value: 1 });
    await assert.rejects(loop.call({}, testDeps()), violation(/time limit/));
    assert.deepEqual(await counter.call({}, testDeps()), { ok: true, value: 1 });
    assert.deepEqual(await counter.call({}, testDeps()), { ok: true, value: 1 });
  });

  it('a memory without a maximum is refused at load', async () => {
    assert.match(await problems(watTool('', { memory: '1' })), /memory 0 declares no maximum/);
  });

  it('a memory whose maximum is above limits.memory_mb is refused at load (memory bomb)', async () => {
    assert.match(
      await problems(watTool('', { memory: '1 1000' })),
      /may grow to 62.5 MB, above the manifest's limits.memory_mb \(16\)/,
    );
  });

  it('growing past the declared maximum fails inside the module', async () => {
    // memory.grow returns -1 past the maximum; the module traps on it (unreachable): a tool error.
    const tool = await wasmTool(
      watTool('(loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))) unreachable', {
        memory: '1 256',
      }),
    );
    const r = await tool.call({}, testDeps());
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.error, /unreachable/);
  });

  it('WASI and other imports are refused at load (no ambient capability)', async () => {
    const wasi = await problems(
      watTool('', {
        imports:
          '(import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))',
      }),
    );
    assert.match(wasi, /imports function wasi_snapshot_preview1.path_open/);
    assert.match(
      await problems(watTool('', { imports: '(import "env" "memory" (memory 1 2))' })),
      /imports memory env.memory/,
    );
    assert.match(
      await problems(watTool('', { imports: '(import "host" "fetch" (func))' })),
      /imports function host.fetch/,
    );
  });

  describe('host.call', () => {
    const up = echoServer();
    after(async () => (await up).server.close());
    const callTool = (request: string) =>
      watTool(
        `(local $n i32)
         (local.set $n (call $call (i32.const 0) (i32.const ${Buffer.byteLength(request)})))
         (call $take (i32.const 4096))
         (call $output (i32.const 4096) (local.get $n))`,
        {
          imports: `(import "host" "output" (func $output (param i32 i32)))
            (import "host" "call" (func $call (param i32 i32) (result i32)))
            (import "host" "take" (func $take (param i32)))`,
          data: `(data (i32.const 0) ${JSON.stringify(request)})`,
        },
      );

    it('http to a granted host works', async () => {
      const { port } = await up;
      const tool = await wasmTool(
        callTool(JSON.stringify({ fn: 'http', request: { url: `http://127.0.0.1:${port}/w` } })),
        {
          network: [`127.0.0.1:${port}`],
          allow_private: true,
        },
      );
      const r = await tool.call({}, testDeps());
      assert.ok(r.ok);
      assert.equal((r.value as { ok: { status: number } }).ok.status, 200);
    });

    it('http to a host not granted is refused inside the module and fails the call closed', async () => {
      const { port, seen } = await up;
      const before = seen.length;
      const tool = await wasmTool(
        callTool(JSON.stringify({ fn: 'http', request: { url: `http://localhost:${port}/` } })),
        {
          network: [`127.0.0.1:${port}`],
          allow_private: true,
        },
      );
      await assert.rejects(
        tool.call({}, testDeps()),
        violation(new RegExp(`network access to localhost:${port} is not granted`)),
      );
      assert.equal(seen.length, before);
    });
  });
});
