import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runProcess } from '@briefcase/command-tools';

/**
 * A hostile command tool leaves a process in a session of its own holding its stdout, then exits.
 * Without a PID namespace to end it (isolation "none", or macOS), the run used to wait for that
 * process to close the pipe — past the tool's time limit, forever if it never does — and the call
 * hung with it. The time limit must end the run whatever the tool left behind.
 */
describe('attack (tool): a process left holding stdout cannot hang the call', () => {
  it('the run ends at its time limit (stopped: timeout) though a setsid child keeps the pipe open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bc-hang-'));
    const pidFile = join(dir, 'left.pid');
    try {
      const run = runProcess({
        command: 'bash',
        args: ['--norc', '-c', `setsid sleep 600 & echo $! > ${pidFile}; sleep 0.3; exit 0`],
        env: { PATH: '/usr/bin:/bin' },
        timeoutMs: 1_000,
        stdin: null,
        maxOutputBytes: 10_000,
        signal: new AbortController().signal,
      });
      // Generous: the point is "ends", not "ends fast" (the left-over process sleeps for 10 minutes).
      const outcome = await Promise.race([
        run,
        new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000).unref()),
      ]);
      assert.notEqual(outcome, 'hung', 'the run did not end at its time limit');
      if (outcome === 'hung') return;
      assert.equal(outcome.stopped, 'timeout');
    } finally {
      // The process the tool left behind: ended here by its pid (this test started it).
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
      } catch {
        // Already gone, or never started.
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
