import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers.ts';

const SUITE = join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const CLIENT = `${process.execPath} ${join(ROOT, 'packages/oauth/bin/conformance-client.ts')}`;

function conformance(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const p = spawn(
      process.execPath,
      [SUITE, 'client', ...args, '--command', CLIENT, '-o', mkdtempSync(join(tmpdir(), 'bc-cc-'))],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          NO_COLOR: '1',
          // The client ID metadata document URL the suite's authorization server knows (CIMD);
          // a real Briefcase configures the URL where its document is published.
          BRIEFCASE_CLIENT_METADATA_URL: 'https://conformance-test.local/client-metadata.json',
        },
      },
    );
    let output = '';
    p.stdout.on('data', (c) => (output += c));
    p.stderr.on('data', (c) => (output += c));
    p.once('exit', (code) => resolve({ code, output }));
  });
}

/**
 * MCP authorization, client side (remote MCP issue, AC 5; FR-3): the official conformance
 * suite's auth scenarios against the Briefcase's OAuth client (packages/oauth).
 */
describe('MCP client conformance: authorization', () => {
  it('passes every 2025-11-25 and 2025-06-18 auth scenario', async () => {
    const r = await conformance(['--suite', 'auth']);
    assert.equal(r.code, 0, r.output.slice(-3000));
    assert.match(r.output, /Total: \d+ passed, 0 failed, 0 warnings/);
    for (const s of [
      'metadata-default',
      'basic-cimd',
      'scope-step-up',
      'pre-registration',
      'token-endpoint-auth-none',
    ]) {
      assert.match(r.output, new RegExp(`✓ auth/${s}:`), s);
    }
  });

  it('passes the draft and 2025-03-26 back-compatibility scenarios', async () => {
    for (const scenario of [
      'auth/resource-mismatch',
      'auth/offline-access-scope',
      'auth/offline-access-not-supported',
      'auth/2025-03-26-oauth-metadata-backcompat',
      'auth/2025-03-26-oauth-endpoint-fallback',
    ]) {
      const r = await conformance(['--scenario', scenario]);
      assert.equal(r.code, 0, `${scenario}:\n${r.output.slice(-2000)}`);
      assert.match(r.output, /OVERALL: PASSED/, scenario);
    }
  });

  it('fails only the extension scenarios listed, with reasons, in the expected-failures file', async () => {
    const baseline = join(ROOT, 'test/conformance/expected-failures-client.yml');
    for (const scenario of ['auth/client-credentials-jwt', 'auth/client-credentials-basic']) {
      const r = await conformance(['--scenario', scenario, '--expected-failures', baseline]);
      assert.equal(r.code, 0, `${scenario}:\n${r.output.slice(-2000)}`);
    }
  });
});
