import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cli, cliJson, daemonRequest, startDaemon, tempHome, token, type DaemonProcess } from './helpers.ts';

interface Summary {
  seq: number;
  id: string;
  ts: string;
  kind: string;
  tool?: string;
  outcome?: string;
}

/** Issue 11: `briefcase receipts list` as a table and `receipts show` as a detail view; --json kept. */
describe('briefcase receipts list / show (issue 11)', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;
  const ids: Record<string, string> = {};

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home);
    for (const [tool, args] of [
      ['echo', { text: 'view-arg' }],
      ['no.such.tool', {}],
    ] as const) {
      const answer = await daemonRequest(
        home,
        'POST',
        '/v1/agent/tools/call',
        token(home, 'agent'),
        JSON.stringify({ tool, args }),
      );
      const r = JSON.parse(answer.body) as { receipt_id: string };
      ids[tool] = r.receipt_id;
    }
  });
  after(async () => {
    await daemon?.stop();
    cleanup();
  });

  it('lists receipts newest first as a table: time, kind, tool, outcome, id', () => {
    const r = cli(home, ['receipts', 'list']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^TIME \(UTC\)\s+KIND\s+TOOL\s+OUTCOME\s+ID$/);
    const unknown = lines.findIndex((l) => l.includes(ids['no.such.tool']!));
    const echo = lines.findIndex((l) => l.includes(ids.echo!));
    assert.ok(unknown > 0 && echo > unknown, 'newest first');
    assert.match(lines[echo]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+tool_call\s+echo\s+ok\s+r\d+-[0-9a-f]{12}$/);
    assert.match(lines[unknown]!, /tool_call\s+no\.such\.tool\s+unknown_tool/);
  });

  it('filters, pages and keeps --json', () => {
    const json = cliJson<{ receipts: Summary[] }>(home, ['receipts', 'list', '--outcome', 'ok', '--json']);
    assert.equal(json.code, 0);
    assert.ok(json.json.receipts.length >= 1);
    assert.ok(json.json.receipts.every((r) => r.outcome === 'ok'));
    assert.ok(json.json.receipts.some((r) => r.id === ids.echo));
    const one = cliJson<{ receipts: Summary[] }>(home, ['receipts', 'list', '-n', '1', '--json']).json.receipts;
    assert.equal(one.length, 1);
    const older = cliJson<{ receipts: Summary[] }>(home, [
      'receipts',
      'list',
      '--before',
      String(one[0]!.seq),
      '--json',
    ]).json.receipts;
    assert.ok(older.every((r) => r.seq < one[0]!.seq) && older.length > 0);
    const bad = cli(home, ['receipts', 'list', '-n', 'lots']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /limit must be a whole number/);
  });

  it('shows one receipt in full, readable and as JSON', () => {
    const r = cli(home, ['receipts', 'show', ids.echo!]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Receipt ${ids.echo} \\(seq \\d+\\)`));
    for (const field of [
      /time\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/,
      /kind\s+tool_call/,
      /tool\s+echo/,
      /outcome\s+ok/,
      /hash\s+[0-9a-f]{64}/,
    ])
      assert.match(r.stdout, field);
    const json = cliJson<{ id: string; record: { body: { tool: string } } }>(home, [
      'receipts',
      'show',
      ids.echo!,
      '--json',
    ]);
    assert.equal(json.json.id, ids.echo);
    assert.equal(json.json.record.body.tool, 'echo');
    const malformed = cli(home, ['receipts', 'show', 'nope']);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /not a receipt id/);
    const missing = cli(home, ['receipts', 'show', 'r999999-000000000000']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no receipt r999999-000000000000/);
  });
});
