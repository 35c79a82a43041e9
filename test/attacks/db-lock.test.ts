import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  cli,
  cliJson,
  healthy,
  receiptRecords,
  sleep,
  startDaemon,
  stdioClient,
  tempHome,
  type DaemonProcess,
} from '../helpers.ts';
import { callAs, patchConfig, startUpstream, tally, writeConnector, type Outcome, type Upstream } from './lib/calls.ts';
import { holdWriteLock } from './lib/db-lock.ts';

const CANARY = 'UPSTREAM-RESULT-CANARY';

/** 10 paid calls (reserve before running) and 10 free reads (receipt after running), at once. */
function twentyCalls(clients: Client[]): { all: Promise<Outcome[]>; settled: () => number } {
  let settled = 0;
  const calls = Array.from({ length: 20 }, (_, i) => {
    const call =
      i % 2 === 0
        ? callAs(clients[i % clients.length]!, 'shop.pay', { item: `p${i}` })
        : callAs(clients[i % clients.length]!, 'api.read', { item: `r${i}` });
    return call.finally(() => settled++);
  });
  return { all: Promise.all(calls), settled: () => settled };
}

const toolCalls = (home: string, tool: string) =>
  receiptRecords(home).filter((r) => r.kind === 'tool_call' && r.body.tool === tool);

/**
 * Class 8 of issue 8: another process holds the database's write lock (12 s made the daemon
 * exit). The daemon keeps serving, waits for the lock without blocking its event loop, answers
 * every call, and receipts each completed call exactly once.
 */
describe('attack: a write lock held by another process', () => {
  const { home, cleanup } = tempHome();
  let upstream: Upstream;
  let daemon: DaemonProcess;
  const clients: Client[] = [];

  before(async () => {
    upstream = await startUpstream(`{"answer":"${CANARY}"}`);
    assert.equal(cli(home, ['init']).code, 0);
    writeConnector(home, upstream, 'shop.pay', { category: 'payment', estimate: 1 });
    writeConnector(home, upstream, 'api.read', { category: 'read', estimate: 0 });
    // Generous so that a slow machine cannot turn the 12 s lock into a timeout.
    patchConfig(home, { limits: { db_lock_wait_seconds: 120 } });
    daemon = await startDaemon(home);
    clients.push(await stdioClient(home), await stdioClient(home));
  });
  after(async () => {
    for (const c of clients) await c.close();
    await daemon?.stop();
    upstream?.close();
    cleanup();
  });

  it('12 s of lock: the daemon answers health throughout, and all 20 calls complete, receipted once', async () => {
    const lock = await holdWriteLock(join(home, 'briefcase.db'));
    const calls = twentyCalls(clients);
    try {
      for (let i = 0; i < 12; i++) {
        await sleep(1000);
        assert.equal(await healthy(home), true, `health answers ${i + 1} s into the lock`);
      }
      assert.equal(calls.settled(), 0, 'no call returned before its receipt could be written');
    } finally {
      await lock.release();
    }
    const outcomes = await calls.all;
    assert.deepEqual(tally(outcomes), { ok: 20 });
    assert.ok(outcomes.filter((o) => o.code === 'ok').every((o) => o.text.includes(CANARY)));
    assert.equal(daemon.proc.exitCode, null, 'the daemon is still running');
    assert.equal(upstream.hits('/shop.pay'), 10);
    const receipted = [...toolCalls(home, 'shop.pay'), ...toolCalls(home, 'api.read')];
    assert.equal(receipted.length, 20, 'exactly one tool_call receipt per completed call');
    assert.equal(new Set(outcomes.map((o) => o.receipt)).size, 20);
    assert.equal(cliJson<{ ok: boolean }>(home, ['receipts', 'verify']).json.ok, true);
  });

  it('a receipt that cannot be written fails the call closed: the agent does not get the result', async () => {
    // Someone with write access makes the receipt table refuse inserts.
    const db = new DatabaseSync(join(home, 'briefcase.db'));
    db.exec('PRAGMA busy_timeout = 10000');
    db.exec("CREATE TRIGGER no_receipts BEFORE INSERT ON receipts BEGIN SELECT RAISE(ABORT, 'no'); END");
    const hitsBefore = upstream.hits('/api.read');
    const readsBefore = toolCalls(home, 'api.read').length;
    try {
      const outcomes = await Promise.all([
        callAs(clients[0]!, 'api.read', { item: 'unrecorded' }),
        callAs(clients[1]!, 'shop.pay', { item: 'unrecorded' }),
      ]);
      assert.deepEqual(tally(outcomes), { unavailable: 2 });
      for (const o of outcomes) {
        assert.doesNotMatch(o.text, new RegExp(CANARY), 'no result without a receipt');
        assert.equal(o.receipt, undefined);
      }
      // Limit, stated plainly: the read reached the upstream before its receipt failed.
      assert.equal(upstream.hits('/api.read'), hitsBefore + 1);
      assert.equal(await healthy(home), true);
    } finally {
      db.exec('DROP TRIGGER no_receipts');
      db.close();
    }
    const after = await callAs(clients[0]!, 'api.read', { item: 'recorded' });
    assert.equal(after.code, 'ok');
    assert.match(after.text, new RegExp(CANARY));
    assert.equal(toolCalls(home, 'api.read').length, readsBefore + 1, 'only the recorded call has a receipt');
    assert.equal(cliJson<{ ok: boolean }>(home, ['receipts', 'verify']).json.ok, true);
  });
});

describe('attack: a write lock held longer than the daemon waits', () => {
  const { home, cleanup } = tempHome();
  let upstream: Upstream;
  let daemon: DaemonProcess;
  const clients: Client[] = [];

  before(async () => {
    upstream = await startUpstream(`{"answer":"${CANARY}"}`);
    assert.equal(cli(home, ['init']).code, 0);
    writeConnector(home, upstream, 'shop.pay', { category: 'payment', estimate: 1 });
    writeConnector(home, upstream, 'api.read', { category: 'read', estimate: 0 });
    patchConfig(home, { limits: { db_lock_wait_seconds: 1 } });
    daemon = await startDaemon(home);
    clients.push(await stdioClient(home), await stdioClient(home));
  });
  after(async () => {
    for (const c of clients) await c.close();
    await daemon?.stop();
    upstream?.close();
    cleanup();
  });

  it('calls fail closed with unavailable and a clear message, are logged, and the daemon recovers', async () => {
    const lock = await holdWriteLock(join(home, 'briefcase.db'));
    let outcomes: Outcome[];
    try {
      // The lock is held until every call has been answered.
      outcomes = await twentyCalls(clients).all;
      assert.equal(await healthy(home), true);
    } finally {
      await lock.release();
    }
    assert.deepEqual(tally(outcomes), { unavailable: 20 });
    for (const o of outcomes) {
      assert.match(o.text, /locked by another process/);
      assert.doesNotMatch(o.text, new RegExp(CANARY));
    }
    assert.equal(upstream.hits('/shop.pay'), 0, 'a paid call does not run without its reservation');
    const log = readFileSync(join(home, 'logs', 'daemon.log'), 'utf8');
    assert.equal(log.split('\n').filter((l) => l.includes('receipt append failed')).length, 20, 'each call logged');

    assert.equal(daemon.proc.exitCode, null);
    assert.equal((await callAs(clients[0]!, 'shop.pay', { item: 'after' })).code, 'ok');
    assert.equal(toolCalls(home, 'shop.pay').length, 1);
    assert.equal(toolCalls(home, 'api.read').length, 0);
    assert.equal(cliJson<{ ok: boolean }>(home, ['receipts', 'verify']).json.ok, true);
  });
});
