import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { Scrubber } from '@briefcase/vault';
import { firewallResponses, viewText } from './agent-view.ts';

describe('agent view (the choke point for agent responses)', () => {
  const secret = 'Q7v2Lx9P","b';
  const scrubber = new Scrubber([secret, 'ghp_xY3kP9qR2mN7vB4tL8wZ1cD6fG5hJ0sA']);
  const agentResponse = () => {
    const res = {} as ServerResponse;
    const withheld: number[] = [];
    firewallResponses(res, scrubber, () => withheld.push(1));
    return { res, withheld };
  };

  it('leaves a response without the agent firewall alone, and clean text unchanged', () => {
    assert.equal(
      viewText({} as ServerResponse, { a: 'ghp_xY3kP9qR2mN7vB4tL8wZ1cD6fG5hJ0sA' }),
      '{"a":"ghp_xY3kP9qR2mN7vB4tL8wZ1cD6fG5hJ0sA"}',
    );
    const { res } = agentResponse();
    assert.equal(viewText(res, { tools: [{ name: 'echo' }] }), '{"tools":[{"name":"echo"}]}');
  });

  it('scrubs strings, keys and numbers and keeps the JSON well-formed', () => {
    const { res } = agentResponse();
    const body = { ghp_xY3kP9qR2mN7vB4tL8wZ1cD6fG5hJ0sA: 'x "ghp_xY3kP9qR2mN7vB4tL8wZ1cD6fG5hJ0sA"' };
    assert.deepEqual(JSON.parse(viewText(res, body)!), { '[redacted]': 'x "[redacted]"' });
  });

  it('withholds a body whose secret spans JSON syntax and cannot be removed without breaking it', () => {
    const { res, withheld } = agentResponse();
    // The JSON text holds `Q7v2Lx9P","b` across two strings; removing it leaves broken JSON.
    assert.equal(viewText(res, { a: 'Q7v2Lx9P', b: 'z' }), undefined);
    assert.equal(withheld.length, 1);
  });

  it('withholds a body too deeply nested to walk (fail closed, no crash)', () => {
    const { res, withheld } = agentResponse();
    let deep: unknown = 'ghp_xY3kP9qR2mN7vB4tL8wZ1cD6fG5hJ0sA';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.equal(viewText(res, deep), undefined);
    assert.equal(withheld.length, 1);
  });
});
