/** The host functions a WebAssembly tool may import, all from the module `host`. */
export const WASM_HOST_IMPORTS = ['log', 'progress', 'output', 'call', 'take'] as const;

const PAGE = 64 * 1024;
const MAX_TABLE_ELEMENTS = 10_000;

/**
 * Load-time checks of a WebAssembly tool: only the host functions above may be imported (no
 * WASI, no imported memory, table or global), every memory declares a maximum within the
 * manifest's `limits.memory_mb` and is neither shared nor 64-bit, every table declares a small
 * maximum, and `memory`, `alloc` and `run` are exported. Returns the problems, empty when good.
 */
export function checkWasmModule(bytes: Uint8Array, module: WebAssembly.Module, memoryMb: number): string[] {
  const problems: string[] = [];
  for (const imp of WebAssembly.Module.imports(module)) {
    if (
      imp.module !== 'host' ||
      imp.kind !== 'function' ||
      !(WASM_HOST_IMPORTS as readonly string[]).includes(imp.name)
    ) {
      problems.push(
        `imports ${imp.kind} ${imp.module}.${imp.name}: only host.{${WASM_HOST_IMPORTS.join(',')}} functions may be imported`,
      );
    }
  }
  const exports = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
  if (exports.get('memory') !== 'memory') problems.push('exports no memory named "memory"');
  if (exports.get('alloc') !== 'function') problems.push('exports no function alloc(len) -> ptr');
  if (exports.get('run') !== 'function') problems.push('exports no function run(ptr, len)');
  try {
    for (const section of sections(bytes)) {
      if (section.id === 5) problems.push(...memoryProblems(section.body, memoryMb));
      if (section.id === 4) problems.push(...tableProblems(section.body));
    }
  } catch (e) {
    problems.push(`cannot be read: ${(e as Error).message}`);
  }
  return problems;
}

interface Section {
  id: number;
  body: Reader;
}

class Reader {
  pos: number;
  readonly bytes: Uint8Array;
  readonly end: number;
  constructor(bytes: Uint8Array, start: number, end: number) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }
  byte(): number {
    if (this.pos >= this.end) throw new Error('truncated');
    return this.bytes[this.pos++]!;
  }
  /** Unsigned LEB128 (WebAssembly core spec §5.2.2), up to 64 bits as a number (exact to 2^53). */
  u(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new Error('bad LEB128');
  }
}

function* sections(bytes: Uint8Array): Generator<Section> {
  const r = new Reader(bytes, 8, bytes.length);
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u();
    const start = r.pos;
    if (start + size > bytes.length) throw new Error('truncated section');
    yield { id, body: new Reader(bytes, start, start + size) };
    r.pos = start + size;
  }
}

/** Limits (core spec §5.3.7): flags 0 = min, 1 = min+max; bit 1 shared, bit 2 64-bit (threads, memory64). */
function readLimits(r: Reader): { flags: number; min: number; max: number | undefined } {
  const flags = r.byte();
  const min = r.u();
  const max = flags & 1 ? r.u() : undefined;
  return { flags, min, max };
}

function memoryProblems(r: Reader, memoryMb: number): string[] {
  const problems: string[] = [];
  const count = r.u();
  for (let i = 0; i < count; i++) {
    const { flags, max } = readLimits(r);
    if (flags & ~1) problems.push(`memory ${i} is shared or 64-bit, which code tools do not support`);
    else if (max === undefined) problems.push(`memory ${i} declares no maximum: declare one within ${memoryMb} MB`);
    else if (max * PAGE > memoryMb * 1024 * 1024) {
      problems.push(
        `memory ${i} may grow to ${(max * PAGE) / 1024 / 1024} MB, above the manifest's limits.memory_mb (${memoryMb})`,
      );
    }
  }
  return problems;
}

function tableProblems(r: Reader): string[] {
  const problems: string[] = [];
  const count = r.u();
  for (let i = 0; i < count; i++) {
    r.byte(); // reference type
    const { flags, max } = readLimits(r);
    if (flags & ~1 || max === undefined || max > MAX_TABLE_ELEMENTS) {
      problems.push(`table ${i} must declare a maximum of at most ${MAX_TABLE_ELEMENTS} elements`);
    }
  }
  return problems;
}
