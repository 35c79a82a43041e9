import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { cli, sleep, startDaemon, stdioClient, tempHome, type DaemonProcess } from '../helpers.ts';
import { addHostile, hostileRemote, type HostileRemote } from './lib/hostile-remote.ts';

/**
 * Issue 8 class 9 (cross-talk): the daemon holds one session per remote server for every agent,
 * and MCP log messages belong to the session. Two agents (two gateways) calling the same remote
 * server at once must each receive only log messages of their own calls.
 */
describe('attack: two agents calling the same remote server read each other’s log messages', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;
  let server: HostileRemote;
  const agents: { client: Client; prefix: string; logs: string[] }[] = [];

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home);
    server = hostileRemote(home, 'shared', [
      { name: 'chat', description: 'Logs its marker while it works', effect: 'chat', readOnly: true },
    ]);
    const added = await addHostile(home, 'shared');
    assert.equal(added.code, 0, added.stderr);
    for (const prefix of ['alice', 'bob']) {
      const client = await stdioClient(home);
      const logs: string[] = [];
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        logs.push(String(n.params.data));
      });
      await client.setLoggingLevel('info');
      agents.push({ client, prefix, logs });
    }
  });
  after(async () => {
    for (const a of agents) await a.client.close();
    await daemon?.stop();
    cleanup();
  });

  it('20 concurrent calls from two gateways: each agent receives only log messages of its own calls', async () => {
    const calls = agents.flatMap((a) =>
      Array.from({ length: 10 }, (_, i) =>
        // The server logs only once all 20 calls are in flight: they overlap for certain.
        a.client.callTool({ name: 'shared.chat', arguments: { marker: `${a.prefix}-${i}`, barrier: 20 } }),
      ),
    );
    const results = await Promise.all(calls);
    for (const r of results) assert.equal(r.isError, undefined, JSON.stringify(r));
    assert.equal(server.effects().length, 20);
    await sleep(200); // notifications that were already on their way
    for (const a of agents) {
      const foreign = a.logs.filter((l) => !l.startsWith(`${a.prefix}-`));
      assert.deepEqual(foreign, [], `${a.prefix} received another agent's log messages`);
    }

    // A call alone on the session: its log messages can be attributed, and are relayed.
    const [alice, bob] = agents as [(typeof agents)[number], (typeof agents)[number]];
    const bobBefore = bob.logs.length;
    const r = await alice.client.callTool({ name: 'shared.chat', arguments: { marker: 'alice-solo', barrier: 1 } });
    assert.equal(r.isError, undefined, JSON.stringify(r));
    for (let i = 0; i < 40 && !alice.logs.includes('alice-solo'); i++) await sleep(50);
    assert.ok(alice.logs.includes('alice-solo'), `alice's own log message was not relayed: ${alice.logs.join(',')}`);
    assert.equal(bob.logs.length, bobBefore);
  });
});
