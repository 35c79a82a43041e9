import { readFileSync } from 'node:fs';
import wabt from 'wabt';

/** Assemble WebAssembly text with wabt (tests and examples commit the .wat, never a .wasm). */
export async function assembleWat(source: string, name = 'module.wat'): Promise<Uint8Array> {
  const w = await wabt();
  const module = w.parseWat(name, source);
  try {
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

export async function assembleWatFile(path: string): Promise<Uint8Array> {
  return assembleWat(readFileSync(path, 'utf8'), path);
}

/** A minimal tool around `body` (the run function's instructions), with a memory of `memory`. */
export function watTool(body: string, opts: { memory?: string; imports?: string; data?: string } = {}): string {
  return `(module
  ${opts.imports ?? '(import "host" "output" (func $output (param i32 i32)))'}
  (memory (export "memory") ${opts.memory ?? '1 2'})
  ${opts.data ?? ''}
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param $ptr i32) (param $len i32) ${body}))`;
}
