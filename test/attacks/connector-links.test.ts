import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, cliJson, healthy, receiptRecords, startDaemon, tempHome, type DaemonProcess } from '../helpers.ts';
import { until } from '../lib/connectors.ts';

/**
 * Someone with write access to the data directory (a synced folder, a second account) but not to
 * the rest of the person's files plants links and special files in connectors/. The daemon, which
 * runs as the person, must not read through them: a symlink to a private file would otherwise put
 * the start of that file into the receipt, the log and `connectors list` (JSON.parse quotes it in
 * its error), where this writer can read it; a FIFO would block the daemon's event loop.
 */
describe('attack (data-directory writer): links and special files in connectors/', () => {
  const { home, cleanup } = tempHome();
  const dir = join(home, 'connectors');
  const privateDir = join(home, '..', 'private');
  const SECRET = 'ssh-ed25519-private-Q29ycmVjdEhvcnNl';
  let daemon: DaemonProcess;

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    mkdirSync(privateDir, { mode: 0o700 });
    writeFileSync(join(privateDir, 'id_key'), `${SECRET} and more private text\n`, { mode: 0o600 });
    daemon = await startDaemon(home);
  });
  after(async () => {
    await daemon?.stop();
    cleanup();
  });

  it('a symlink to a private file is disabled as a link, and nothing of the file reaches a receipt, the log or the list', async () => {
    mkdirSync(dir, { recursive: true });
    symlinkSync(join(privateDir, 'id_key'), join(dir, 'leak.json'));
    const states = await until(
      home,
      (s) => s.some((c) => c.file === 'leak.json' && c.state === 'disabled'),
      'leak.json disabled',
    );
    const reason = states.find((c) => c.file === 'leak.json')!.reason!;
    assert.match(reason, /symbolic link/);
    const fragment = SECRET.slice(0, 8);
    assert.ok(!reason.includes(fragment), reason);
    const receipts = JSON.stringify(receiptRecords(home));
    assert.ok(!receipts.includes(fragment), 'a receipt quotes the linked file');
    const log = readFileSync(join(home, 'logs', 'daemon.log'), 'utf8');
    assert.ok(!log.includes(fragment), 'the daemon log quotes the linked file');
  });

  it('doctor reports the link without quoting the file, and keeps nothing of it in cache/doctor.json', () => {
    const checks = cliJson<{ code: string; ok: boolean; message: string }[]>(home, ['doctor']).json;
    const leak = checks.find((c) => !c.ok && c.message.includes('leak.json'));
    assert.ok(leak, JSON.stringify(checks));
    assert.match(leak.message, /symbolic link/);
    const fragment = SECRET.slice(0, 8);
    assert.ok(!JSON.stringify(checks).includes(fragment), 'doctor quotes the linked file');
    const cache = readFileSync(join(home, 'cache', 'doctor.json'), 'utf8');
    assert.ok(!cache.includes(fragment), 'doctor kept the linked file’s start in the data directory');
  });

  it('a FIFO named like a connector is disabled and the daemon keeps answering', async () => {
    execFileSync('mkfifo', [join(dir, 'pipe.json')]);
    await until(home, (s) => s.some((c) => c.file === 'pipe.json' && c.state === 'disabled'), 'pipe.json disabled');
    assert.equal(await healthy(home), true);
    assert.equal(daemon.proc.exitCode, null);
  });
});
