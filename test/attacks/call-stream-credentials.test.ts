import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { receiptRecords, token } from '../helpers.ts';
import { RawStream, upgrade } from '../lib/call-stream-raw.ts';
import { streamRig, type StreamRig } from './lib/call-stream.ts';

/**
 * Who a call stream speaks for (docs/security.md, "The call stream"): on the daemon socket, the
 * token presented at the upgrade, for its own endpoint only; on the agent socket (`fixedRole`),
 * the agent whatever token is sent, so an admin token that leaked to an agent opens nothing more.
 */
describe('attack: credentials on the call stream, daemon socket and agent socket', () => {
  let rig: StreamRig;
  const run = mkdtempSync(join(tmpdir(), 'bc-cs-run-'));
  const agentSocket = join(run, 'agent.sock');
  before(async () => {
    chmodSync(run, 0o750);
    rig = await streamRig(['--agent-socket', agentSocket, '--agent-group', String(process.getgid?.() ?? 0)]);
  });
  after(async () => {
    await rig?.close();
    rmSync(run, { recursive: true, force: true });
  });

  it('agent socket: the admin stream is refused even with the admin token; the agent stream is the agent whatever is sent', async () => {
    const { home } = rig;
    for (const bearer of [undefined, token(home, 'admin'), token(home, 'agent')]) {
      const s = await RawStream.open(agentSocket, '/v1/admin/tools/stream', upgrade(bearer));
      assert.equal(s.status, 403, `admin stream on the agent socket with ${bearer ? bearer.slice(0, 9) : 'no token'}`);
      s.socket.destroy();
    }
    const before = receiptRecords(home).length;
    for (const bearer of [undefined, token(home, 'admin'), 'bc_admin_forged']) {
      const s = await RawStream.open(agentSocket, '/v1/agent/tools/stream', upgrade(bearer));
      assert.equal(s.status, 101);
      s.send({ id: 1, call: { tool: 'echo', args: { text: 'via agent socket' } } });
      const frames = await s.until((f) => f.length >= 1);
      assert.equal((frames[0]?.response as { ok: boolean }).ok, true, JSON.stringify(frames[0]));
      s.socket.destroy();
    }
    const calls = receiptRecords(home)
      .slice(before)
      .filter((r) => r.kind === 'tool_call');
    assert.equal(calls.length, 3);
    for (const r of calls) assert.equal(r.actor, 'agent', 'a call on the agent socket is the agent’s');
  });

  it('daemon socket: each role’s token opens only its own stream, and its calls are that role’s', async () => {
    const { home } = rig;
    const before = receiptRecords(home).length;
    for (const role of ['agent', 'admin'] as const) {
      const other = role === 'agent' ? 'admin' : 'agent';
      const refused = await RawStream.open(home, `/v1/${role}/tools/stream`, upgrade(token(home, other)));
      assert.equal(refused.status, 403);
      refused.socket.destroy();
      const s = await RawStream.open(home, `/v1/${role}/tools/stream`, upgrade(token(home, role)));
      s.send({ id: 1, call: { tool: 'echo', args: { text: role } } });
      await s.until((f) => f.length >= 1);
      s.socket.destroy();
    }
    const actors = receiptRecords(home)
      .slice(before)
      .filter((r) => r.kind === 'tool_call')
      .map((r) => r.actor);
    assert.deepEqual(actors, ['agent', 'admin']);
  });
});
