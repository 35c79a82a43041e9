import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newToken, TokenCheck } from './tokens.ts';

describe('TokenCheck (the per-request bearer check)', () => {
  it('tells the admin token from the agent token, and anything else from both', () => {
    const tokens = { admin: newToken('admin'), agent: newToken('agent') };
    const check = new TokenCheck();
    assert.equal(check.role(tokens.admin, tokens), 'admin');
    assert.equal(check.role(tokens.agent, tokens), 'agent');
    assert.equal(check.role('', tokens), null);
    assert.equal(check.role(tokens.agent.slice(0, -1), tokens), null);
    assert.equal(check.role(`${tokens.agent}x`, tokens), null);
  });

  it('a replaced token stops matching at once: its cached digest is not reused (attack)', () => {
    const tokens = { admin: newToken('admin'), agent: newToken('agent') };
    const check = new TokenCheck();
    const old = tokens.agent;
    assert.equal(check.role(old, tokens), 'agent');
    const rotated = { ...tokens, agent: newToken('agent') };
    assert.equal(check.role(old, rotated), null);
    assert.equal(check.role(rotated.agent, rotated), 'agent');
    const oldAdmin = tokens.admin;
    const rotatedAdmin = { ...rotated, admin: newToken('admin') };
    assert.equal(check.role(oldAdmin, rotatedAdmin), null);
    assert.equal(check.role(rotatedAdmin.admin, rotatedAdmin), 'admin');
  });
});
