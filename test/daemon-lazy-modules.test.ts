// Issue 13: the daemon's resident memory. What the call path does not use is imported on first
// use, not at start-up: checked on the module graph of a real daemon that started and answered a
// call (figures: docs/benchmarks.md § Issue 13).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cli, daemonRequest, startDaemon, tempHome, token } from './helpers.ts';

/** Records every module the process resolves, printed on exit (as apps/cli/src/startup.test.ts). */
const RECORDER = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.add(r.url); return r; } });
process.on('exit', () => process.stderr.write('\\nMODULES ' + JSON.stringify([...seen]) + '\\n'));
`)}`;

const LAZY: [string, RegExp][] = [
  ['viem (x402 rail, wallet creation)', /node_modules\/(viem|ox)\//],
  ['@x402/* (x402 rail)', /node_modules\/@x402\//],
  ['the LND client (L402 rail)', /node_modules\/(bolt11|bitcoinjs-lib)\//],
  ['@simplewebauthn/server (passkey ceremonies)', /node_modules\/@simplewebauthn\//],
  ['dbus-next (desktop notifications)', /node_modules\/@jellybrick\/dbus-next\//],
  ['the MCP SDK client (remote servers)', /@modelcontextprotocol\/sdk\/dist\/esm\/client\//],
  ['QuickJS (runs in the code-tool workers)', /node_modules\/quickjs-emscripten/],
];

describe('the daemon loads on first use what the call path does not need (issue 13)', () => {
  const { home, cleanup } = tempHome();
  after(cleanup);

  it('a started daemon that answered a call has not imported the payment rails, WebAuthn, D-Bus, the MCP client or QuickJS', async () => {
    assert.equal(cli(home, ['init', '--master-key', 'file']).code, 0);
    const daemon = await startDaemon(home, [], { NODE_OPTIONS: `--import ${RECORDER}` });
    const body = JSON.stringify({ tool: 'echo', args: { text: 'hello' } });
    const r = await daemonRequest(home, 'POST', '/v1/agent/tools/call', token(home, 'agent'), body);
    assert.equal(JSON.parse(r.body).ok, true, r.body);
    await daemon.stop();
    const line = daemon
      .output()
      .split('\n')
      .find((l) => l.startsWith('MODULES '));
    assert.ok(line, `the recorder printed nothing:\n${daemon.output()}`);
    const modules = JSON.parse(line.slice('MODULES '.length)) as string[];
    assert.ok(
      modules.some((m) => m.endsWith('/apps/briefcased/src/pipeline/pipeline.ts')),
      'the recorder saw the daemon',
    );
    const loaded = LAZY.filter(([, re]) => modules.some((m) => re.test(m))).map(([what]) => what);
    assert.deepEqual(loaded, [], 'loaded at start-up although no call used them');
  });
});
