/**
 * Property-based checks for the paths that take hostile input (issue 8, acceptance criterion 3):
 * JSON-RPC framing (the gateway's LineGuard), argument validation (the daemon's registry) and
 * call hashing (JCS). Each takes the number of runs: `npm test` runs a bounded number
 * (test/attacks/hostile-input-properties.test.ts), `node scripts/fuzz-input.ts --runs N` more.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { callHash, JcsError } from '@briefcase/crypto';
import { LineGuard } from '../../../apps/mcp-gateway/src/line-guard.ts';
import { callInputProblem, MAX_ARGS_DEPTH } from '../../../apps/briefcased/src/pipeline/call-input.ts';
import { ToolRegistry } from '../../../apps/briefcased/src/tools/registry.ts';
import { textResult, type Tool } from '../../../apps/briefcased/src/tools/tool.ts';

const MAX_LINE = 4096;

/** A line and what LineGuard must do with it. */
type Line = { text: string; expect: 'pass' | 'error' | 'ignore' };

const id = fc.oneof(fc.string({ maxLength: 8 }), fc.integer());
const params = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 });
const validMessage = fc.oneof(
  fc.record({ jsonrpc: fc.constant('2.0'), id, method: fc.string({ minLength: 1, maxLength: 12 }), params }),
  fc.record({ jsonrpc: fc.constant('2.0'), method: fc.string({ minLength: 1, maxLength: 12 }) }),
  fc.record({ jsonrpc: fc.constant('2.0'), id, result: params }),
);
const badId = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }),
  params,
);
const line: fc.Arbitrary<Line> = fc.oneof(
  validMessage.map((m) => ({ text: JSON.stringify(m), expect: 'pass' as const })),
  badId.map((bad) => ({
    text: JSON.stringify({ jsonrpc: '2.0', id: bad, method: 'tools/list' }),
    expect: 'error' as const,
  })),
  fc.jsonValue({ maxDepth: 2 }).map((v) => ({ text: JSON.stringify(v), expect: 'error' as const })),
  fc
    .string({ unit: 'binary', maxLength: 40 })
    .filter((s) => !s.includes('\n') && s.trim() !== '' && !parses(s))
    .map((text) => ({ text, expect: 'error' as const })),
  fc.integer({ min: MAX_LINE / 2 + 1, max: 2 * MAX_LINE }).map((n) => ({
    text: JSON.stringify({ jsonrpc: '2.0', method: 'x', params: { pad: 'é'.repeat(n) } }),
    expect: 'error' as const,
  })),
  fc.integer({ min: 995, max: 1010 }).map((depth) => ({
    text: `{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`,
    expect: depth + 2 > 1000 ? ('error' as const) : ('pass' as const),
  })),
  fc.constantFrom(' ', '\t', '').map((text) => ({ text, expect: 'ignore' as const })),
);

function parses(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

/** Feed bytes through a LineGuard in the given chunks; what it passed on and what it answered. */
async function guard(chunks: Uint8Array[]): Promise<{ passed: string[]; replies: string[] }> {
  const replies: string[] = [];
  const g = new LineGuard(MAX_LINE, (r) => replies.push(r));
  let out = '';
  g.on('data', (c: Buffer) => (out += c.toString('utf8')));
  for (const c of chunks) g.write(Buffer.from(c));
  g.end();
  await new Promise((r) => g.once('finish', r));
  await new Promise((r) => setImmediate(r));
  return { passed: out.split('\n').filter(Boolean), replies };
}

function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  return out;
}

/** Every complete line gets exactly one outcome; valid ones pass unchanged, in order; nothing throws. */
export async function framingProperty(numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(line, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 8 }), async (lines, cuts) => {
      const bytes = new TextEncoder().encode(lines.map((l) => `${l.text}\n`).join(''));
      const { passed, replies } = await guard(split(bytes, cuts));
      assert.deepEqual(
        passed,
        lines.filter((l) => l.expect === 'pass').map((l) => l.text),
      );
      assert.equal(replies.length, lines.filter((l) => l.expect === 'error').length);
      for (const r of replies) {
        const m = JSON.parse(r) as { jsonrpc: string; error: { code: number } };
        assert.equal(m.jsonrpc, '2.0');
        assert.ok([-32600, -32700].includes(m.error.code));
      }
    }),
    { numRuns },
  );
  // Arbitrary bytes: never a throw, and one outcome per complete non-blank line.
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 6 }), async (bytes, cuts) => {
      const { passed, replies } = await guard(split(bytes, cuts));
      let nonBlank = 0;
      for (let i = 0, start = 0; i < bytes.length; i++) {
        if (bytes[i] !== 0x0a) continue;
        if (Buffer.from(bytes.subarray(start, i)).toString('utf8').trim() !== '') nonBlank++;
        start = i + 1;
      }
      assert.equal(passed.length + replies.length, nonBlank);
    }),
    { numRuns },
  );
}

const stub = (name: string, inputSchema: Record<string, unknown>): Tool => ({
  descriptor: { name, description: 'property test', category: 'read', origin: 'remote_mcp', inputSchema },
  server: 'p',
  tags: [],
  sensitiveArgs: [],
  reads: null,
  changes: null,
  currency: 'USD',
  estimateCost: () => 0,
  execute: async () => ({ result: textResult('ran') }),
});

const SCHEMAS: Record<string, Record<string, unknown>> = {
  'p.any': { type: 'object' },
  'p.typed': {
    type: 'object',
    properties: {
      s: { type: 'string', maxLength: 50 },
      n: { type: 'integer' },
      b: { type: 'boolean' },
      l: { type: 'array', items: { type: 'number' } },
      o: { type: 'object', properties: { x: { type: 'string' } }, required: ['x'] },
    },
  },
  'p.patterns': {
    type: 'object',
    properties: { s: { type: 'string', pattern: '^[a-z]+$' } },
    patternProperties: { '^x_': { type: 'boolean' } },
    additionalProperties: { type: 'string' },
  },
  'p.strictish': {
    type: 'object',
    properties: { a: { type: 'string' }, n: { type: 'number', minimum: 0 } },
    required: ['a'],
    additionalProperties: false,
  },
};

const key = fc.oneof(fc.constantFrom('s', 'n', 'b', 'l', 'o', 'x', 'a', 'x_1', 'x_', 'z'), fc.string({ maxLength: 6 }));
const argsArb = fc.dictionary(key, fc.jsonValue({ maxDepth: 4 }), { maxKeys: 6 });

/** Validation never throws and never changes the arguments (no coercion, defaults or removal). */
export function validationProperty(numRuns: number): void {
  const registry = new ToolRegistry();
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    assert.ok(registry.add(stub(name, schema), { lenient: true }).ok, name);
  }
  fc.assert(
    fc.property(fc.constantFrom(...Object.keys(SCHEMAS)), argsArb, (tool, args) => {
      const before = JSON.stringify(args);
      const verdict = registry.validateArgs(tool, args);
      assert.equal(JSON.stringify(args), before, 'validation changed the arguments');
      assert.ok(verdict === null || typeof verdict === 'string');
      if (verdict === null && tool === 'p.typed') {
        // Accepted means the types are what the schema says, as sent: "5" is never an integer.
        if ('n' in args) assert.ok(Number.isInteger(args.n));
        if ('b' in args) assert.equal(typeof args.b, 'boolean');
        if ('s' in args) assert.equal(typeof args.s, 'string');
        if ('l' in args) assert.ok(Array.isArray(args.l) && args.l.every((x) => typeof x === 'number'));
      }
      if (verdict === null && tool === 'p.strictish') assert.ok(Object.keys(args).every((k) => k === 'a' || k === 'n'));
    }),
    { numRuns },
  );
}

/** Strings that may carry a lone surrogate. */
const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 8 }) },
  fc
    .tuple(fc.string({ maxLength: 4 }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ maxLength: 4 }))
    .map(([a, c, b]) => `${a}${String.fromCharCode(c)}${b}`),
);
const hostileJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 3 }),
  ),
})).value;
const hostileArgs = fc.dictionary(hostileString, hostileJson, { maxKeys: 4 });

function reorder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reorder);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .reverse()
        .map(([k, x]) => [k, reorder(x)]),
    );
  }
  return v;
}

function wellFormed(v: unknown): boolean {
  if (typeof v === 'string') return v.isWellFormed();
  if (Array.isArray(v)) return v.every(wellFormed);
  if (v !== null && typeof v === 'object')
    return Object.entries(v).every(([k, x]) => k.isWellFormed() && wellFormed(x));
  return true;
}

/**
 * callHash: invariant under key order; changes when a value changes; throws a JcsError exactly
 * on input JCS cannot represent, which the pipeline refuses first as invalid_args.
 */
export function hashingProperty(numRuns: number): void {
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 12 }), hostileArgs, (tool, args) => {
      const representable = wellFormed(args);
      const problem = callInputProblem(tool, args);
      if (!representable) {
        assert.throws(() => callHash(tool, args), JcsError);
        assert.equal(problem?.code, 'invalid_args');
        return;
      }
      assert.equal(problem, null);
      const hash = callHash(tool, args);
      assert.match(hash, /^[0-9a-f]{64}$/);
      assert.equal(callHash(tool, reorder(args) as Record<string, unknown>), hash, 'key order changed the hash');
      const keys = Object.keys(args);
      if (keys.length > 0) {
        const changed = { ...args, [keys[0]!]: { changed: args[keys[0]!] ?? null } };
        assert.notEqual(callHash(tool, changed), hash, 'a changed value kept the hash');
      }
      assert.notEqual(callHash(`${tool}x`, args), hash, 'a changed tool name kept the hash');
    }),
    { numRuns },
  );
  // Nesting: refused above the limit before hashing, at any depth, without recursion.
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5000 }), (depth) => {
      const args = { a: JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown };
      const problem = callInputProblem('t', args);
      if (depth + 1 > MAX_ARGS_DEPTH) assert.match(problem?.message ?? '', /nests deeper than 64 levels/);
      else assert.equal(problem, null);
    }),
    { numRuns },
  );
}
