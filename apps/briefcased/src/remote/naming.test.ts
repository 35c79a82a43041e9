import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { qualifiedNames } from './naming.ts';

describe('remote tool names', () => {
  it('prefixes the server, makes names valid, and numbers collisions in the server order', () => {
    const names = qualifiedNames('gh', ['list issues', 'list_issues', 'list?issues', 'ok.name', 'x'.repeat(200)]);
    assert.deepEqual([...names.values()].slice(0, 4), [
      'gh.list_issues',
      'gh.list_issues_2',
      'gh.list_issues_3',
      'gh.ok.name',
    ]);
    const long = names.get('x'.repeat(200))!;
    assert.equal(long.length, 128);
    for (const n of names.values()) assert.match(n, /^[A-Za-z0-9_.-]{1,128}$/);
  });

  it('reviewed names stay with their tool whatever the server order (no _2 swap)', () => {
    const reviewed = qualifiedNames('s', ['a_b', 'a b']);
    assert.deepEqual(
      [...reviewed],
      [
        ['a_b', 's.a_b'],
        ['a b', 's.a_b_2'],
      ],
    );
    const reordered = qualifiedNames('s', ['a b', 'a_b'], reviewed);
    assert.equal(reordered.get('a_b'), 's.a_b');
    assert.equal(reordered.get('a b'), 's.a_b_2');
    // A newcomer that sanitizes the same way gets the next free number, never a reviewed name.
    const grown = qualifiedNames('s', ['a?b', 'a b', 'a_b'], reviewed);
    assert.deepEqual([grown.get('a_b'), grown.get('a b'), grown.get('a?b')], ['s.a_b', 's.a_b_2', 's.a_b_3']);
    // A reviewed tool that left the list keeps its name: a newcomer does not inherit it.
    assert.equal(qualifiedNames('s', ['a b'], new Map([['a_b', 's.a_b']])).get('a b'), 's.a_b_2');
    // A pinned name this original could not have been given is ignored.
    assert.equal(qualifiedNames('s', ['x'], new Map([['x', 's.a_b']])).get('x'), 's.x');
  });
});
