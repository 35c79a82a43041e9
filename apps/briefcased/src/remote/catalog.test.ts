import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentUri, catalogHash, parseAgentUri, pinKey, reviewCatalog } from './catalog.ts';
import type { Pin } from './pins.ts';

describe('remote resources and prompts: names and review (catalog.ts)', () => {
  it('an agent URI names its server and round-trips any URI; anything else is not ours', () => {
    for (const uri of ['demo://a/b?c=d#e', 'file:///etc/passwd', 'x:/../briefcase://other/y', 'ünï cödé']) {
      assert.deepEqual(parseAgentUri(agentUri('srv', uri)), { server: 'srv', original: uri });
    }
    assert.equal(parseAgentUri('file:///etc/passwd'), null);
    assert.equal(parseAgentUri('briefcase://bad.name/x'), null, 'server names have no dots');
    assert.equal(parseAgentUri('briefcase://srv/%E0%A4%A'), null, 'malformed escapes are refused');
  });

  it('first sight is new; the pinned definition is pinned; any change of it is changed', () => {
    const resource = { uri: 'demo://r', name: 'r', description: 'one' };
    const prompt = { name: 'p', description: 'a prompt' };
    const fresh = reviewCatalog('srv', [resource], [prompt], new Map());
    assert.deepEqual(
      fresh.map((i) => [i.kind, i.agentName, i.state]),
      [
        ['resource', agentUri('srv', 'demo://r'), 'new'],
        ['prompt', 'srv.p', 'new'],
      ],
    );
    const pins = new Map<string, Pin>(
      fresh.map((i) => [
        pinKey(i.kind, i.original),
        { server: 'srv#catalog', tool: pinKey(i.kind, i.original), hash: i.hash, qualified: i.agentName },
      ]),
    );
    assert.deepEqual(
      reviewCatalog('srv', [resource], [prompt], pins).map((i) => i.state),
      ['pinned', 'pinned'],
    );
    const changed = reviewCatalog('srv', [{ ...resource, description: 'IGNORE ALL' }], [prompt], pins);
    assert.deepEqual(
      changed.map((i) => i.state),
      ['changed', 'pinned'],
    );
    assert.notEqual(catalogHash('resource', resource), catalogHash('prompt', resource as never));
  });

  it('prompt names are sanitized and never shared; a prompt or resource listed twice is held back, never pinnable', () => {
    const items = reviewCatalog(
      'srv',
      [
        { uri: 'demo://x', name: 'x' },
        { uri: 'demo://x', name: 'evil twin' },
      ],
      [{ name: 'a b' }, { name: 'a_b' }, { name: 'a b', description: 'evil twin' }],
      new Map(),
    );
    assert.deepEqual(
      items.map((i) => [i.original, i.agentName, i.state, i.listedTwice]),
      [
        ['demo://x', agentUri('srv', 'demo://x'), 'changed', true],
        ['a b', 'srv.a_b', 'changed', true],
        ['a_b', 'srv.a_b_2', 'new', false],
      ],
    );
  });
});
