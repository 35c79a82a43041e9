import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BriefcaseError } from '@briefcase/protocol';
import { requestUrl } from './http-connector.ts';
import { connectorFromJson } from './registry.ts';

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

describe('connector access manifests (issue 10: one manifest for every tool kind)', () => {
  const base = {
    kind: 'http',
    name: 'c.get',
    description: 'fixture',
    category: 'read',
    input_schema: { type: 'object' },
    request: { method: 'GET', url: 'https://api.example.com/x', headers: { authorization: 'Bearer {{secret:tok}}' } },
  };
  const problems = (patch: Record<string, unknown>) => {
    const r = connectorFromJson({ ...base, ...patch }, 'c.json');
    return r.ok ? '' : r.error.join('\n');
  };

  it('accepts access.network, the deprecated egress alias, or both; folds the alias into access.network', () => {
    assert.equal(problems({ access: { network: ['api.example.com'], secrets: { TOK: 'tok' } } }), '');
    assert.equal(problems({ egress: ['api.example.com'] }), '');
    const both = connectorFromJson(
      { ...base, egress: ['api.example.com'], access: { network: ['other.example.com'], secrets: { TOK: 'tok' } } },
      'c.json',
    );
    assert.ok(both.ok);
    assert.deepEqual(both.value.access.network, ['other.example.com', 'api.example.com']);
  });
  it('refuses a connector that names no host, or whose URL host is not in its access', () => {
    assert.match(problems({}), /access\.network: a connector names the hosts it may reach/);
    assert.match(
      problems({ access: { network: ['other.example.com'], secrets: { TOK: 'tok' } } }),
      /host api\.example\.com is not in the connector's access\.network/,
    );
  });
  it('with access, a header may name only a listed secret', () => {
    assert.match(
      problems({ access: { network: ['api.example.com'] } }),
      /secret "tok" is not listed in access\.secrets/,
    );
  });
  it('refuses grants a connector cannot use (files, environment, no isolation)', () => {
    const p = problems({
      access: {
        network: ['api.example.com'],
        secrets: { TOK: 'tok' },
        isolation: 'none',
        filesystem: [{ path: '/etc', access: 'ro' }],
        env: ['HOME'],
      },
    });
    assert.match(p, /access\.isolation/);
    assert.match(p, /access\.filesystem/);
    assert.match(p, /access\.env/);
  });
});
