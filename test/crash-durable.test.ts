// Issue 13, AC 4: the fsync moved off the event loop (commit-queue.ts, wal-sync.ts). A daemon
// killed with SIGKILL in the middle of concurrent calls loses no call it answered: every answered
// call's receipt is in the log after a restart, and the log still verifies.
// (That the answer waits for the fsync itself is apps/briefcased/src/store/commit-queue-durable.test.ts.)
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  cli,
  cliJson,
  daemonRequest,
  receiptRecords,
  startDaemon,
  tempHome,
  token,
  type DaemonProcess,
} from './helpers.ts';

describe('crash mid-call: nothing answered is lost (issue 13)', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess | undefined;
  after(async () => {
    await daemon?.stop();
    cleanup();
  });

  it('SIGKILL during 8 concurrent callers: every answered receipt survives and verifies', async () => {
    assert.equal(cli(home, ['init', '--master-key', 'file']).code, 0);
    daemon = await startDaemon(home);
    const agent = token(home, 'agent');
    const answered: number[] = [];
    let stop = false;
    const caller = async (k: number) => {
      for (let i = 0; !stop; i++) {
        const body = JSON.stringify({ tool: 'echo', args: { text: `c${k}-${i}` } });
        const r = await daemonRequest(home, 'POST', '/v1/agent/tools/call', agent, body).catch(() => undefined);
        if (!r || r.status !== 200) return; // the daemon is gone
        const json = JSON.parse(r.body) as { ok: boolean; receipt_id: string };
        assert.equal(json.ok, true, r.body);
        answered.push(Number(/^r(\d+)-/.exec(json.receipt_id)![1]));
      }
    };
    const callers = Array.from({ length: 8 }, (_, k) => caller(k));
    // Kill once a good number of calls were answered, while the others are in flight.
    for (let i = 0; i < 6000 && answered.length < 200; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(answered.length >= 200, `only ${answered.length} calls answered before the deadline`);
    await daemon.kill9();
    stop = true;
    await Promise.all(callers);

    daemon = await startDaemon(home);
    const records = new Map(receiptRecords(home).map((r) => [r.seq, r]));
    const missing = answered.filter((seq) => records.get(seq)?.kind !== 'tool_call');
    assert.deepEqual(missing, [], 'answered calls whose receipt is not in the log after the crash');
    assert.equal(cliJson<{ ok: boolean }>(home, ['receipts', 'verify']).json.ok, true);
  });
});
