import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const BIN = resolve(import.meta.dirname, '../bin/briefcase.js');

/** Records every module a run resolves (a module hook loaded before the CLI), printed on exit. */
const RECORDER = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.add(r.url); return r; } });
process.on('exit', () => process.stderr.write('\\nMODULES ' + JSON.stringify([...seen]) + '\\n'));
`)}`;

function modulesOf(args: string[]): string[] {
  const base = mkdtempSync(join(tmpdir(), 'bc-cli-'));
  try {
    const r = spawnSync(process.execPath, ['--import', RECORDER, BIN, ...args], {
      env: { ...process.env, BRIEFCASE_HOME: join(base, 'h') },
      encoding: 'utf8',
    });
    const line = r.stderr.split('\n').find((l) => l.startsWith('MODULES '));
    assert.ok(line, r.stderr);
    return JSON.parse(line.slice('MODULES '.length)) as string[];
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

/**
 * Start-up time (issue 8 criterion 6) as a property of the module graph rather than of a clock:
 * `--version` and the daemon commands load neither the daemon, nor the schema library, nor Cedar,
 * PKCS#11, the keychain or the MCP SDK. (Timings: bench/cli-startup.ts.)
 */
describe('the CLI loads only what a command uses', () => {
  const HEAVY = [
    /apps\/briefcased\/src\/(?!paths\.ts|version\.ts)/,
    /node_modules\/zod\//,
    /packages\/(policy|keys|vault|receipts|oauth|telemetry|crypto)\//,
    /@modelcontextprotocol|node_modules\/@cedar-policy/,
    /apps\/mcp-gateway\//,
  ];
  for (const args of [
    ['--version'],
    ['approvals', 'list'],
    ['tools', 'list'],
    ['status'],
    ['stop'],
    ['secrets', 'list'],
    ['client', 'list'],
  ]) {
    it(`briefcase ${args.join(' ')}`, () => {
      const modules = modulesOf(args);
      assert.ok(
        modules.some((m) => m.endsWith('/apps/cli/src/main.ts')),
        'the recorder saw the CLI',
      );
      for (const heavy of HEAVY) {
        const hit = modules.find((m) => heavy.test(m));
        assert.equal(hit, undefined, `briefcase ${args.join(' ')} loaded ${hit}`);
      }
    });
  }
});

/**
 * Issue 11: `briefcase --help` answers from the pre-rendered command table alone — not even
 * commander — and that text is exactly what commander renders from main.ts, so it cannot drift.
 */
describe('briefcase --help is pre-rendered', () => {
  it('loads nothing of ours but the bin and the help text', () => {
    for (const flag of ['--help', '-h']) {
      const ours = modulesOf([flag]).filter((m) => m.startsWith('file:'));
      assert.deepEqual(
        ours.map((m) => m.slice(m.indexOf('/apps/') + 1)),
        ['apps/cli/bin/briefcase.js', 'apps/cli/src/help-text.ts'],
        `briefcase ${flag} loaded ${ours.join(', ')}`,
      );
    }
  });
  it("prints exactly commander's rendering of the command table (else: node scripts/cli-help.ts)", async () => {
    const { renderHelp } = await import('../../../scripts/cli-help.ts');
    const fast = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    assert.equal(fast.status, 0, fast.stderr);
    assert.equal(fast.stdout, renderHelp(), 'apps/cli/src/help-text.ts is stale: run `node scripts/cli-help.ts`');
  });
});

/**
 * Issue 13: every agent host spawns its own `briefcase mcp`, so the stdio gateway loads only its
 * call path. The MCP SDK's server (its zod schemas, Ajv, the JSON-Schema converter), the
 * protocol's zod schemas, the HTTP transport and the daemon cost ~50 MiB resident per gateway.
 */
describe('the stdio gateway loads only its call path (issue 13)', () => {
  it('briefcase mcp', () => {
    const modules = modulesOf(['mcp']);
    assert.ok(
      modules.some((m) => m.endsWith('/apps/mcp-gateway/src/stdio-server.ts')),
      'the recorder saw the stdio gateway',
    );
    for (const heavy of [
      /node_modules\/zod\//,
      /@modelcontextprotocol/,
      /node_modules\/(ajv|zod-to-json-schema|@hono|hono|express)\//,
      /apps\/mcp-gateway\/src\/(http|server)\.ts/,
      /packages\/protocol\/src\/(index|api|tool|manifest|access)\.ts/,
      /apps\/briefcased\/src\/(?!paths\.ts|version\.ts|os-groups\.ts)/,
      /packages\/(policy|keys|vault|receipts|oauth|crypto)\//,
    ]) {
      const hit = modules.find((m) => heavy.test(m));
      assert.equal(hit, undefined, `briefcase mcp loaded ${hit}`);
    }
  });
});
