import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { loadMasterKey, Vault } from '@briefcase/vault';
import { browse, startOAuthWorld, type OAuthWorld } from './fixtures/oauth-world.ts';
import {
  cli,
  cliAsync,
  cliJson,
  receiptRecords,
  remoteState,
  sleep,
  startDaemon,
  stdioClient,
  tempHome,
  type DaemonProcess,
} from './helpers.ts';

const code = (r: { _meta?: unknown }) =>
  (r._meta as Record<string, { code: string }> | undefined)?.['dev.briefcase/error']?.code;

/**
 * Remote MCP issue AC 1 (FR-2, FR-3, AC-4.2, AC-4.3): SDK client → briefcase mcp → briefcased → a
 * Streamable HTTP MCP server protected by a real authorization server (oidc-provider: PKCE,
 * resource indicators, DPoP, dynamic registration, revocation) that checks token audience.
 */
describe('remote MCP server behind OAuth with DPoP', () => {
  const { home, cleanup } = tempHome();
  let world: OAuthWorld;
  let daemon: DaemonProcess;
  let agent: Client;

  before(async () => {
    world = await startOAuthWorld({ accessTokenTTL: 40 });
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home);
    const added = await cliAsync(home, ['remote', 'add', 'secure', '--url', world.resource]);
    assert.equal(added.code, 0, added.stderr);
    agent = await stdioClient(home);
  });
  after(async () => {
    await agent?.close();
    await daemon?.stop();
    await world?.close();
    cleanup();
  });

  it('before login the server needs authorization and says how to get it', async () => {
    const s = await remoteState(home, 'secure');
    assert.equal(s?.status, 'auth_required');
    assert.equal(s?.auth, 'required');
    assert.ok(world.refused.includes('no token'));
  });

  it('logs in through the loopback redirect and calls the tool with a DPoP-bound, audience-bound token', async () => {
    const login = await cliAsync(home, ['remote', 'login', 'secure', '--no-wait', '--json']);
    assert.equal(login.code, 0, login.stderr);
    const url = new URL((JSON.parse(login.stdout) as { authorization_url: string }).authorization_url);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(url.searchParams.get('resource'), world.resource);
    assert.ok(url.searchParams.get('state'));
    await browse(url.toString());
    for (let i = 0; i < 100; i++) {
      const s = await remoteState(home, 'secure');
      if (s?.status === 'connected' && s.auth === 'authorized') break;
      await sleep(100);
    }
    const r = await agent.callTool({ name: 'secure.whoami', arguments: {} });
    assert.equal(r.isError, undefined, JSON.stringify(r));
    const who = JSON.parse((r.content as { text: string }[])[0]!.text) as { sub: string; aud: string; dpop: boolean };
    assert.deepEqual(who, { ...who, sub: 'alice', aud: world.resource, dpop: true });
    assert.ok(world.accepted.length > 0);
    assert.equal(world.registrations, 1, 'with no client configured, the Briefcase registers dynamically (RFC 7591)');
  });

  it('refreshes the access token before it expires', async () => {
    const before = new Set(world.accepted);
    await sleep(11_000); // 40 s tokens are refreshed in their last 30 s
    const r = await agent.callTool({ name: 'secure.whoami', arguments: {} });
    assert.equal(r.isError, undefined, JSON.stringify(r));
    assert.ok(
      world.accepted.some((t) => !before.has(t)),
      'a new access token was used',
    );
  });

  it('never shows a token to the agent, the logs or the receipts', async () => {
    const vault = Vault.open(home, (await loadMasterKey(home)).key);
    const refresh = vault.get('oauth.secure.refresh')?.expose();
    assert.ok(refresh, 'the refresh token lives in the vault');
    const secrets = [refresh, ...new Set(world.accepted)];
    const r = await agent.callTool({ name: 'secure.whoami', arguments: {} });
    const places = [
      JSON.stringify(r),
      JSON.stringify(await agent.listTools()),
      ...readdirSync(join(home, 'logs')).map((f) => readFileSync(join(home, 'logs', f), 'utf8')),
      JSON.stringify(receiptRecords(home)),
      daemon.output(),
      cli(home, ['remote', 'list', '--json']).stdout,
    ];
    for (const place of places) for (const s of secrets) assert.ok(!place.includes(s), 'a token leaked');
  });

  it('logs out: revokes at the server, forgets the tokens; the revoked refresh token is refused', async () => {
    const vault = Vault.open(home, (await loadMasterKey(home)).key);
    const refresh = vault.get('oauth.secure.refresh')!.expose();
    const client = JSON.parse(vault.get('oauth.secure.client')!.expose()) as { client_id: string };
    const out = await cliAsync(home, ['remote', 'logout', 'secure', '--json']);
    assert.equal(out.code, 0, out.stderr);
    assert.ok((JSON.parse(out.stdout) as { revoked: string[] }).revoked.includes('refresh_token'));
    assert.equal(Vault.open(home, (await loadMasterKey(home)).key).get('oauth.secure.refresh'), undefined);
    const token = await fetch(`${world.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh, client_id: client.client_id }),
    });
    assert.equal(token.status, 400);
    assert.equal(((await token.json()) as { error: string }).error, 'invalid_grant');
    const r = await agent.callTool({ name: 'secure.whoami', arguments: {} });
    assert.equal(code(r), 'oauth_required');
    assert.match(JSON.stringify(r), /briefcase(\.js --home \S+)? remote login secure/);
    const events = receiptRecords(home)
      .filter((x) => x.kind === 'oauth')
      .map((x) => x.body.event);
    assert.deepEqual(events, ['login_started', 'logged_in', 'logged_out']);
  });

  it('rotating the DPoP key revokes the tokens bound to the old key; a new login binds to the new key', async () => {
    await login(home);
    const before = await whoami(agent);
    const keys = () =>
      (JSON.parse(cli(home, ['keys', 'list', '--json']).stdout) as { keys: { role: string; key_id: string }[] }).keys;
    const oldKey = keys().find((k) => k.role === 'dpop')!.key_id;
    assert.equal(before.jkt, oldKey, 'the token is bound to the dpop key');
    const vault = Vault.open(home, (await loadMasterKey(home)).key);
    const refresh = vault.get('oauth.secure.refresh')!.expose();
    const client = JSON.parse(vault.get('oauth.secure.client')!.expose()) as { client_id: string };

    const rotated = await cliAsync(home, ['keys', 'rotate', '--role', 'dpop', '--json']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const r = JSON.parse(rotated.stdout) as { old_key_id: string; key_id: string; logged_out: string[] };
    assert.deepEqual([r.old_key_id, r.logged_out], [oldKey, ['secure']]);
    const token = await fetch(`${world.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh, client_id: client.client_id }),
    });
    assert.equal(token.status, 400, 'the old refresh token was revoked');
    assert.equal(code(await agent.callTool({ name: 'secure.whoami', arguments: {} })), 'oauth_required');

    await login(home);
    const after = await whoami(agent);
    assert.equal(after.jkt, r.key_id, 'the new token is bound to the new key');
    assert.notEqual(after.jkt, oldKey);
    const rotation = receiptRecords(home).find((x) => x.kind === 'signer' && x.body.role === 'dpop');
    assert.deepEqual(rotation?.body, {
      event: 'rotated',
      role: 'dpop',
      old_key_id: oldKey,
      new_key_id: r.key_id,
      algorithm: 'ES256',
      logged_out: ['secure'],
    });
  });

  it('keys create --role dpop with the daemon stopped drops the tokens bound to the old key', async () => {
    await agent.close();
    await daemon.stop();
    const created = cliJson<{ key_id: string; logged_out: string[] }>(home, [
      'keys',
      'create',
      '--role',
      'dpop',
      '--backend',
      'software',
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual(created.json.logged_out, ['secure']);
    assert.equal(Vault.open(home, (await loadMasterKey(home)).key).get('oauth.secure.refresh'), undefined);
    daemon = await startDaemon(home);
    agent = await stdioClient(home);
    for (let i = 0; i < 100 && (await remoteState(home, 'secure'))?.status !== 'auth_required'; i++) await sleep(100);
    const state = await remoteState(home, 'secure');
    assert.deepEqual([state?.status, state?.auth], ['auth_required', 'required']);
    assert.match(state?.error ?? '', /briefcase(\.js --home \S+)? remote login secure/);
  });
});

/** `briefcase remote login secure` and the person's browser, until the server is connected. */
async function login(home: string): Promise<void> {
  const login = await cliAsync(home, ['remote', 'login', 'secure', '--no-wait', '--json']);
  assert.equal(login.code, 0, login.stderr);
  await browse((JSON.parse(login.stdout) as { authorization_url: string }).authorization_url);
  for (let i = 0; i < 100; i++) {
    const s = await remoteState(home, 'secure');
    if (s?.status === 'connected' && s.auth === 'authorized') return;
    await sleep(100);
  }
  assert.fail('the server did not connect after login');
}

async function whoami(agent: Client): Promise<{ sub: string; jkt: string }> {
  const r = await agent.callTool({ name: 'secure.whoami', arguments: {} });
  assert.equal(r.isError, undefined, JSON.stringify(r));
  return JSON.parse((r.content as { text: string }[])[0]!.text) as { sub: string; jkt: string };
}

describe('remote MCP server behind OAuth with a pre-registered client', () => {
  const { home, cleanup } = tempHome();
  let world: OAuthWorld;
  let daemon: DaemonProcess;

  before(async () => {
    world = await startOAuthWorld();
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home);
  });
  after(async () => {
    await daemon?.stop();
    await world?.close();
    cleanup();
  });

  it('uses the pre-registered client ID instead of registering', async () => {
    const added = await cliAsync(home, [
      'remote',
      'add',
      'pre',
      '--url',
      world.resource,
      '--client-id',
      'briefcase-preregistered',
    ]);
    assert.equal(added.code, 0, added.stderr);
    const login = await cliAsync(home, ['remote', 'login', 'pre', '--no-wait', '--json']);
    const url = new URL((JSON.parse(login.stdout) as { authorization_url: string }).authorization_url);
    assert.equal(url.searchParams.get('client_id'), 'briefcase-preregistered');
    await browse(url.toString());
    for (let i = 0; i < 100 && (await remoteState(home, 'pre'))?.status !== 'connected'; i++) await sleep(100);
    const agent = await stdioClient(home);
    try {
      const r = await agent.callTool({ name: 'pre.whoami', arguments: {} });
      assert.equal(r.isError, undefined, JSON.stringify(r));
    } finally {
      await agent.close();
    }
    assert.equal(world.registrations, 0);
  });
});
