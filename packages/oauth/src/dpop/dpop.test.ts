import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader } from 'jose';
import { SoftwareSigner } from '@briefcase/keys';
import { createProof, dpopFetch, DpopVerifier, type DpopKey } from './index.ts';

/**
 * A resource server that accepts only DPoP-bound tokens (RFC 9449 §7): `Authorization: DPoP`,
 * a valid proof bound to the token's key, and — after the first request — its current nonce.
 * It is the real verifier (jose underneath), not a stand-in.
 */
function resourceServer(token: string, jkt: string): { server: Server; requests: number; nonce: string } {
  const state = { server: undefined as unknown as Server, requests: 0, nonce: randomBytes(16).toString('base64url') };
  const verifier = new DpopVerifier();
  state.server = createServer(async (req, res) => {
    state.requests++;
    const auth = req.headers.authorization ?? '';
    const url = `http://127.0.0.1:${(state.server.address() as { port: number }).port}${req.url}`;
    const deny = (error: string) => {
      res.writeHead(401, {
        'www-authenticate': `DPoP error="${error}"`,
        ...(error === 'use_dpop_nonce' ? { 'dpop-nonce': state.nonce } : {}),
      });
      res.end(error);
    };
    if (!auth.startsWith('DPoP ') || auth.slice(5) !== token) return deny('invalid_token');
    const r = await verifier.verify({
      method: req.method ?? 'GET',
      url,
      proof: req.headers.dpop,
      accessToken: token,
      expectedJkt: jkt,
      nonce: state.nonce,
    });
    if (!r.ok) return deny(r.error);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  return state;
}

// Both software algorithms: ES256 (the default for the dpop role) and EdDSA.
for (const algorithm of ['ES256', 'EdDSA'] as const) {
  describe(`DPoP (RFC 9449) with a Briefcase ${algorithm} key (remote MCP AC 6)`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'bc-dpop-'));
    const key: DpopKey = SoftwareSigner.create(dir, 'dpop', randomBytes(32), algorithm);
    const token = `at_${randomBytes(16).toString('hex')}`;
    let rs: ReturnType<typeof resourceServer>;
    let base = '';

    before(async () => {
      rs = resourceServer(
        token,
        await calculateJwkThumbprint(key.publicJwk as Parameters<typeof calculateJwkThumbprint>[0]),
      );
      await new Promise<void>((r) => rs.server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(rs.server.address() as { port: number }).port}`;
    });
    after(() => {
      rs.server.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('makes proofs with htm, htu without query, iat, jti and ath', async () => {
      const proof = await createProof(key, { htm: 'post', htu: `${base}/mcp?x=1#f`, accessToken: token });
      const header = decodeProtectedHeader(proof);
      const claims = decodeJwt(proof);
      assert.equal(header.typ, 'dpop+jwt');
      assert.equal(header.alg, algorithm);
      assert.deepEqual(header.jwk, key.publicJwk);
      assert.equal(claims.htm, 'POST');
      assert.equal(claims.htu, `${base}/mcp`);
      assert.equal(typeof claims.iat, 'number');
      assert.notEqual(claims.jti, decodeJwt(await createProof(key, { htm: 'POST', htu: base })).jti);
      assert.ok(claims.ath);
    });

    it('retries exactly once when the server asks for a nonce, and gets through', async () => {
      const before = rs.requests;
      const f = dpopFetch(key);
      const r = await f(`${base}/mcp`, { method: 'POST', headers: { authorization: `DPoP ${token}` }, body: '{}' });
      assert.equal(r.status, 200);
      assert.equal(rs.requests - before, 2, 'one refused for the nonce, one retry');
      const again = await f(`${base}/mcp`, { method: 'POST', headers: { authorization: `DPoP ${token}` }, body: '{}' });
      assert.equal(again.status, 200);
      assert.equal(rs.requests - before, 3, 'the nonce is remembered');
    });

    it('refuses a replayed proof, a proof for another URL or method, and a token without its proof', async () => {
      const send = (path: string, method: string, headers: Record<string, string>) =>
        fetch(`${base}${path}`, { method, headers: { authorization: `DPoP ${token}`, ...headers } });
      const proof = await createProof(key, { htm: 'POST', htu: `${base}/mcp`, accessToken: token, nonce: rs.nonce });
      assert.equal((await send('/mcp', 'POST', { dpop: proof })).status, 200);
      const replay = await send('/mcp', 'POST', { dpop: proof });
      assert.equal(replay.status, 401);
      assert.match(replay.headers.get('www-authenticate') ?? '', /replayed_proof/);

      const elsewhere = await createProof(key, {
        htm: 'POST',
        htu: `${base}/other`,
        accessToken: token,
        nonce: rs.nonce,
      });
      assert.match(
        (await send('/mcp', 'POST', { dpop: elsewhere })).headers.get('www-authenticate') ?? '',
        /wrong_url/,
      );
      const otherMethod = await createProof(key, {
        htm: 'GET',
        htu: `${base}/mcp`,
        accessToken: token,
        nonce: rs.nonce,
      });
      assert.match(
        (await send('/mcp', 'POST', { dpop: otherMethod })).headers.get('www-authenticate') ?? '',
        /wrong_method/,
      );
      const noProof = await send('/mcp', 'POST', {});
      assert.match(noProof.headers.get('www-authenticate') ?? '', /missing_proof/);

      // A proof by another key, for a token bound to this one.
      const other = SoftwareSigner.loadOrCreate(mkdtempSync(join(tmpdir(), 'bc-dpop2-')), 'dpop', randomBytes(32));
      const stolen = await createProof(other, { htm: 'POST', htu: `${base}/mcp`, accessToken: token, nonce: rs.nonce });
      assert.match((await send('/mcp', 'POST', { dpop: stolen })).headers.get('www-authenticate') ?? '', /wrong_key/);
    });

    it('retries a token request once when the authorization server answers use_dpop_nonce (RFC 9449 §8)', async () => {
      let calls = 0;
      const nonces: unknown[] = [];
      const as = createServer((req, res) => {
        calls++;
        nonces.push(decodeJwt(String(req.headers.dpop)).nonce);
        if (calls === 1) {
          res.writeHead(400, { 'content-type': 'application/json', 'dpop-nonce': 'n-1' });
          res.end('{"error":"use_dpop_nonce"}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"access_token":"x","token_type":"DPoP"}');
      });
      await new Promise<void>((r) => as.listen(0, '127.0.0.1', r));
      try {
        const url = `http://127.0.0.1:${(as.address() as { port: number }).port}/token`;
        const r = await dpopFetch(key)(url, { method: 'POST', body: 'grant_type=refresh_token' });
        assert.equal(r.status, 200);
        assert.deepEqual(nonces, [undefined, 'n-1']);
      } finally {
        as.close();
      }
    });
  });
}
