import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BriefcaseOAuthProvider, MemoryOAuthStore } from './index.ts';

const provider = (seen: URL[]) =>
  new BriefcaseOAuthProvider({
    redirectUrl: 'http://127.0.0.1:1234/callback',
    store: new MemoryOAuthStore(),
    onAuthorizationUrl: (u) => void seen.push(u),
  });

const metadata = (extra: Record<string, unknown>) =>
  ({
    issuer: 'https://as.example',
    authorization_endpoint: 'https://as.example/a',
    token_endpoint: 'https://as.example/t',
    response_types_supported: ['code'],
    ...extra,
  }) as never;

describe('BriefcaseOAuthProvider', () => {
  it('refuses an authorization server that does not advertise PKCE S256', async () => {
    const seen: URL[] = [];
    const p = provider(seen);
    p.saveDiscoveryState({ authorizationServerUrl: 'https://as.example', authorizationServerMetadata: metadata({}) });
    await assert.rejects(p.redirectToAuthorization(new URL('https://as.example/a?x=1')), /PKCE S256/);
    p.saveDiscoveryState({
      authorizationServerUrl: 'https://as.example',
      authorizationServerMetadata: metadata({ code_challenge_methods_supported: ['plain'] }),
    });
    await assert.rejects(p.redirectToAuthorization(new URL('https://as.example/a?x=1')), /PKCE S256/);
    p.saveDiscoveryState({
      authorizationServerUrl: 'https://as.example',
      authorizationServerMetadata: metadata({ code_challenge_methods_supported: ['S256'] }),
    });
    await p.redirectToAuthorization(new URL('https://as.example/a?x=1'));
    assert.equal(seen.length, 1);
  });

  it('checks the state it sent, and keeps granted scopes on step-up', async () => {
    const seen: URL[] = [];
    const store = new MemoryOAuthStore();
    const p = new BriefcaseOAuthProvider({
      redirectUrl: 'http://127.0.0.1:1/cb',
      store,
      onAuthorizationUrl: (u) => void seen.push(u),
    });
    const state = p.state();
    assert.equal(p.checkState(state), true);
    assert.equal(p.checkState('forged'), false);
    assert.equal(p.checkState(null), false);
    store.saveTokens({ access_token: 'a', token_type: 'Bearer', scope: 'mcp:basic' });
    await p.redirectToAuthorization(new URL('https://as.example/a?scope=mcp%3Awrite'));
    assert.equal(seen[0]!.searchParams.get('scope'), 'mcp:basic mcp:write');
  });
});
