import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadRegistry, type ToolOwner } from './registry.ts';
import { textResult, type Tool } from './tool.ts';

function tool(name: string, pinProblem?: () => string | null): Tool {
  return {
    descriptor: { name, description: '', inputSchema: { type: 'object' }, category: 'read', origin: 'remote_mcp' },
    server: 'h',
    tags: [],
    sensitiveArgs: [],
    reads: null,
    changes: null,
    currency: 'USD',
    estimateCost: () => 0,
    execute: () => Promise.resolve({ result: textResult('ok') }),
    ...(pinProblem ? { pinProblem } : {}),
  };
}

describe('tool registry: names are owned', () => {
  const remote = (server: string): ToolOwner => ({ kind: 'remote', server });

  it("a remote cannot replace or remove another owner's name; removeOwned removes only its own", () => {
    const registry = loadRegistry('/nonexistent');
    assert.equal(registry.add(tool('echo'), { owner: remote('h') }).ok, false);
    assert.equal(registry.remove('echo', remote('h')), false);
    assert.equal(registry.add(tool('h.x'), { owner: remote('h') }).ok, true);
    assert.equal(registry.add(tool('h.x'), { owner: remote('other') }).ok, false);
    registry.removeOwned(remote('h'));
    assert.equal(registry.get('h.x'), undefined);
    assert.equal(registry.owner('echo')?.kind, 'builtin');
    assert.equal(registry.owner('notes.add')?.kind, 'builtin');
  });

  it('namespaces of builtins and reserved names are owned; a remote namespace is not', () => {
    const registry = loadRegistry('/nonexistent');
    assert.equal(registry.add(tool('h.x'), { owner: remote('h') }).ok, true);
    assert.equal(registry.namespaceOwner('notes')?.kind, 'builtin');
    assert.equal(registry.namespaceOwner('echo')?.kind, 'builtin');
    assert.equal(registry.namespaceOwner('briefcase')?.kind, 'builtin');
    assert.equal(registry.namespaceOwner('h'), undefined);
  });

  it('a tool held back for review is not listed', () => {
    const registry = loadRegistry('/nonexistent');
    let problem: string | null = 'changed';
    registry.add(
      tool('h.y', () => problem),
      { owner: remote('h') },
    );
    assert.ok(!registry.list().some((t) => t.name === 'h.y'));
    problem = null;
    assert.ok(registry.list().some((t) => t.name === 'h.y'));
  });
});
