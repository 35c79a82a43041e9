import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BriefcaseError } from '@briefcase/protocol';
import { requestUrl } from './http-connector.ts';

const refused = (code: string, message: RegExp) => (e: unknown) =>
  e instanceof BriefcaseError && e.code === code && message.test(e.message);

describe('connector URLs from hostile arguments', () => {
  it('a path placeholder may not be a dot segment; everywhere else values are encoded', () => {
    const t = 'https://api.example.com/repos/{repo}/issues';
    assert.throws(() => requestUrl(t, { repo: '..' }), refused('invalid_args', /argument repo may not be "\.\."/));
    assert.throws(() => requestUrl(t, { repo: '.' }), refused('invalid_args', /argument repo may not be "\."/));
    for (const repo of ['%2e%2e', '.%2E', '../..', '..\\..', 'a/b', '...', 'x@evil.com', '?q#f']) {
      const url = requestUrl(t, { repo });
      assert.equal(url.host, 'api.example.com');
      assert.match(url.pathname, /^\/repos\/[^/]+\/issues$/, repo);
    }
    assert.equal(requestUrl('https://h/search?q={repo}', { repo: '..' }).search, '?q=..');
  });

  it('a dot segment made from the template and an argument together is refused too', () => {
    assert.throws(() => requestUrl('https://h/x/.{a}/y', { a: '' }), refused('invalid_args', /segment/));
    assert.throws(() => requestUrl('https://h/x/{a}{b}/y', { a: '.', b: '' }), refused('invalid_args', /"\."/));
    assert.equal(requestUrl('https://h/x/.{a}/y', { a: 'z' }).pathname, '/x/.z/y');
  });

  it('values that break the URL are invalid_args, not a crash', () => {
    assert.throws(
      () => requestUrl('https://{sub}.example.com/', { sub: 'evil.com#' }),
      refused('invalid_args', /valid URL/),
    );
  });
});
