import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PaymentError } from '../errors.ts';
import type { SpendingGrant } from '../grant.ts';
import type { ReserveInput } from '../ledger.ts';
import { SqliteSpendLedger } from './sqlite-ledger.ts';

const grant = {
  grantId: 'g1',
  limits: [
    {
      rail: 'x402',
      network: 'eip155:1',
      asset: '0xa',
      total: '1000',
      velocity: { amount: '600', count: 3, windowSeconds: 60 },
    },
  ],
} as unknown as SpendingGrant;

const input = (budgetId: string, amount: string, now = 1_000_000): ReserveInput => ({
  grant,
  budgetId,
  rail: 'x402',
  network: 'eip155:1',
  asset: '0xa',
  payee: '0xb',
  amount,
  purpose: 't',
  now,
});

const reason = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PaymentError);
    return e.reason;
  }
  return 'none';
};

test('a budget id is used once: a replay is refused, even after the first was released', () => {
  const l = new SqliteSpendLedger(new DatabaseSync(':memory:'));
  l.reserve(input('b1', '10'));
  assert.equal(
    reason(() => l.reserve(input('b1', '10'))),
    'budget_id_replayed',
  );
  l.finish('b1', { status: 'not_settled', rail: 'x402', network: 'eip155:1', asset: '0xa', payee: '0xb', amount: '0' });
  assert.equal(
    reason(() => l.reserve(input('b1', '10'))),
    'budget_id_replayed',
  );
});

test('total and velocity count reservations and settlements; releases free them; assets are separate', () => {
  const l = new SqliteSpendLedger(new DatabaseSync(':memory:'));
  l.reserve(input('a', '300'));
  l.reserve(input('b', '300'));
  assert.equal(
    reason(() => l.reserve(input('c', '1'))),
    'velocity_exceeded',
  ); // 600 in the window
  l.finish('b', { status: 'not_settled', rail: 'x402', network: 'eip155:1', asset: '0xa', payee: '0xb', amount: '0' });
  l.reserve(input('c', '300'));
  assert.equal(
    reason(() => l.reserve(input('d', '1'))),
    'velocity_exceeded',
  ); // count 3 with a, b(released: no), c → 2; amount 600
  // After the window: velocity frees, the total (1000) still counts a + c = 600.
  l.reserve(input('e', '400', 1_000_000 + 61_000));
  assert.equal(
    reason(() => l.reserve(input('f', '1', 1_000_000 + 122_000))),
    'over_grant_total',
  );
  // A settlement below the reservation counts what was really paid.
  l.finish('e', {
    status: 'settled',
    rail: 'x402',
    network: 'eip155:1',
    asset: '0xa',
    payee: '0xb',
    amount: '399',
    txRef: '0x1',
  });
  l.reserve(input('g', '1', 1_000_000 + 122_000));
  // Another asset in the same grant is refused, never added to this one's total.
  assert.equal(
    reason(() => l.reserve({ ...input('h', '1'), asset: '0xother' })),
    'asset_not_allowed',
  );
});

test('spend is durable across reopening, and an unreadable ledger refuses instead of assuming zero', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-'));
  try {
    const path = join(dir, 'db');
    const first = new DatabaseSync(path);
    new SqliteSpendLedger(first).reserve(input('a', '500'));
    first.close();
    const db = new DatabaseSync(path);
    const l = new SqliteSpendLedger(db);
    assert.equal(l.pending().length, 1);
    assert.equal(
      reason(() => l.reserve(input('b', '600', 1_000_000 + 61_000))),
      'over_grant_total',
    );
    db.close();
    assert.equal(
      reason(() => l.reserve(input('c', '1'))),
      'spend_state_unavailable',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
