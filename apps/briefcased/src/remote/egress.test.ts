import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorizationServerGrant, egressViolationIn, RemoteEgress } from './egress.ts';
import { EgressViolation } from '@briefcase/egress';

const prm = (as: unknown) => ({ resource: 'x', authorization_servers: as });

describe('an HTTP remote server’s egress', () => {
  it('grants its URL’s host and port, and what access.network adds', () => {
    assert.deepEqual(new RemoteEgress(new URL('https://mcp.example.com/mcp'), undefined).rules(), {
      grants: ['mcp.example.com:443'],
      allowPrivate: false,
    });
    assert.deepEqual(
      new RemoteEgress(new URL('http://[::1]:8080/mcp'), { network: ['api.example.com'], allow_private: true }).rules(),
      { grants: ['[::1]:8080', 'api.example.com'], allowPrivate: true },
    );
  });

  it('learns the first authorization server of its metadata; a public server cannot name a local address', () => {
    const pub = new URL('https://mcp.example.com/mcp');
    assert.equal(
      authorizationServerGrant(pub, prm(['https://auth.example.com/tenant']), false),
      'auth.example.com:443',
    );
    assert.equal(authorizationServerGrant(pub, prm(['http://auth.example.com:8080']), false), 'auth.example.com:8080');
    for (const local of ['http://127.0.0.1:38080', 'http://[::1]:9', 'http://10.0.0.1', 'http://169.254.169.254']) {
      assert.equal(authorizationServerGrant(pub, prm([local]), false), null, local);
    }
    assert.equal(authorizationServerGrant(pub, prm(['http://10.0.0.1']), true), '10.0.0.1:80');
    // A local server with a local authorization server (development, the tests' oidc-provider).
    const local = new URL('http://127.0.0.1:4000/mcp');
    assert.equal(authorizationServerGrant(local, prm(['http://127.0.0.1:4001']), false), '127.0.0.1:4001');
    for (const junk of [
      null,
      {},
      prm('https://a.example'),
      prm([1]),
      prm(['file:///etc/passwd']),
      prm(['not a url']),
    ]) {
      assert.equal(authorizationServerGrant(pub, junk, false), null, JSON.stringify(junk));
    }
  });

  it('finds an egress violation however the SDK wrapped it', () => {
    const v = new EgressViolation('h', 1, 'r');
    assert.equal(egressViolationIn(v), v);
    assert.equal(egressViolationIn(new Error('outer', { cause: new Error('mid', { cause: v }) })), v);
    assert.equal(egressViolationIn(new Error('plain')), undefined);
  });
});
