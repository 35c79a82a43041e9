import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runProcess } from './index.ts';

const run = (
  args: string[],
  o: { stdin?: string; timeoutMs?: number; max?: number; env?: Record<string, string> } = {},
) =>
  runProcess({
    command: '/bin/sh',
    args: ['-c', ...args],
    env: o.env ?? { PATH: '/usr/bin:/bin' },
    stdin: o.stdin ?? null,
    timeoutMs: o.timeoutMs ?? 30_000,
    maxOutputBytes: o.max ?? 1024,
    signal: new AbortController().signal,
  });

describe('runProcess', () => {
  it('writes stdin, returns stdout and the exit code', async () => {
    const r = await run(['tr a-z A-Z'], { stdin: 'hello' });
    assert.deepEqual([r.exitCode, r.stdout, r.stopped], [0, 'HELLO', null]);
  });
  it('passes exactly the given environment, nothing of the daemon', async () => {
    process.env['BC_RUN_TEST_CANARY'] = 'leak';
    const r = await run(['env']);
    delete process.env['BC_RUN_TEST_CANARY'];
    assert.doesNotMatch(r.stdout, /BC_RUN_TEST_CANARY/);
  });
  it('reports a non-zero exit and the tail of stderr', async () => {
    const r = await run(['echo oops >&2; exit 3']);
    assert.equal(r.exitCode, 3);
    assert.match(r.stderrTail, /oops/);
  });
  it('kills a run past its time', async () => {
    const r = await run(['sleep 30'], { timeoutMs: 300 });
    assert.equal(r.stopped, 'timeout');
    assert.equal(r.signal, 'SIGKILL');
  });
  it('kills a run past its output limit, and keeps no more than the limit', async () => {
    const r = await run(['yes'], { max: 10_000 });
    assert.equal(r.stopped, 'output_limit');
    assert.ok(Buffer.byteLength(r.stdout) <= 10_000);
  });
});

describe('runProcess: overLimit', () => {
  it('stops the run once overLimit says so, and says why', async () => {
    let asked = 0;
    const r = await runProcess({
      command: '/bin/sh',
      args: ['-c', 'sleep 30'],
      env: { PATH: '/usr/bin:/bin' },
      stdin: null,
      timeoutMs: 60_000,
      maxOutputBytes: 1024,
      signal: new AbortController().signal,
      overLimit: () => ++asked >= 3,
    });
    assert.equal(r.stopped, 'limit');
    assert.equal(r.signal, 'SIGKILL');
  });
  it('a run that exits before the next poll is still marked when the count says so', async () => {
    const r = await runProcess({
      command: '/bin/sh',
      args: ['-c', 'exit 0'],
      env: { PATH: '/usr/bin:/bin' },
      stdin: null,
      timeoutMs: 60_000,
      maxOutputBytes: 1024,
      signal: new AbortController().signal,
      overLimit: () => true,
    });
    assert.equal(r.stopped, 'limit');
  });
});
