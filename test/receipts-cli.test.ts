import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, cliJson, daemonRequest, startDaemon, tempHome, token } from './helpers.ts';

interface Verify {
  ok: boolean;
  count: number;
  first_bad_seq: number | null;
  reason: string | null;
}

/** AC-1.3 through the CLI: `briefcase receipts verify` on the live database and on exports. */
describe('briefcase receipts verify (AC-1.3)', () => {
  const { home, cleanup } = tempHome();
  const db = () => join(home, 'briefcase.db');
  let total = 0;

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    const d = await startDaemon(home);
    for (let i = 0; i < 8; i++) {
      await daemonRequest(
        home,
        'POST',
        '/v1/agent/tools/call',
        token(home, 'agent'),
        JSON.stringify({ tool: 'echo', args: { text: `n${i}` } }),
      );
    }
    await d.stop(); // a clean stop signs a final checkpoint
    total = cliJson<Verify>(home, ['receipts', 'verify']).json.count;
  });
  after(cleanup);

  it('passes on the untouched log and on its export', () => {
    const live = cliJson<Verify>(home, ['receipts', 'verify']);
    assert.equal(live.code, 0);
    assert.deepEqual(live.json, { ...live.json, ok: true, first_bad_seq: null, reason: null });
    assert.ok(total >= 10);
    const out = join(home, 'x.jsonl');
    assert.equal(cli(home, ['receipts', 'export', '--out', out]).code, 0);
    assert.equal(cliJson<Verify>(home, ['receipts', 'verify', out]).json.ok, true);
  });

  it('names the altered record in the database and exits 1', () => {
    const conn = new DatabaseSync(db());
    const original = (conn.prepare('SELECT record FROM receipts WHERE seq = 3').get() as { record: string }).record;
    conn.prepare('UPDATE receipts SET record = ? WHERE seq = 3').run(original.replace('"n', '"N'));
    conn.close();
    const r = cliJson<Verify>(home, ['receipts', 'verify']);
    assert.equal(r.code, 1);
    assert.equal(r.json.ok, false);
    assert.equal(r.json.first_bad_seq, 3);
    const restore = new DatabaseSync(db());
    restore.prepare('UPDATE receipts SET record = ? WHERE seq = 3').run(original);
    restore.close();
    assert.equal(cliJson<Verify>(home, ['receipts', 'verify']).json.ok, true);
  });

  it('detects a tail truncated below the last checkpoint', () => {
    const out = join(home, 'y.jsonl');
    assert.equal(cli(home, ['receipts', 'export', '--out', out]).code, 0);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    writeFileSync(out, `${lines.slice(0, -2).join('\n')}\n`);
    const r = cliJson<Verify>(home, ['receipts', 'verify', out]);
    assert.equal(r.code, 1);
    assert.equal(r.json.first_bad_seq, total - 1);
    assert.match(r.json.reason ?? '', /truncated/);

    const conn = new DatabaseSync(db());
    conn.prepare('DELETE FROM receipts WHERE seq > ?').run(total - 3);
    conn.close();
    const live = cliJson<Verify>(home, ['receipts', 'verify']);
    assert.equal(live.json.first_bad_seq, total - 2);
  });
});
