import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { limitHit, runProcess } from './index.ts';

const prlimit = spawnSync('prlimit', ['--version']).status === 0;

describe('limitHit: which manifest limit a failed run ran into', () => {
  it('names memory and processes from what the program printed, only when it failed', () => {
    const base = { exitCode: 1, signal: null };
    assert.equal(limitHit({ ...base, stderrTail: 'bash: xrealloc: cannot allocate 268435584 bytes' }), 'memory');
    assert.equal(limitHit({ ...base, stderrTail: 'RangeError: Array buffer allocation failed' }), 'memory');
    assert.equal(limitHit({ ...base, stderrTail: 'Traceback…\nMemoryError' }), 'memory');
    assert.equal(limitHit({ ...base, stderrTail: 'bash: fork: retry: Resource temporarily unavailable' }), 'processes');
    assert.equal(limitHit({ ...base, stderrTail: 'jq: error: syntax error' }), null);
    assert.equal(limitHit({ exitCode: 0, signal: null, stderrTail: 'warning: out of memory, retrying' }), null);
  });

  it('names the CPU limit from SIGXCPU, also relayed by bwrap as exit status 152', () => {
    assert.equal(limitHit({ exitCode: null, signal: 'SIGXCPU', stderrTail: '' }), 'cpu');
    assert.equal(limitHit({ exitCode: 152, signal: null, stderrTail: '' }), 'cpu');
  });

  it(
    'a real run past its CPU seconds ends with SIGXCPU (soft limit below the hard one, as the sandbox sets it)',
    {
      skip: prlimit ? false : 'needs prlimit (Debian package: util-linux)',
    },
    async () => {
      const r = await runProcess({
        command: 'prlimit',
        args: ['--cpu=1:2', '--', '/bin/sh', '-c', 'while :; do :; done'],
        env: { PATH: '/usr/bin:/bin' },
        stdin: null,
        timeoutMs: 60_000,
        maxOutputBytes: 1024,
        signal: new AbortController().signal,
      });
      assert.equal(limitHit(r), 'cpu', JSON.stringify(r));
    },
  );
});
