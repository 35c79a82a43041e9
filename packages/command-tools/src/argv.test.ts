import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BriefcaseError } from '@briefcase/protocol';
import { buildArgv, checkCommandTool, stdinFor } from './index.ts';

const base = {
  kind: 'command',
  name: 'echo-tool',
  description: 'echo',
  category: 'read',
  input_schema: {
    type: 'object',
    properties: { text: { type: 'string' }, n: { type: 'integer' }, obj: { type: 'object' } },
    required: ['text', 'n'],
  },
  argv: ['printf', '%s\\n', '{text}'],
};

const check = (patch: Record<string, unknown>) => checkCommandTool({ ...base, ...patch }, 'tool.json');
const problems = (patch: Record<string, unknown>) => {
  const r = check(patch);
  assert.equal(r.ok, false, 'refused');
  return r.ok ? '' : r.error.join('\n');
};
const manifest = (patch: Record<string, unknown> = {}) => {
  const r = check(patch);
  if (!r.ok) throw new Error(r.error.join('\n'));
  return r.value;
};
const invalidArgs = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(
    fn,
    (e: unknown) => e instanceof BriefcaseError && e.code === 'invalid_args' && pattern.test(e.message),
  );

describe('command tool definitions (issue 10: command tools)', () => {
  it('accepts a whole-element placeholder of a required scalar argument', () => {
    assert.deepEqual(manifest().argv, ['printf', '%s\\n', '{text}']);
  });
  it('refuses a placeholder inside a longer element, which could splice an argument into an option', () => {
    assert.match(problems({ argv: ['sort', '--key={text}'] }), /argv\.1: .*whole element/);
    assert.match(problems({ argv: ['sh', '-c', 'echo {text}'] }), /argv\.2: .*whole element/);
  });
  it('refuses an argument as the program', () => {
    assert.match(problems({ argv: ['{text}', 'x'] }), /argv\.0: the program is fixed/);
  });
  it('refuses a placeholder that is not a required scalar argument', () => {
    assert.match(problems({ argv: ['echo', '{missing}'] }), /\{missing\} is not an argument/);
    assert.match(problems({ argv: ['echo', '{obj}'] }), /\{obj\} must be a string/);
    assert.match(
      problems({ argv: ['echo', '{x}'], input_schema: { type: 'object', properties: { x: { type: 'string' } } } }),
      /\{x\} must be listed in input_schema.required/,
    );
  });
  it('refuses unknown fields, a name starting with "." and a stdin argument that does not exist', () => {
    assert.match(problems({ shell: true }), /Unrecognized key/);
    assert.match(problems({ name: '.hidden' }), /does not start with "\."/);
    assert.match(problems({ stdin: { arg: 'nope' } }), /stdin.arg/);
  });
});

describe('command tool argv (argument injection stays literal)', () => {
  it('passes shell syntax as one literal element: there is no shell', () => {
    const argv = buildArgv(manifest(), { text: '$(id); `id` | cat /etc/passwd > /tmp/x *', n: 1 });
    assert.deepEqual(argv, ['printf', '%s\\n', '$(id); `id` | cat /etc/passwd > /tmp/x *']);
  });
  it('refuses a value that the program would read as an option, before "--"', () => {
    invalidArgs(() => buildArgv(manifest(), { text: '--output=/etc/x', n: 1 }), /may not start with "-"/);
    invalidArgs(() => buildArgv(manifest(), { text: '-e', n: 1 }), /may not start with "-"/);
  });
  it('passes such a value as an operand after a literal "--"', () => {
    const m = manifest({ argv: ['cat', '--', '{text}'] });
    assert.deepEqual(buildArgv(m, { text: '--help', n: 1 }), ['cat', '--', '--help']);
  });
  it('refuses NUL bytes and oversize values; numbers become their decimal text', () => {
    invalidArgs(() => buildArgv(manifest(), { text: 'a\0b', n: 1 }), /NUL/);
    invalidArgs(() => buildArgv(manifest(), { text: 'x'.repeat(200_000), n: 1 }), /longer than/);
    assert.deepEqual(buildArgv(manifest({ argv: ['echo', '{n}'] }), { text: 'a', n: 42 }), ['echo', '42']);
  });
  it('gives stdin as the arguments JSON, one argument, or nothing', () => {
    assert.equal(stdinFor(manifest(), { text: 'a', n: 1 }), null);
    assert.equal(stdinFor(manifest({ stdin: 'args' }), { text: 'a', n: 1 }), '{"text":"a","n":1}');
    assert.equal(stdinFor(manifest({ stdin: { arg: 'obj' } }), { text: 'a', n: 1, obj: { k: 1 } }), '{"k":1}');
    assert.equal(stdinFor(manifest({ stdin: { arg: 'text' } }), { text: 'raw\n', n: 1 }), 'raw\n');
  });
});
