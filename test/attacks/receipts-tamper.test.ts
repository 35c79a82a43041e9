import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, cliJson, startDaemon } from '../helpers.ts';
import {
  calls,
  copyOf,
  pristine,
  readRecords,
  tryStart,
  verifyAllWays,
  withDb,
  writeRechained,
  type Pristine,
  type Verify,
} from './lib/receipts-tamper.ts';

/**
 * Issue 8 class 7: receipts rewritten without any key. The attacker can write the data directory
 * (the database, the anchor) but holds neither the receipts nor the identity private key. Each
 * attack must show in `receipts verify` (with the local keys, --public-key and --device) and make
 * the daemon refuse to start, except where the docs say it cannot (a whole-directory rollback).
 */
describe('attack: receipts rewritten by the data-directory attacker (issue 8 class 7)', () => {
  let p: Pristine;
  const cleanups: (() => void)[] = [];
  const attack = () => {
    const c = copyOf(p);
    cleanups.push(c.cleanup);
    return c.home;
  };
  before(async () => {
    p = await pristine();
  });
  after(() => {
    for (const c of cleanups) c();
    p?.cleanup();
  });

  /**
   * Every way of verifying the local log fails, an offline export warns (and, unless
   * `fileVerifies`, the exported file fails on its own too), and the daemon refuses to start.
   */
  async function assertCaught(home: string, reason: RegExp, fileVerifies = false): Promise<void> {
    for (const [how, r] of Object.entries(verifyAllWays(p, home))) {
      assert.equal(r.ok, false, `receipts verify (${how}) accepted the altered log`);
      assert.equal(r.code, 1);
      assert.match(r.reason ?? '', reason, `receipts verify (${how})`);
    }
    const out = join(home, '..', 'offline.jsonl');
    const exporting = cliJson<{ warning?: string }>(home, ['receipts', 'export', '--out', out]);
    assert.match(exporting.json.warning ?? '', /does not verify|missing|not a receipts anchor/);
    const exported = cliJson<Verify>(home, ['receipts', 'verify', out, '--device', p.deviceId]);
    assert.equal(exported.json.ok, fileVerifies, 'the offline export file alone');
    const start = await tryStart(home);
    assert.equal(start.started, false, 'the daemon started on an altered log');
    assert.match(start.output, /does not extend what this Briefcase last signed[\s\S]*--accept-altered-receipts/);
    assert.match(start.output, /\[receipts_altered\]/);
  }

  it('rewrite every body, recompute the whole chain, delete all checkpoints: caught', async () => {
    const home = attack();
    withDb(home, (db) => {
      const records = readRecords(db).map((r) =>
        r.kind === 'tool_call' ? { ...r, body: { ...r.body, forged: true } } : r,
      );
      writeRechained(db, records);
      db.exec('DELETE FROM checkpoints');
    });
    await assertCaught(home, /missing \(deleted\)|not covered by a signed checkpoint/);

    // The loud escape hatch starts anyway, says so in a receipt, and the log verifies again with a notice.
    const accepted = await tryStart(home, ['--accept-altered-receipts']);
    assert.equal(accepted.started, true, accepted.output);
    const r = cliJson<Verify & { notices: string[] }>(home, ['receipts', 'verify', '--device', p.deviceId]);
    assert.equal(r.json.ok, true, JSON.stringify(r.json));
    assert.match(r.json.notices.join('\n'), /started with --accept-altered-receipts/);
    assert.equal((await tryStart(home)).started, true, 'a re-anchored log starts without the flag');
    // Whoever kept an earlier export still sees that the log no longer extends it.
    const now = join(home, '..', 'now.jsonl');
    assert.equal(cli(home, ['receipts', 'export', '--out', now]).code, 0);
    const ext = cliJson<Verify>(home, ['receipts', 'verify', now, '--extends', p.earlierExport]);
    assert.equal(ext.json.ok, false);
  });

  it('delete a middle range together with its checkpoints and renumber: caught', async () => {
    const home = attack();
    withDb(home, (db) => {
      writeRechained(
        db,
        readRecords(db).filter((r) => r.seq < 5 || r.seq > 9),
      );
      db.exec('DELETE FROM checkpoints WHERE seq >= 5');
    });
    await assertCaught(home, /missing \(deleted\)|not covered by a signed checkpoint/);
  });

  it('delete the tail together with its checkpoints: caught', async () => {
    const home = attack();
    withDb(home, (db) => {
      const keep = (db.prepare('SELECT seq FROM checkpoints ORDER BY seq LIMIT 1 OFFSET 1').get() as { seq: number })
        .seq;
      db.prepare('DELETE FROM receipts WHERE seq > ?').run(keep);
      db.prepare('DELETE FROM checkpoints WHERE seq > ?').run(keep);
    });
    await assertCaught(home, /truncated|missing/);
  });

  it('delete the tail with its checkpoints and make an anchor from the last remaining checkpoint: caught', async () => {
    const home = attack();
    withDb(home, (db) => {
      const cp = db.prepare('SELECT * FROM checkpoints ORDER BY seq LIMIT 1 OFFSET 1').get() as { seq: number };
      db.prepare('DELETE FROM receipts WHERE seq > ?').run(cp.seq);
      db.prepare('DELETE FROM checkpoints WHERE seq > ?').run(cp.seq);
      // The anchor file holds a checkpoint: the attacker writes one from the database's own rows.
      const anchorPath = join(home, 'receipts.anchor');
      const old = existsSync(anchorPath)
        ? (JSON.parse(readFileSync(anchorPath, 'utf8')) as Record<string, unknown>)
        : {};
      const checkpoint = { v: 2, ...cp };
      writeFileSync(
        anchorPath,
        JSON.stringify({
          ...old,
          checkpoint,
          key_id: (cp as { key_id?: string }).key_id,
          sig: (cp as { sig?: string }).sig,
        }),
      );
    });
    // The exported file alone is a shorter consistent log: only the anchor's signature tells.
    await assertCaught(home, /no valid anchor signature/, true);
  });

  it('empty the log: caught', async () => {
    const home = attack();
    withDb(home, (db) => db.exec('DELETE FROM receipts; DELETE FROM checkpoints'));
    await assertCaught(home, /truncated|empty|missing/);
  });

  it('delete one checkpoint from the middle: caught', async () => {
    const home = attack();
    withDb(home, (db) =>
      db.exec('DELETE FROM checkpoints WHERE rowid = (SELECT rowid FROM checkpoints ORDER BY seq LIMIT 1 OFFSET 1)'),
    );
    await assertCaught(home, /is missing \(deleted\)/);
  });

  it('reorder or replace checkpoints in an export: caught', () => {
    const lines = readFileSync(p.earlierExport, 'utf8').trimEnd().split('\n');
    const cps = lines
      .map((l, i) => [l, i] as const)
      .filter(([l]) => l.startsWith('{"type":"checkpoint"'))
      .map(([, i]) => i);
    assert.ok(cps.length >= 3);
    const swapped = [...lines];
    [swapped[cps[1]!], swapped[cps[2]!]] = [lines[cps[2]!]!, lines[cps[1]!]!];
    const replaced = [...lines];
    replaced[cps[1]!] = lines[cps[0]!]!; // a valid signed checkpoint, in another's place
    for (const [name, edited] of [
      ['reordered', swapped],
      ['replaced', replaced],
    ] as const) {
      const file = join(p.home, '..', `${name}.jsonl`);
      writeFileSync(file, `${edited.join('\n')}\n`);
      for (const trust of [[], ['--device', p.deviceId], ['--public-key', p.publicKeyFile]]) {
        const r = cliJson<Verify>(p.home, ['receipts', 'verify', file, ...trust]);
        assert.equal(r.json.ok, false, `${name} checkpoints verified (${trust.join(' ') || 'local keys'})`);
        assert.match(r.json.reason ?? '', /follows|does not chain|comes first/);
      }
    }
  });

  it('delete the anchor: the daemon refuses, and local verify says the anchor is missing', async () => {
    const home = attack();
    rmSync(join(home, 'receipts.anchor'), { force: true });
    const r = cliJson<Verify>(home, ['receipts', 'verify']);
    assert.equal(r.json.ok, false);
    assert.match(r.json.reason ?? '', /receipts\.anchor is missing/);
    const start = await tryStart(home);
    assert.equal(start.started, false, 'the daemon started without its anchor');
    assert.match(start.output, /receipts\.anchor is missing, but the log holds \d+ records/);
  });

  it('forge records after a clean stop (as if a run had crashed): caught', async () => {
    const home = attack();
    withDb(home, (db) => {
      const records = readRecords(db);
      const last = records.at(-1)!;
      writeRechained(db, [
        ...records,
        { ...last, kind: 'tool_call', actor: 'agent', body: { tool: 'echo', forged: true } },
      ]);
    });
    for (const [how, r] of Object.entries(verifyAllWays(p, home))) {
      assert.equal(r.ok, false, `receipts verify (${how}) accepted a forged tail`);
      assert.match(r.reason ?? '', /not covered by a signed checkpoint/);
    }
    const start = await tryStart(home);
    assert.equal(start.started, false, 'the daemon took a forged tail for a crashed run');
    assert.match(start.output, /added after the daemon stopped cleanly/);
  });

  it('delete a middle checkpoint while the daemon runs: caught after it stops', async () => {
    const home = attack();
    const d = await startDaemon(home);
    withDb(home, (db) =>
      db.exec('DELETE FROM checkpoints WHERE rowid = (SELECT rowid FROM checkpoints ORDER BY seq LIMIT 1 OFFSET 2)'),
    );
    await calls(home, 5, 'running');
    await d.stop();
    const r = cliJson<Verify>(home, ['receipts', 'verify', '--device', p.deviceId]);
    assert.equal(r.json.ok, false, 'a checkpoint deleted under a running daemon went unnoticed');
    assert.match(r.json.reason ?? '', /is missing \(deleted\)/);
    assert.equal((await tryStart(home)).started, false);
  });

  it('roll the whole data directory back (database and anchor): undetectable locally, caught by --extends', async () => {
    const home = attack();
    const d = await startDaemon(home);
    await calls(home, 3, 'later');
    const later = join(home, '..', 'later.jsonl'); // kept elsewhere by the owner
    assert.equal(cli(home, ['receipts', 'export', '--out', later]).code, 0);
    await d.stop();
    for (const f of ['briefcase.db', 'briefcase.db-wal', 'briefcase.db-shm', 'receipts.anchor']) {
      rmSync(join(home, f), { force: true });
      if (existsSync(join(p.home, f))) copyFileSync(join(p.home, f), join(home, f));
    }
    // The limit: an older consistent state of every file in the directory is just that.
    assert.equal(cliJson<Verify>(home, ['receipts', 'verify']).json.ok, true);
    const rolledBack = join(home, '..', 'rolled-back.jsonl');
    assert.equal(cli(home, ['receipts', 'export', '--out', rolledBack]).code, 0);
    const r = cliJson<Verify>(home, ['receipts', 'verify', rolledBack, '--extends', later, '--device', p.deviceId]);
    assert.equal(r.code, 1);
    assert.equal(r.json.ok, false);
    assert.match(r.json.reason ?? '', /not in this export.*rolled back or truncated/);
    // A genuine later export does extend the earlier one.
    const ok = cliJson<Verify>(home, ['receipts', 'verify', later, '--extends', p.earlierExport]);
    assert.equal(ok.json.ok, true, JSON.stringify(ok.json));
  });

  it('not an attack: a crashed run leaves an unsigned tail, which the next start signs with a recovery receipt', async () => {
    const home = attack();
    // Signing only every 100 records from now on, so the crash leaves records unsigned.
    const config = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(
      join(home, 'config.json'),
      JSON.stringify({ ...config, receipts: { checkpoint_every: 100, checkpoint_seconds: 3600 } }),
    );
    const d = await startDaemon(home);
    await calls(home, 3, 'crash');
    await d.kill9();
    const before = cliJson<Verify>(home, ['receipts', 'verify']);
    assert.equal(before.json.ok, false);
    assert.match(before.json.reason ?? '', /not covered by a signed checkpoint.*daemon stopped without signing/);
    const start = await tryStart(home);
    assert.equal(start.started, true, start.output);
    const after = cliJson<Verify & { notices: string[] }>(home, ['receipts', 'verify', '--device', p.deviceId]);
    assert.equal(after.json.ok, true, JSON.stringify(after.json));
    assert.match(after.json.notices.join('\n'), /written by a run that stopped before signing them/);
  });
});

describe('receipt exports sign the head (issue 8 class 7)', () => {
  let p: Pristine;
  before(async () => {
    p = await pristine();
  });
  after(() => p?.cleanup());

  it("a running daemon's export ends on a checkpoint signed at exported_at; a stopped daemon's export verifies too", async () => {
    const d = await startDaemon(p.home);
    await calls(p.home, 3, 'export');
    const live = join(p.home, '..', 'live.jsonl');
    assert.equal(cli(p.home, ['receipts', 'export', '--out', live]).code, 0);
    await d.stop();
    const lines = readFileSync(live, 'utf8').trimEnd().split('\n');
    const header = JSON.parse(lines[0]!) as { exported_at: string };
    const r = cliJson<Verify & { head: { seq: number; signed_at: string } }>(p.home, [
      'receipts',
      'verify',
      live,
      '--device',
      p.deviceId,
      '--extends',
      p.earlierExport,
    ]);
    assert.equal(r.json.ok, true, JSON.stringify(r.json));
    assert.equal(r.json.head.signed_at, header.exported_at);
    assert.equal(r.json.head.seq, r.json.count);

    const offline = join(p.home, '..', 'offline.jsonl');
    assert.equal(cli(p.home, ['receipts', 'export', '--out', offline]).code, 0);
    const o = cliJson<Verify>(p.home, ['receipts', 'verify', offline, '--device', p.deviceId, '--extends', live]);
    assert.equal(o.json.ok, true, JSON.stringify(o.json));
  });
});
