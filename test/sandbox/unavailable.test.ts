import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cli, cliAsync, cliJson, ROOT, remoteState, startDaemon, tempHome, type DaemonProcess } from '../helpers.ts';

/**
 * Issue 10: where the OS sandbox cannot run, a stdio server does not start at all (fail closed),
 * `remote list` says why naming bubblewrap, and `doctor` shows it. BRIEFCASE_BWRAP pointing at
 * nothing stands for a machine without bubblewrap (or whose kernel refuses user namespaces).
 */
describe('without bubblewrap, stdio servers refuse to start (issue 10)', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;
  const env = { BRIEFCASE_BWRAP: '/nonexistent/bwrap' };

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home, [], env);
  });
  after(async () => {
    await daemon?.stop();
    cleanup();
  });

  it('remote add fails with an error naming bubblewrap; doctor shows sandbox_unavailable', async () => {
    const added = await cliAsync(home, [
      'remote',
      'add',
      'plain',
      '--stdio',
      '--',
      process.execPath,
      `${ROOT}/test/fixtures/test-mcp-server.ts`,
    ]);
    // It cannot start, so it is not added: `remote add` exits non-zero and says why.
    assert.notEqual(added.code, 0, added.stdout);
    assert.match(added.stderr, /plain was not added: .*bubblewrap/);
    assert.equal(await remoteState(home, 'plain'), undefined);
    process.env['BRIEFCASE_BWRAP'] = env.BRIEFCASE_BWRAP;
    const doctor = cliJson<{ code: string; ok: boolean; message: string }[]>(home, ['doctor']).json;
    delete process.env['BRIEFCASE_BWRAP'];
    const check = doctor.find((c) => c.code === 'sandbox_unavailable');
    assert.ok(check && !check.ok, JSON.stringify(doctor));
    assert.match(check.message, /bubblewrap/);
  });
});
