import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { textResult, type Tool } from './tool.ts';
import { ToolRegistry } from './registry.ts';
import { linearRegExp, MAX_PROGRAM_SIZE } from './schema-regexp.ts';

const tool = (inputSchema: Record<string, unknown>, name = 't.x'): Tool => ({
  descriptor: { name, description: 'test', category: 'read', origin: 'remote_mcp', inputSchema },
  server: 't',
  tags: [],
  sensitiveArgs: [],
  reads: null,
  changes: null,
  currency: 'USD',
  estimateCost: () => 0,
  execute: async () => ({ result: textResult('ran') }),
});

describe('schema patterns on a linear-time engine', () => {
  it('agrees with ECMA-262 on ordinary patterns, including . and \\s', () => {
    const patterns = [
      '^[\\w.-]+@[a-z]+$',
      '^\\u00e9+$',
      '^\\p{L}+$',
      '^.{1,5}$',
      '^(?<y>\\d{4})$',
      '^[^\\s]+$',
      '[\\S\\s]+',
      '^[a\\S]$',
      '^a.b$',
      '\\s',
      '^[^\\]]+$',
      '\\\\1',
      '^x\\.y$',
      '^[[:a]+$',
      '^[0-9a-f]{8}-[0-9a-f]{4}$',
    ];
    const inputs = ['aaa', 'é', 'a@b', '2024', 'a\nb', 'a\u2028b', '\u00a0', 'x', '[', ':', 'a b', 'axb', '\\1', 'x.y'];
    for (const p of patterns) {
      const re2 = linearRegExp(p, 'u');
      const js = new RegExp(p, 'u');
      for (const s of inputs) assert.equal(re2.test(s), js.test(s), `${p} on ${JSON.stringify(s)}`);
    }
  });

  it('refuses what cannot run in linear time, naming the pattern', () => {
    for (const [p, why] of [
      ['(?=a)b', /lookahead/],
      ['(?<!a)b', /lookbehind/],
      ['(a)\\1', /backreferences/],
      ['(?<n>a)\\k<n>', /backreferences/],
      ['^[^\\S]$', /negated/],
      ['(', /not a valid ECMA-262 pattern/],
      ['(?:a?){400}a{400}', new RegExp(`limit is ${MAX_PROGRAM_SIZE}`)],
    ] as const) {
      assert.throws(
        () => linearRegExp(p, 'u'),
        (e: Error) => e.message.includes(JSON.stringify(p)) && why.test(e.message),
      );
    }
  });

  it('each pattern of a schema keeps its own meaning (ajv caches compiled patterns by toString)', () => {
    const registry = new ToolRegistry();
    const schema = {
      type: 'object',
      properties: { a: { type: 'string', pattern: '^a+$' }, b: { type: 'string', pattern: '^b+$' } },
    };
    assert.ok(registry.add(tool(schema), { lenient: true }).ok);
    assert.equal(registry.validateArgs('t.x', { a: 'aa', b: 'bb' }), null);
    assert.match(registry.validateArgs('t.x', { a: 'bb' }) ?? '', /argument a must match pattern/);
    assert.match(registry.validateArgs('t.x', { b: 'aa' }) ?? '', /argument b must match pattern/);
  });

  it('a catastrophic pattern and patternProperties answer at once; a connector with lookahead is refused', () => {
    const registry = new ToolRegistry();
    const evil = '^(a+)+$';
    assert.ok(
      registry.add(tool({ type: 'object', properties: { q: { type: 'string', pattern: evil } } }), { lenient: true })
        .ok,
    );
    assert.ok(
      registry.add(tool({ type: 'object', patternProperties: { [evil]: {} }, additionalProperties: false }, 't.k'), {
        lenient: true,
      }).ok,
    );
    const hostile = `${'a'.repeat(100_000)}!`;
    assert.match(registry.validateArgs('t.x', { q: hostile }) ?? '', /must match pattern/);
    assert.match(registry.validateArgs('t.k', { [hostile]: 1 }) ?? '', /must NOT have additional properties/);
    const strict = registry.add(
      tool({ type: 'object', properties: { q: { type: 'string', pattern: '(?=x)' } } }, 'c.y'),
    );
    assert.ok(
      !strict.ok && /input_schema: pattern "\(\?=x\)" is not supported: lookahead/.test(strict.error),
      String(!strict.ok && strict.error),
    );
  });

  it('one validation has a bounded pattern budget: a clear invalid_args message, not a frozen loop', () => {
    const registry = new ToolRegistry();
    const schema = {
      type: 'object',
      properties: { q: { type: 'array', items: { type: 'string', pattern: '^[ab]{1,200}$' } } },
    };
    assert.ok(registry.add(tool(schema), { lenient: true }).ok);
    assert.equal(registry.validateArgs('t.x', { q: ['ab', 'ba'] }), null);
    const many = Array.from({ length: 20_000 }, () => 'ab'.repeat(50));
    assert.match(
      registry.validateArgs('t.x', { q: many }) ?? '',
      /too long to check against pattern "\^\[ab\]\{1,200\}\$"/,
    );
  });
});
