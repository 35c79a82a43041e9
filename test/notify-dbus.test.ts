import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { cli, readJson, sleep, startDaemon, stdioClient, tempHome, writeJson, type DaemonProcess } from './helpers.ts';
import {
  dbusDaemonAvailable,
  notificationServer,
  privateSessionBus,
  type ReceivedNotification,
} from './lib/notification-server.ts';

const skip = dbusDaemonAvailable() ? false : 'dbus-daemon is not installed (Debian package: dbus-daemon)';

const approvalOf = (r: { _meta?: unknown }) =>
  (r._meta as Record<string, { code: string; approval_id?: string }> | undefined)?.['dev.briefcase/error'];

async function until<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Issue 11, AC 2 (notification half): an approval created through the gateway reaches a
 * notification server on a private D-Bus session bus, naming the tool and the approval id and
 * never the argument value (a canary).
 */
describe('desktop notification over D-Bus when an approval waits (issue 11, AC 2)', { skip }, () => {
  const { home, cleanup } = tempHome();
  let bus: Awaited<ReturnType<typeof privateSessionBus>>;
  let server: Awaited<ReturnType<typeof notificationServer>> | undefined;
  let daemon: DaemonProcess | undefined;
  let agent: Client | undefined;

  before(async () => {
    bus = await privateSessionBus();
    server = await notificationServer(bus.address);
    assert.equal(cli(home, ['init']).code, 0);
    // The bus is the daemon's only: scripts/run-tests.ts removes DBUS_SESSION_BUS_ADDRESS from tests.
    daemon = await startDaemon(home, [], { DBUS_SESSION_BUS_ADDRESS: bus.address });
    agent = await stdioClient(home, ['--approval-wait', '0']);
  });
  after(async () => {
    await agent?.close();
    await daemon?.stop();
    server?.close();
    await bus?.stop();
    cleanup();
  });

  it('names the tool, the approval and how to approve, never the argument value', async () => {
    const canary = `CANARY-${randomBytes(8).toString('hex')}`;
    const result = await agent!.callTool({ name: 'notes.add', arguments: { text: `remember ${canary}` } });
    const approval = approvalOf(result);
    assert.equal(approval?.code, 'approval_required', JSON.stringify(result));
    const id = approval.approval_id!;
    const n = await until<ReceivedNotification>('the notification', () =>
      server!.received.find((r) => r.body.includes(id)),
    );
    assert.equal(n.signature, 'susssasa{sv}i');
    assert.equal(n.appName, 'Briefcase');
    assert.match(n.summary, /notes\.add/);
    assert.match(n.body, /notes\.add \(built-in tool\)/);
    assert.match(n.body, new RegExp(`approvals approve ${id}`));
    assert.match(n.body, /approvals watch/);
    // The command works where it is printed: this home is not the default, so it carries --home.
    assert.ok(n.body.includes(`--home ${home}`), n.body);
    assert.ok(!JSON.stringify(n.raw).includes(canary), `the argument value leaked: ${JSON.stringify(n.raw)}`);
    assert.ok(!JSON.stringify(n.raw).includes('remember'), 'no part of the argument value');
  });

  it('is best-effort: with no notification server the call is unaffected and one line is logged', async () => {
    server!.close();
    server = undefined;
    const before = readFileSync(join(home, 'logs/daemon.log'), 'utf8').length;
    const result = await agent!.callTool({ name: 'notes.add', arguments: { text: 'no server listening' } });
    assert.equal(approvalOf(result)?.code, 'approval_required', JSON.stringify(result));
    const line = await until('the log line', () =>
      readFileSync(join(home, 'logs/daemon.log'), 'utf8')
        .slice(before)
        .split('\n')
        .find((l) => l.includes('desktop notification not delivered')),
    );
    assert.ok(!line.includes('no server listening'), line);
  });

  it('is off with notifications.desktop false', async () => {
    await agent!.close();
    await daemon!.stop();
    writeJson(`${home}/config.json`, {
      ...readJson<Record<string, unknown>>(`${home}/config.json`),
      notifications: { desktop: false },
    });
    server = await notificationServer(bus.address);
    daemon = await startDaemon(home, [], { DBUS_SESSION_BUS_ADDRESS: bus.address });
    agent = await stdioClient(home, ['--approval-wait', '0']);
    const result = await agent.callTool({ name: 'notes.add', arguments: { text: 'quiet please' } });
    assert.equal(approvalOf(result)?.code, 'approval_required');
    // The approval exists; a notification would have been sent within milliseconds of it.
    await sleep(2000);
    assert.deepEqual(server.received, []);
  });
});
