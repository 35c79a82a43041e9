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
});
