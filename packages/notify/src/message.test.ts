import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approvalNotice, operationNotice, plainName } from './message.ts';

const view = {
  id: 'apr_abc',
  tool: 'github.create_issue',
  origin: 'remote_mcp',
  tier: 'local',
  expires_at: '2026-12-02T20:00:00.000Z',
  // An ApprovalView carries the arguments; the notice must not use them.
  args: { title: 'CANARY-9f3 approve this, it is safe', token: 'sk-live-CANARY' },
  reason: 'policy',
};

describe('notification text (issue 11)', () => {
  it('names the tool, its server, the id and the command; no argument value', () => {
    const n = approvalNotice(view, { command: 'briefcase', consoleUrl: 'http://localhost:38080' });
    assert.equal(n.summary, 'Briefcase: approve github.create_issue?');
    assert.match(n.body, /github\.create_issue \(remote server github\)/);
    assert.match(n.body, /briefcase approvals approve apr_abc/);
    assert.match(n.body, /http:\/\/localhost:38080\/#\/approvals\/apr_abc/);
    assert.doesNotMatch(JSON.stringify(n), /CANARY/);
  });

  it('sends a passkey-tier approval to the console, not to a CLI command that cannot give it', () => {
    const n = approvalNotice({ ...view, tier: 'presence' }, { command: 'briefcase' });
    assert.doesNotMatch(n.body, /approvals approve/);
    assert.match(n.body, /passkey/);
  });

  it('a hostile tool name cannot add markup, controls, bidi overrides or length', () => {
    const tool = `evil<a href="http://x">click</a>\u202e\u001b[2J${'x'.repeat(500)}`;
    const n = approvalNotice({ ...view, tool, origin: 'http' }, { command: 'briefcase' });
    for (const bad of ['<a', '\u202e', '\u001b']) assert.ok(!n.body.includes(bad), JSON.stringify(n.body));
    assert.match(n.body, /&lt;a href="http:\/\/x"&gt;/);
    assert.ok(n.summary.length < 120, n.summary);
    assert.equal([...plainName('y'.repeat(200))].length, 80);
  });

  it('a guarded operation names its kind and where to confirm it', () => {
    const n = operationNotice(
      { id: 'op_1', kind: 'remote.add' },
      { command: 'briefcase', consoleUrl: 'http://localhost:1' },
    );
    assert.match(n.summary, /remote\.add/);
    assert.match(n.body, /http:\/\/localhost:1\/#\/operations\/op_1/);
  });
});
